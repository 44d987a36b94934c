-- vault retokenize, pii_vault. Re-applied by every etl migrate; the history of these
-- functions is migrations 8 and 9.
--
-- vault writes each re-tokenized entry into a copy, pii_vault_retokenized, and its old → new
-- mapping into token_rewrites (an entry that fails authentication is copied as it is), a
-- batch per transaction (the old entries stay, so a killed run resumes and every old token
-- still reveals). Then the entries etl stored under the new key join the copy, values stored
-- twice are merged, the copy's keys are built in bulk, and it replaces pii_vault under a short
-- exclusive lock, after the changes made meanwhile (statement triggers log the (field, token)
-- of every entry etl stored or vault forget deleted) are applied to it. Same conditions and
-- carried-over properties as the user_logins rebuild, whose fetchde.retokenize_replace it
-- shares.

CREATE OR REPLACE FUNCTION fetchde.retokenize_log_entry_change() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        INSERT INTO public.retokenize_entries_log VALUES (NULL, NULL);
        RETURN NULL;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO public.retokenize_entries_log SELECT field, token FROM fetchde_new_rows;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        INSERT INTO public.retokenize_entries_log SELECT field, token FROM fetchde_old_rows;
    END IF;
    RETURN NULL;
END
$fn$;

-- Drops the copy, the triggers and the state of an unfinished rebuild.
CREATE OR REPLACE FUNCTION fetchde.retokenize_entries_abandon() RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
BEGIN
    IF to_regclass('public.pii_vault') IS NOT NULL THEN
        DROP TRIGGER IF EXISTS fetchde_retokenize_log_insert ON public.pii_vault;
        DROP TRIGGER IF EXISTS fetchde_retokenize_log_update ON public.pii_vault;
        DROP TRIGGER IF EXISTS fetchde_retokenize_log_delete ON public.pii_vault;
        DROP TRIGGER IF EXISTS fetchde_retokenize_log_truncate ON public.pii_vault;
    END IF;
    DROP TABLE IF EXISTS public.pii_vault_retokenized;
    -- Mappings to copies that are gone (their old entries are still there).
    DELETE FROM public.token_rewrites r USING public.pii_vault p WHERE p.field = r.field AND p.token = r.old_token;
    DELETE FROM public.retokenize_entries_log;
    DELETE FROM public.retokenize_entries_rebuild;
END
$fn$;

-- Starts a rebuild towards p_target, or resumes one. Returns why it cannot (then
-- nothing is left behind), or NULL. vault_admin may insert into the copy.
CREATE OR REPLACE FUNCTION fetchde.retokenize_entries_begin(p_target integer) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    blocker text := fetchde.retokenize_blocker('pii_vault', '{p,f}');
    st public.retokenize_entries_rebuild;
BEGIN
    IF blocker IS NOT NULL THEN
        PERFORM fetchde.retokenize_entries_abandon();
        RETURN blocker;
    END IF;
    SELECT * INTO st FROM public.retokenize_entries_rebuild;
    IF FOUND AND st.target = p_target
       AND to_regclass('public.pii_vault_retokenized') IS NOT NULL
       AND (SELECT count(*) FROM pg_trigger WHERE tgrelid = 'public.pii_vault'::regclass
            AND tgname LIKE 'fetchde\_retokenize\_log\_%') = 4 THEN
        RETURN NULL;
    END IF;
    PERFORM fetchde.retokenize_entries_abandon();
    CREATE TABLE public.pii_vault_retokenized (LIKE public.pii_vault INCLUDING DEFAULTS INCLUDING CONSTRAINTS
        INCLUDING STORAGE INCLUDING COMPRESSION INCLUDING COMMENTS);
    ALTER TABLE public.pii_vault_retokenized SET (autovacuum_enabled = false);
    GRANT INSERT ON public.pii_vault_retokenized TO vault_admin;
    -- Waits for the writers in flight; every later change is logged.
    CREATE TRIGGER fetchde_retokenize_log_insert AFTER INSERT ON public.pii_vault
        REFERENCING NEW TABLE AS fetchde_new_rows FOR EACH STATEMENT EXECUTE FUNCTION fetchde.retokenize_log_entry_change();
    CREATE TRIGGER fetchde_retokenize_log_update AFTER UPDATE ON public.pii_vault
        REFERENCING OLD TABLE AS fetchde_old_rows NEW TABLE AS fetchde_new_rows
        FOR EACH STATEMENT EXECUTE FUNCTION fetchde.retokenize_log_entry_change();
    CREATE TRIGGER fetchde_retokenize_log_delete AFTER DELETE ON public.pii_vault
        REFERENCING OLD TABLE AS fetchde_old_rows FOR EACH STATEMENT EXECUTE FUNCTION fetchde.retokenize_log_entry_change();
    CREATE TRIGGER fetchde_retokenize_log_truncate AFTER TRUNCATE ON public.pii_vault
        FOR EACH STATEMENT EXECUTE FUNCTION fetchde.retokenize_log_entry_change();
    INSERT INTO public.retokenize_entries_rebuild (target) VALUES (p_target);
    RETURN NULL;
