-- Data-subject requests (vault subject export / forget, Sources/Vault/Subject*.swift): exactly
-- the privileges they need. etl_ingest reads the erasure hashes and the subject key's check
-- value (to drop a late login of an erased subject), nothing more. Re-applied by every etl
-- migrate.
REVOKE ALL ON fetchde.subject_key, fetchde.subject_erasures FROM PUBLIC, etl_ingest, vault_admin;
GRANT SELECT ON fetchde.subject_key, fetchde.subject_erasures TO etl_ingest;
GRANT SELECT, INSERT ON fetchde.subject_key TO vault_admin;
GRANT SELECT, INSERT, UPDATE ON fetchde.subject_erasures TO vault_admin;
-- subject forget deletes the subject's rows.
GRANT DELETE ON public.user_logins TO vault_admin;

-- Every tombstone recorded or renewed takes the next seq while its transaction holds the
-- table in ACCESS EXCLUSIVE mode to COMMIT (vault subject forget locks it so first; the lock
-- here makes any other writer do the same). etl batches read the table under ACCESS SHARE,
-- so a tombstone one batch did not see gets a seq above every seq that batch saw, and a later
-- batch finds it by `seq > last seen` (Sources/Pipeline/Load/SubjectErasures.swift). Runs with
-- its owner's rights: writers need no right on the sequence.
CREATE OR REPLACE FUNCTION fetchde.subject_erasure_stamp() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
BEGIN
    LOCK TABLE fetchde.subject_erasures IN ACCESS EXCLUSIVE MODE;
    NEW.seq := nextval('fetchde.subject_erasure_seq');
    RETURN NEW;
END
$fn$;
REVOKE ALL ON FUNCTION fetchde.subject_erasure_stamp() FROM PUBLIC;
DROP TRIGGER IF EXISTS subject_erasure_stamp ON fetchde.subject_erasures;
CREATE TRIGGER subject_erasure_stamp BEFORE INSERT OR UPDATE ON fetchde.subject_erasures
    FOR EACH ROW EXECUTE FUNCTION fetchde.subject_erasure_stamp();
