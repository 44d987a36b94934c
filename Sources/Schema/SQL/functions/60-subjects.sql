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