END
$fn$;

-- Once every old entry has its copy (re-tokenized with its mapping, or as it was
-- when it failed authentication): a value copied twice (stored under two older
-- keys) keeps one entry, the entries etl stored under the new key join unless their
-- value is there already, a value forgotten under its new token keeps none; the
-- copy's keys and indexes are built and its statistics gathered. Once per rebuild;
-- returns the entries merged.
CREATE OR REPLACE FUNCTION fetchde.retokenize_entries_finish() RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    st public.retokenize_entries_rebuild;
    t oid := 'public.pii_vault'::regclass;
    pattern text := '^CREATE (UNIQUE )?INDEX \S+ ON (ONLY )?\S+ ';
    item record;
    affected bigint;
    dropped bigint := 0;
BEGIN
    SELECT * INTO STRICT st FROM public.retokenize_entries_rebuild FOR UPDATE;
    IF st.finished THEN RETURN st.merged; END IF;
    -- The keys first (the common case has no duplicate): then the rest joins by them.
    FOR item IN
        SELECT oid, pg_get_constraintdef(oid) AS definition FROM pg_constraint
        WHERE conrelid = t AND contype = 'p'
    LOOP
        BEGIN
            EXECUTE format('ALTER TABLE public.pii_vault_retokenized ADD CONSTRAINT %I %s', 'fetchde_rt_' || item.oid, item.definition);
        EXCEPTION WHEN unique_violation THEN
            DELETE FROM public.pii_vault_retokenized a USING public.pii_vault_retokenized b
            WHERE a.field = b.field AND a.token = b.token AND a.ctid > b.ctid;
            GET DIAGNOSTICS affected = ROW_COUNT;
            dropped := dropped + affected;
            EXECUTE format('ALTER TABLE public.pii_vault_retokenized ADD CONSTRAINT %I %s', 'fetchde_rt_' || item.oid, item.definition);
        END;
    END LOOP;
    INSERT INTO public.pii_vault_retokenized (field, token, token_key_version, dek_id, ciphertext, created_at)
    SELECT p.field, p.token, p.token_key_version, p.dek_id, p.ciphertext, p.created_at FROM public.pii_vault p
    WHERE p.token_key_version >= st.target
    ON CONFLICT (field, token) DO NOTHING;
    GET DIAGNOSTICS affected = ROW_COUNT;
    dropped := dropped + (SELECT count(*) FROM public.pii_vault WHERE token_key_version >= st.target) - affected;
    DELETE FROM public.pii_vault_retokenized e USING public.vault_forgotten f WHERE f.field = e.field AND f.token = e.token;
    GET DIAGNOSTICS affected = ROW_COUNT;
    dropped := dropped + affected;
    FOR item IN
        SELECT oid, pg_get_constraintdef(oid) AS definition FROM pg_constraint
        WHERE conrelid = t AND contype = 'f'
    LOOP
        EXECUTE format('ALTER TABLE public.pii_vault_retokenized ADD CONSTRAINT %I %s', 'fetchde_rt_' || item.oid, item.definition);
    END LOOP;
    FOR item IN
        SELECT i.indexrelid AS oid, pg_get_indexdef(i.indexrelid) AS definition FROM pg_index i
        WHERE i.indrelid = t AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)
    LOOP
        IF item.definition !~ pattern THEN
            RAISE EXCEPTION 'cannot read the definition of an index of pii_vault';
        END IF;
        EXECUTE regexp_replace(item.definition, pattern,
            'CREATE \1INDEX ' || quote_ident('fetchde_rt_' || item.oid) || ' ON public.pii_vault_retokenized ');
    END LOOP;
    ANALYZE public.pii_vault_retokenized;
    UPDATE public.retokenize_entries_rebuild SET finished = true, merged = dropped;
    RETURN dropped;
END
$fn$;

