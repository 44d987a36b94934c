-- pii_vault.dek_id checked once per statement (fetchde.require_data_keys) instead of by a foreign key's query per entry
-- The foreign key ran one query per inserted entry (SPI, FOR KEY SHARE): about a fifth of the
-- server's time when a batch or a quarantine replay stores many new values. The triggers of
-- functions/25-data-keys.sql keep the same rule with one query per inserting or updating
-- statement: every entry names a data key that exists, and a data key an entry names is not
-- deleted. (etl_quarantine keeps its foreign key: it is written a message at a time.)
DO $$
DECLARE
    item record;
BEGIN
    FOR item IN
        SELECT conname FROM pg_catalog.pg_constraint
        WHERE conrelid = 'public.pii_vault'::regclass AND contype = 'f'
          AND confrelid = 'public.vault_data_keys'::regclass
    LOOP
        EXECUTE format('ALTER TABLE public.pii_vault DROP CONSTRAINT %I', item.conname);
    END LOOP;
END
$$;
