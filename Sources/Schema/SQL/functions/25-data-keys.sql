-- Every vault entry names a data key that exists, and a data key an entry names stays (what
-- the foreign key pii_vault.dek_id kept until migration 13). One query per inserting or
-- updating statement over its transition table, not one per entry: it locks the data keys the
-- statement's entries name FOR KEY SHARE, as the foreign key did, so a concurrent delete of one
-- waits for the inserting transaction and then fails the check below (or, deleted first, the
-- key is not found here). Violations are foreign_key_violation (23503), as before. They run as
-- the owner: etl_ingest may not lock vault_data_keys rows. Re-applied by every etl migrate.

CREATE OR REPLACE FUNCTION fetchde.require_data_keys() RETURNS trigger
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    named bigint;
    found bigint;
BEGIN
    SELECT count(DISTINCT n.dek_id) INTO named FROM fetchde_new_rows n;
    PERFORM 1 FROM public.vault_data_keys d
    WHERE d.dek_id IN (SELECT n.dek_id FROM fetchde_new_rows n)
    FOR KEY SHARE OF d;
    GET DIAGNOSTICS found = ROW_COUNT;
    IF found < named THEN
        RAISE EXCEPTION 'a vault entry names a data key that does not exist'
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NULL;
END
$fn$;

CREATE OR REPLACE FUNCTION fetchde.keep_data_keys() RETURNS trigger
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    gone record;
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        IF EXISTS (SELECT 1 FROM public.pii_vault) THEN
            RAISE EXCEPTION 'vault entries name the data keys of vault_data_keys'
                USING ERRCODE = 'foreign_key_violation';
        END IF;
        RETURN NULL;
    END IF;
    -- Only keys that are gone (deleted, or renumbered) are looked for among the entries
    -- (pii_vault has no index on dek_id): a rewrap, which keeps every id, looks for none.
    FOR gone IN
        SELECT o.dek_id FROM fetchde_old_rows o
        WHERE NOT EXISTS (SELECT 1 FROM public.vault_data_keys d WHERE d.dek_id = o.dek_id)
    LOOP
        IF EXISTS (SELECT 1 FROM public.pii_vault v WHERE v.dek_id = gone.dek_id) THEN
            RAISE EXCEPTION 'a data key that vault entries name cannot be deleted or renumbered'
                USING ERRCODE = 'foreign_key_violation';
        END IF;
    END LOOP;
    RETURN NULL;
END
$fn$;

-- (Re)creates pii_vault's own triggers: here, and on the copy a vault retokenize swaps in.
CREATE OR REPLACE FUNCTION fetchde.guard_vault_entries() RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $fn$
BEGIN
    DROP TRIGGER IF EXISTS fetchde_forgotten_guard ON public.pii_vault;
    CREATE TRIGGER fetchde_forgotten_guard AFTER INSERT ON public.pii_vault
        REFERENCING NEW TABLE AS fetchde_new_rows FOR EACH STATEMENT EXECUTE FUNCTION fetchde.refuse_forgotten();
    DROP TRIGGER IF EXISTS fetchde_data_key_insert ON public.pii_vault;
    CREATE TRIGGER fetchde_data_key_insert AFTER INSERT ON public.pii_vault
        REFERENCING NEW TABLE AS fetchde_new_rows FOR EACH STATEMENT EXECUTE FUNCTION fetchde.require_data_keys();
    DROP TRIGGER IF EXISTS fetchde_data_key_update ON public.pii_vault;
    CREATE TRIGGER fetchde_data_key_update AFTER UPDATE ON public.pii_vault
        REFERENCING NEW TABLE AS fetchde_new_rows FOR EACH STATEMENT EXECUTE FUNCTION fetchde.require_data_keys();
END
$fn$;
REVOKE ALL ON FUNCTION fetchde.require_data_keys(), fetchde.keep_data_keys(), fetchde.guard_vault_entries() FROM PUBLIC;
SELECT fetchde.guard_vault_entries();

DROP TRIGGER IF EXISTS fetchde_data_keys_delete ON public.vault_data_keys;
CREATE TRIGGER fetchde_data_keys_delete AFTER DELETE ON public.vault_data_keys
    REFERENCING OLD TABLE AS fetchde_old_rows FOR EACH STATEMENT EXECUTE FUNCTION fetchde.keep_data_keys();
DROP TRIGGER IF EXISTS fetchde_data_keys_update ON public.vault_data_keys;
CREATE TRIGGER fetchde_data_keys_update AFTER UPDATE ON public.vault_data_keys
    REFERENCING OLD TABLE AS fetchde_old_rows FOR EACH STATEMENT EXECUTE FUNCTION fetchde.keep_data_keys();
DROP TRIGGER IF EXISTS fetchde_data_keys_truncate ON public.vault_data_keys;
CREATE TRIGGER fetchde_data_keys_truncate AFTER TRUNCATE ON public.vault_data_keys
    FOR EACH STATEMENT EXECUTE FUNCTION fetchde.keep_data_keys();