-- Replaces pii_vault by the copy under an exclusive lock, after applying the
-- changes logged meanwhile: an entry stored (by etl, under the new key) joins the
-- copy unless its value is there; an entry deleted (by vault forget) leaves it, and if it was an
-- old entry, so do its mapping (its rows keep the forgotten token) and the copy it
-- became (unless etl stored that value under its new token too: new data).
-- Returns the changes applied.
CREATE OR REPLACE FUNCTION fetchde.retokenize_entries_swap() RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    st public.retokenize_entries_rebuild;
    blocker text;
    applied bigint;
BEGIN
    SELECT * INTO STRICT st FROM public.retokenize_entries_rebuild FOR UPDATE;
    IF NOT st.finished THEN
        RAISE EXCEPTION 'rebuild of pii_vault: not finished';
    END IF;
    LOCK TABLE public.pii_vault IN ACCESS EXCLUSIVE MODE;
    blocker := fetchde.retokenize_blocker('pii_vault', '{p,f}');
    IF blocker IS NOT NULL THEN
        RAISE EXCEPTION 'rebuild of pii_vault: %', blocker;
    END IF;
    IF EXISTS (SELECT 1 FROM public.retokenize_entries_log WHERE field IS NULL) THEN
        RAISE EXCEPTION 'rebuild of pii_vault: the table was truncated meanwhile';
    END IF;
    CREATE TEMP TABLE pg_temp.fetchde_changed ON COMMIT DROP AS SELECT DISTINCT field, token FROM public.retokenize_entries_log;
    SELECT count(*) INTO applied FROM pg_temp.fetchde_changed;
    -- Deleted old entries: their copy goes (unless etl stored the value anew, or another
    -- old entry still there became it too), then their mapping.
    DELETE FROM public.pii_vault_retokenized e USING pg_temp.fetchde_changed c, public.token_rewrites r
    WHERE r.field = c.field AND r.old_token = c.token AND e.field = r.field AND e.token = r.new_token
      AND NOT EXISTS (SELECT 1 FROM public.pii_vault p WHERE p.field = c.field AND p.token = c.token)
      AND NOT EXISTS (SELECT 1 FROM public.pii_vault p WHERE p.field = r.field AND p.token = r.new_token)
      AND NOT EXISTS (SELECT 1 FROM public.token_rewrites o JOIN public.pii_vault p ON p.field = o.field AND p.token = o.old_token
                      WHERE o.field = r.field AND o.new_token = r.new_token AND o.old_token <> r.old_token);
    DELETE FROM public.token_rewrites r USING pg_temp.fetchde_changed c
    WHERE r.field = c.field AND r.old_token = c.token
      AND NOT EXISTS (SELECT 1 FROM public.pii_vault p WHERE p.field = c.field AND p.token = c.token);
    -- Any other deleted entry (a new token forgotten meanwhile) leaves the copy.
    DELETE FROM public.pii_vault_retokenized e USING pg_temp.fetchde_changed c
    WHERE e.field = c.field AND e.token = c.token
      AND NOT EXISTS (SELECT 1 FROM public.pii_vault p WHERE p.field = c.field AND p.token = c.token);
    -- Stored entries join it.
    INSERT INTO public.pii_vault_retokenized (field, token, token_key_version, dek_id, ciphertext, created_at)
    SELECT p.field, p.token, p.token_key_version, p.dek_id, p.ciphertext, p.created_at
    FROM public.pii_vault p JOIN pg_temp.fetchde_changed c ON c.field = p.field AND c.token = p.token
    WHERE p.token_key_version >= st.target
    ON CONFLICT (field, token) DO NOTHING;
    PERFORM fetchde.retokenize_replace('pii_vault');
    -- The copy has none of pii_vault's own triggers: the guards against forgotten values
    -- and missing data keys.
    PERFORM fetchde.guard_vault_entries();
    DELETE FROM public.retokenize_entries_log;
    DELETE FROM public.retokenize_entries_rebuild;
    RETURN applied;
END
$fn$;

REVOKE ALL ON FUNCTION fetchde.retokenize_log_entry_change(),
    fetchde.retokenize_entries_abandon(), fetchde.retokenize_entries_begin(integer),
    fetchde.retokenize_entries_finish(), fetchde.retokenize_entries_swap() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION fetchde.retokenize_entries_abandon(), fetchde.retokenize_entries_begin(integer),
    fetchde.retokenize_entries_finish(), fetchde.retokenize_entries_swap() TO vault_admin;

