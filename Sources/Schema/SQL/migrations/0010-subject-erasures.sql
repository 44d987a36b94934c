-- subject erasures: keyed hashes of erased user ids with the erasure time, the subject key's check value, user_logins by user_id
-- In schema fetchde, where only the schema owner may create: no login can plant either
-- table before the first etl migrate. Grants are in functions/60-subjects.sql.

-- The subject key (keys/subject.key) is registered by its check value, so an etl host can
-- tell that the file it holds is the one the vault hashes erased subjects with.
CREATE TABLE IF NOT EXISTS fetchde.subject_key (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    key_check varchar(64) NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- One row per erased subject: HMAC-SHA-256 of the user id under the subject key (hex),
-- never the id; logins of the subject sent before erased_at are dropped by etl.
CREATE TABLE IF NOT EXISTS fetchde.subject_erasures (
    subject_hash varchar(64) PRIMARY KEY,
    erased_at timestamptz NOT NULL
);
REVOKE ALL ON fetchde.subject_key, fetchde.subject_erasures FROM PUBLIC;

-- Access and erasure requests find a subject's logins without scanning the table.
CREATE INDEX IF NOT EXISTS user_logins_user_id_idx ON public.user_logins (user_id);
