-- Forgotten values stay forgotten (SPEC §4): whatever inserts into pii_vault (etl's COPY or
-- INSERT, a quarantine replay, a retokenize swap) keeps no entry whose (field, token)
-- vault_forgotten holds. One set-based statement per inserting statement (its transition
-- table), not a function call per row: it runs in a VOLATILE function, so it sees a tombstone
-- committed after the inserting statement began; vault forget takes a lock that waits for the
-- transactions inserting into pii_vault and holds new ones until its tombstone is committed
-- (Forgetter in Sources/Vault). It runs as the owner: etl_ingest may insert, never delete.
-- Re-applied by every etl migrate.

CREATE OR REPLACE FUNCTION fetchde.refuse_forgotten() RETURNS trigger
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
BEGIN
    IF EXISTS (SELECT 1 FROM public.vault_forgotten) THEN
        DELETE FROM public.pii_vault p
        USING fetchde_new_rows n, public.vault_forgotten f
        WHERE f.field = n.field AND f.token = n.token AND p.field = n.field AND p.token = n.token;
    END IF;
    RETURN NULL;
END
$fn$;
REVOKE ALL ON FUNCTION fetchde.refuse_forgotten() FROM PUBLIC;
-- Its trigger, fetchde_forgotten_guard, is created with pii_vault's others by
-- fetchde.guard_vault_entries() (25-data-keys.sql).
