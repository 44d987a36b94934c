-- Forgotten values stay forgotten (SPEC §4): whatever inserts into pii_vault (etl's COPY or
-- INSERT, a quarantine replay, a retokenize swap) skips a (field, token) that vault_forgotten
-- holds. The check runs per row in a VOLATILE function, so it sees a tombstone committed
-- after the inserting statement began; vault forget takes a lock that waits for the
-- transactions inserting into pii_vault and holds new ones until its tombstone is committed
-- (Forgetter in Sources/Vault). Re-applied by every etl migrate.

CREATE OR REPLACE FUNCTION fetchde.refuse_forgotten() RETURNS trigger
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS $fn$
BEGIN
    IF EXISTS (SELECT 1 FROM public.vault_forgotten f WHERE f.field = NEW.field AND f.token = NEW.token) THEN
        RETURN NULL;
    END IF;
    RETURN NEW;
END
$fn$;
REVOKE ALL ON FUNCTION fetchde.refuse_forgotten() FROM PUBLIC;

DROP TRIGGER IF EXISTS fetchde_forgotten_guard ON public.pii_vault;
CREATE TRIGGER fetchde_forgotten_guard BEFORE INSERT ON public.pii_vault
    FOR EACH ROW EXECUTE FUNCTION fetchde.refuse_forgotten();
