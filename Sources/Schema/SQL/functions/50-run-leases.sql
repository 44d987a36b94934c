-- One vault retokenize at a time (Retokenizer in Sources/Vault): the run's main session takes
-- the lease, which stays taken while that backend lives (a killed run's lease lapses with its
-- connection). Only vault_admin may take one. Re-applied by every etl migrate.
CREATE OR REPLACE FUNCTION fetchde.take_lease(p_name text) RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
BEGIN
    UPDATE fetchde.run_leases l SET holder_pid = pg_backend_pid()
    WHERE l.name = p_name
      AND (l.holder_pid IS NULL OR l.holder_pid = pg_backend_pid()
           OR NOT EXISTS (SELECT 1 FROM pg_stat_activity a WHERE a.pid = l.holder_pid));
    RETURN FOUND;
END
$fn$;
REVOKE ALL ON FUNCTION fetchde.take_lease(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION fetchde.take_lease(text) TO vault_admin;
