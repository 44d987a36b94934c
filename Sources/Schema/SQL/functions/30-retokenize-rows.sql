-- vault retokenize, user_logins (and what both rebuilds share: the blocker check and the
-- swap). Re-applied by every etl migrate; the history of these functions is migrations 6
-- and 9.
--
-- How vault retokenize moves user_logins to new tokens without updating every row in place:
-- it fills a copy with the new tokens (in resumable ranges), builds the copy's indexes in
-- bulk, and swaps the copy in under a short exclusive lock, after replaying the rows that
-- changed meanwhile (statement triggers log their ids). Updating a million rows in place
-- writes every row and four index entries per row again; the copy writes each once and sorts
-- each index once.
--
-- The copy is a new table: whatever is bound to the old one by its identity rather than its
-- name (views, rules, foreign keys, publications, policies, inheritance, triggers of the
-- user's own) would be lost, so fetchde.retokenize_blocker names the first such object and
-- vault retokenize then updates the rows in place instead. Grants (table, column and identity
-- sequence), owner, comment, storage options and the identity sequence's position carry over;
-- DROP TABLE without CASCADE is the last guard: an object the check did not foresee makes the
-- swap roll back.
--
-- The functions run with their owner's rights (the schema owner who ran etl migrate), so
-- vault_admin needs no DDL rights of its own; only it may call them. search_path is
-- pg_catalog, pg_temp: every table is named with its schema.

CREATE OR REPLACE FUNCTION fetchde.retokenize_log_change() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        INSERT INTO public.retokenize_rebuild_log VALUES (NULL);
        RETURN NULL;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO public.retokenize_rebuild_log SELECT login_id FROM fetchde_new_rows;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        INSERT INTO public.retokenize_rebuild_log SELECT login_id FROM fetchde_old_rows;
    END IF;
    RETURN NULL;
END
$fn$;

-- Why table p_table cannot be replaced by a copy (NULL: it can). p_keys: the kinds of
-- constraint of its own the copy can rebuild (pg_constraint.contype).
CREATE OR REPLACE FUNCTION fetchde.retokenize_blocker(p_table text, p_keys "char"[]) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    t oid := to_regclass('public.' || quote_ident(p_table));
    c pg_class;
BEGIN
    IF t IS NULL THEN RETURN p_table || ' does not exist'; END IF;
    SELECT * INTO c FROM pg_class WHERE oid = t;
    IF c.relkind <> 'r' THEN RETURN p_table || ' is not a plain table'; END IF;
    IF c.relrowsecurity OR EXISTS (SELECT 1 FROM pg_policy WHERE polrelid = t) THEN
        RETURN p_table || ' has row-level security';
    END IF;
    IF c.relreplident <> 'd' THEN RETURN p_table || ' has a replica identity of its own'; END IF;
    IF EXISTS (SELECT 1 FROM pg_depend WHERE refobjid = t AND classid = 'pg_rewrite'::regclass) THEN
        RETURN 'a view or rule depends on ' || p_table;
    END IF;
    IF EXISTS (SELECT 1 FROM pg_depend WHERE refobjid = c.reltype AND deptype = 'n') THEN
        RETURN 'another object uses the row type of ' || p_table;
    END IF;
    IF EXISTS (SELECT 1 FROM pg_constraint
               WHERE (conrelid = t AND contype IN ('p', 'u', 'x', 'f') AND contype <> ALL (p_keys)) OR confrelid = t) THEN
        RETURN p_table || ' has a key, exclusion or foreign-key constraint';
    END IF;
    IF EXISTS (SELECT 1 FROM pg_inherits WHERE inhrelid = t OR inhparent = t) THEN
        RETURN p_table || ' takes part in inheritance';
    END IF;
    IF EXISTS (SELECT 1 FROM pg_publication WHERE puballtables)
       OR EXISTS (SELECT 1 FROM pg_publication_rel WHERE prrelid = t)
       OR EXISTS (SELECT 1 FROM pg_publication_namespace WHERE pnnspid = c.relnamespace) THEN
        RETURN p_table || ' is published for logical replication';
    END IF;
    IF EXISTS (SELECT 1 FROM pg_trigger WHERE tgrelid = t AND NOT tgisinternal
               AND tgname NOT LIKE 'fetchde\_%') THEN
        RETURN p_table || ' has triggers';
    END IF;
    IF EXISTS (SELECT 1 FROM pg_index WHERE indrelid = t AND NOT (indisvalid AND indisready)) THEN
        RETURN p_table || ' has an invalid index';
    END IF;
    IF EXISTS (SELECT 1 FROM pg_depend d JOIN pg_class s ON s.oid = d.objid
               WHERE d.refobjid = t AND d.classid = 'pg_class'::regclass AND s.relkind = 'S' AND d.deptype = 'a') THEN
        RETURN p_table || ' has a serial column';
    END IF;
    RETURN NULL;
END
$fn$;

-- Copies user_logins rows (ids in [p_low, p_high), or the logged ids when p_low is
-- NULL) into the copy; rows under an older version whose tokens all resolve (a
-- mapping, or forgotten) take the new tokens and version p_target.
CREATE OR REPLACE FUNCTION fetchde.retokenize_copy_rows(p_target integer, p_low bigint, p_high bigint) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    columns text;
    expressions text;
    n bigint;
BEGIN
    SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum),
           string_agg(CASE attname
               WHEN 'masked_ip' THEN 'CASE WHEN m.fetchde_move THEN coalesce(m.fetchde_ip, m.masked_ip) ELSE m.masked_ip END'
               WHEN 'masked_device_id' THEN 'CASE WHEN m.fetchde_move THEN coalesce(m.fetchde_device, m.masked_device_id) ELSE m.masked_device_id END'
               WHEN 'token_key_version' THEN 'CASE WHEN m.fetchde_move THEN $1 ELSE m.token_key_version END'
               ELSE 'm.' || quote_ident(attname) END, ', ' ORDER BY attnum)
    INTO columns, expressions
    FROM pg_attribute
    WHERE attrelid = 'public.user_logins'::regclass AND attnum > 0 AND NOT attisdropped AND attgenerated = '';
    EXECUTE format($sql$
        INSERT INTO public.user_logins_retokenized (%s)
        SELECT %s FROM (
            SELECT u.*, ri.new_token AS fetchde_ip, rd.new_token AS fetchde_device,
                (u.token_key_version < $1
                 AND (u.masked_ip IS NULL OR ri.new_token IS NOT NULL
                      OR EXISTS (SELECT 1 FROM public.vault_forgotten f WHERE f.field = 'ip' AND f.token = u.masked_ip))
                 AND (u.masked_device_id IS NULL OR rd.new_token IS NOT NULL
                      OR EXISTS (SELECT 1 FROM public.vault_forgotten f WHERE f.field = 'device_id' AND f.token = u.masked_device_id))
                ) AS fetchde_move
            FROM public.user_logins u
            LEFT JOIN public.token_rewrites ri ON ri.field = 'ip' AND ri.old_token = u.masked_ip
            LEFT JOIN public.token_rewrites rd ON rd.field = 'device_id' AND rd.old_token = u.masked_device_id
            WHERE %s
        ) m
        $sql$, columns, expressions,
        CASE WHEN p_low IS NULL
            THEN 'u.login_id IN (SELECT login_id FROM public.retokenize_rebuild_log)'
            ELSE 'u.login_id >= $2 AND u.login_id < $3' END)
    USING p_target, p_low, p_high;
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END
$fn$;

-- Drops the copy, the triggers and the state of an unfinished rebuild.
CREATE OR REPLACE FUNCTION fetchde.retokenize_rebuild_abandon() RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
BEGIN
    IF to_regclass('public.user_logins') IS NOT NULL THEN
        DROP TRIGGER IF EXISTS fetchde_retokenize_log_insert ON public.user_logins;
        DROP TRIGGER IF EXISTS fetchde_retokenize_log_update ON public.user_logins;
        DROP TRIGGER IF EXISTS fetchde_retokenize_log_delete ON public.user_logins;
        DROP TRIGGER IF EXISTS fetchde_retokenize_log_truncate ON public.user_logins;
    END IF;
    DROP TABLE IF EXISTS public.user_logins_retokenized;
    DELETE FROM public.retokenize_rebuild_log;
    DELETE FROM public.retokenize_rebuild_ranges;
    DELETE FROM public.retokenize_rebuild;
END
$fn$;

-- Starts a rebuild towards p_target in ranges of p_step ids, or resumes one. Returns
-- why it cannot (then nothing is left behind), or NULL.
CREATE OR REPLACE FUNCTION fetchde.retokenize_rebuild_begin(p_target integer, p_step bigint) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    blocker text := coalesce(fetchde.retokenize_blocker('user_logins', '{}'),
        CASE WHEN pg_get_serial_sequence('public.user_logins', 'login_id') IS NULL
             THEN 'user_logins.login_id is not an identity column' END);
    st public.retokenize_rebuild;
BEGIN
    IF blocker IS NOT NULL THEN
        PERFORM fetchde.retokenize_rebuild_abandon();
        RETURN blocker;
    END IF;
    SELECT * INTO st FROM public.retokenize_rebuild;
    -- A rerun resumes with the ranges it started with, whatever its own step.
    IF FOUND AND st.target = p_target
       AND to_regclass('public.user_logins_retokenized') IS NOT NULL
       AND (SELECT count(*) FROM pg_trigger WHERE tgrelid = 'public.user_logins'::regclass
            AND tgname LIKE 'fetchde\_retokenize\_log\_%') = 4 THEN
        RETURN NULL;
    END IF;
    PERFORM fetchde.retokenize_rebuild_abandon();
    CREATE TABLE public.user_logins_retokenized (LIKE public.user_logins INCLUDING DEFAULTS INCLUDING IDENTITY
        INCLUDING CONSTRAINTS INCLUDING GENERATED INCLUDING STORAGE INCLUDING COMPRESSION INCLUDING COMMENTS
        INCLUDING STATISTICS);
    -- No autovacuum on the copy while it is filled and indexed (a CREATE INDEX would
    -- wait for it to give way); the swap gives it the table's own options.
    ALTER TABLE public.user_logins_retokenized SET (autovacuum_enabled = false);
    -- Waits for the writers in flight; every later change is logged.
    CREATE TRIGGER fetchde_retokenize_log_insert AFTER INSERT ON public.user_logins
        REFERENCING NEW TABLE AS fetchde_new_rows FOR EACH STATEMENT EXECUTE FUNCTION fetchde.retokenize_log_change();
    CREATE TRIGGER fetchde_retokenize_log_update AFTER UPDATE ON public.user_logins
        REFERENCING OLD TABLE AS fetchde_old_rows NEW TABLE AS fetchde_new_rows
        FOR EACH STATEMENT EXECUTE FUNCTION fetchde.retokenize_log_change();
    CREATE TRIGGER fetchde_retokenize_log_delete AFTER DELETE ON public.user_logins
        REFERENCING OLD TABLE AS fetchde_old_rows FOR EACH STATEMENT EXECUTE FUNCTION fetchde.retokenize_log_change();
    CREATE TRIGGER fetchde_retokenize_log_truncate AFTER TRUNCATE ON public.user_logins
        FOR EACH STATEMENT EXECUTE FUNCTION fetchde.retokenize_log_change();
    INSERT INTO public.retokenize_rebuild (target, low, high, step)
    SELECT p_target, coalesce(min(login_id), 0) - coalesce(min(login_id), 0) % p_step, coalesce(max(login_id), 0), p_step
    FROM public.user_logins;
    RETURN NULL;
END
$fn$;

-- The ranges still to copy (their lower bounds).
CREATE OR REPLACE FUNCTION fetchde.retokenize_rebuild_ranges() RETURNS SETOF bigint
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
    SELECT g FROM public.retokenize_rebuild s, generate_series(s.low, s.high, s.step) g
    WHERE NOT EXISTS (SELECT 1 FROM public.retokenize_rebuild_ranges r WHERE r.low = g)
    ORDER BY g
$fn$;

-- Copies one range (once: a copied range is recorded in the same transaction).
CREATE OR REPLACE FUNCTION fetchde.retokenize_rebuild_fill(p_low bigint) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    st public.retokenize_rebuild;
    n bigint;
BEGIN
    SELECT * INTO STRICT st FROM public.retokenize_rebuild;
    INSERT INTO public.retokenize_rebuild_ranges VALUES (p_low, 0) ON CONFLICT (low) DO NOTHING;
    IF NOT FOUND THEN RETURN 0; END IF;
    n := fetchde.retokenize_copy_rows(st.target, p_low, p_low + st.step);
    UPDATE public.retokenize_rebuild_ranges SET rows = n WHERE low = p_low;
    RETURN n;
END
$fn$;

-- The indexes of user_logins the copy still lacks, largest first.
CREATE OR REPLACE FUNCTION fetchde.retokenize_rebuild_indexes() RETURNS SETOF text
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
    SELECT c.relname::text FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
    WHERE i.indrelid = 'public.user_logins'::regclass
      AND to_regclass('public.fetchde_rt_' || c.oid) IS NULL
    ORDER BY c.relpages DESC, c.relname
$fn$;

-- Builds the copy's counterpart of index p_index of user_logins.
CREATE OR REPLACE FUNCTION fetchde.retokenize_rebuild_index(p_index text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    source oid;
    definition text;
    pattern text := '^CREATE (UNIQUE )?INDEX \S+ ON (ONLY )?\S+ ';
BEGIN
    SELECT i.indexrelid, pg_get_indexdef(i.indexrelid) INTO source, definition
    FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
    WHERE i.indrelid = 'public.user_logins'::regclass AND c.relname = p_index;
    IF source IS NULL THEN
        RAISE EXCEPTION 'user_logins has no index %', p_index;
    END IF;
    IF to_regclass('public.fetchde_rt_' || source) IS NOT NULL THEN RETURN; END IF;
    IF definition !~ pattern THEN
        RAISE EXCEPTION 'cannot read the definition of index %', p_index;
    END IF;
    EXECUTE regexp_replace(definition, pattern,
        'CREATE \1INDEX ' || quote_ident('fetchde_rt_' || source) || ' ON public.user_logins_retokenized ');
END
$fn$;

-- Replaces table p_table by its copy p_table_retokenized (under the caller's
-- exclusive lock): owner, grants (table, columns, identity sequence), comment and
-- storage options carry over, so do the identity's position and the names of
-- constraints and indexes (the copy's are named fetchde_rt_ + the OID of their
-- original). DROP TABLE without CASCADE: anything else bound to the old table makes
-- the whole transaction roll back.
CREATE OR REPLACE FUNCTION fetchde.retokenize_replace(p_table text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    old_table oid := to_regclass('public.' || quote_ident(p_table));
    copy_name text := p_table || '_retokenized';
    identity_column name;
    old_sequence text;
    new_sequence text;
    old_sequence_name name;
    position record;
    grant_row record;
    options text[];
    renames text[] := '{}';
    item record;
BEGIN
    EXECUTE format('ALTER TABLE public.%I OWNER TO %I', copy_name,
        (SELECT pg_get_userbyid(relowner) FROM pg_class WHERE oid = old_table));
    SELECT attname INTO identity_column FROM pg_attribute
    WHERE attrelid = old_table AND attidentity <> '' AND NOT attisdropped LIMIT 1;
    IF identity_column IS NOT NULL THEN
        old_sequence := pg_get_serial_sequence('public.' || quote_ident(p_table), identity_column);
        new_sequence := pg_get_serial_sequence('public.' || quote_ident(copy_name), identity_column);
    END IF;
    -- Only what the old table granted (the run may have granted itself more on the copy).
    FOR grant_row IN
        SELECT DISTINCT a.grantee FROM pg_class c, aclexplode(c.relacl) a
        WHERE c.oid = to_regclass('public.' || quote_ident(copy_name)) AND a.grantee <> c.relowner
    LOOP
        EXECUTE format('REVOKE ALL ON TABLE public.%I FROM %s', copy_name,
            CASE WHEN grant_row.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(grant_row.grantee)) END);
    END LOOP;
    FOR grant_row IN
        SELECT a.privilege_type, a.grantee, a.is_grantable, NULL::name AS column_name, 'TABLE' AS kind
        FROM pg_class c, aclexplode(c.relacl) a WHERE c.oid = old_table
        UNION ALL
        SELECT a.privilege_type, a.grantee, a.is_grantable, att.attname, 'COLUMN'
        FROM pg_attribute att, aclexplode(att.attacl) a
        WHERE att.attrelid = old_table AND att.attnum > 0 AND NOT att.attisdropped
        UNION ALL
        SELECT a.privilege_type, a.grantee, a.is_grantable, NULL, 'SEQUENCE'
        FROM pg_class c, aclexplode(c.relacl) a WHERE old_sequence IS NOT NULL AND c.oid = old_sequence::regclass
    LOOP
        EXECUTE format('GRANT %s%s ON %s TO %s%s',
            grant_row.privilege_type,
            CASE WHEN grant_row.kind = 'COLUMN' THEN ' (' || quote_ident(grant_row.column_name) || ')' ELSE '' END,
            CASE WHEN grant_row.kind = 'SEQUENCE' THEN 'SEQUENCE ' || new_sequence ELSE 'TABLE public.' || quote_ident(copy_name) END,
            CASE WHEN grant_row.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(grant_row.grantee)) END,
            CASE WHEN grant_row.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END);
    END LOOP;
    EXECUTE format('COMMENT ON TABLE public.%I IS %L', copy_name, obj_description(old_table, 'pg_class'));
    EXECUTE format('ALTER TABLE public.%I RESET (autovacuum_enabled)', copy_name);
    SELECT reloptions INTO options FROM pg_class WHERE oid = old_table;
    IF options IS NOT NULL THEN
        EXECUTE format('ALTER TABLE public.%I SET (%s)', copy_name, array_to_string(options, ', '));
    END IF;
    IF old_sequence IS NOT NULL THEN
        EXECUTE format('SELECT last_value, is_called FROM %s', old_sequence) INTO position;
        PERFORM setval(new_sequence, position.last_value, position.is_called);
        SELECT relname INTO old_sequence_name FROM pg_class WHERE oid = old_sequence::regclass;
    END IF;
    -- What to rename once the old table is gone: constraints that have a copy, and
    -- indexes that back no constraint.
    FOR item IN
        SELECT 'CONSTRAINT' AS kind, 'fetchde_rt_' || oid AS copy, conname::text AS original
        FROM pg_constraint WHERE conrelid = old_table AND contype IN ('p', 'u', 'f', 'x')
        UNION ALL
        SELECT 'INDEX', 'fetchde_rt_' || i.indexrelid, c.relname::text
        FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
        WHERE i.indrelid = old_table AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)
    LOOP
        renames := renames || CASE item.kind
            WHEN 'CONSTRAINT' THEN format('ALTER TABLE public.%I RENAME CONSTRAINT %I TO %I', p_table, item.copy, item.original)
            ELSE format('ALTER INDEX public.%I RENAME TO %I', item.copy, item.original) END;
    END LOOP;
    EXECUTE format('ALTER TABLE public.%I RENAME TO %I', p_table, p_table || '_retired');
    EXECUTE format('ALTER TABLE public.%I RENAME TO %I', copy_name, p_table);
    EXECUTE format('DROP TABLE public.%I', p_table || '_retired');
    FOR i IN 1 .. coalesce(array_length(renames, 1), 0) LOOP
        EXECUTE renames[i];
    END LOOP;
    IF old_sequence IS NOT NULL THEN
        EXECUTE format('ALTER SEQUENCE %s RENAME TO %I', new_sequence, old_sequence_name);
    END IF;
END
$fn$;

-- Replaces user_logins by the copy: replays the rows logged meanwhile under an
-- exclusive lock, carries over grants, owner, comment, options and the identity's
-- position, and drops the old table. Returns the rows replayed.
CREATE OR REPLACE FUNCTION fetchde.retokenize_rebuild_swap() RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    st public.retokenize_rebuild;
    blocker text;
    replayed bigint;
BEGIN
    SELECT * INTO STRICT st FROM public.retokenize_rebuild FOR UPDATE;
    IF EXISTS (SELECT 1 FROM fetchde.retokenize_rebuild_ranges()) THEN
        RAISE EXCEPTION 'rebuild of user_logins: ranges left to copy';
    END IF;
    IF EXISTS (SELECT 1 FROM fetchde.retokenize_rebuild_indexes()) THEN
        RAISE EXCEPTION 'rebuild of user_logins: indexes left to build';
    END IF;
    -- Rows copied under their old tokens (none resolved then) are copied again
    -- with the mapping as it is now (a resumed run may have extended it).
    INSERT INTO public.retokenize_rebuild_log
    SELECT login_id FROM public.user_logins_retokenized WHERE token_key_version < st.target;
    LOCK TABLE public.user_logins IN ACCESS EXCLUSIVE MODE;
    blocker := fetchde.retokenize_blocker('user_logins', '{}');
    IF blocker IS NOT NULL THEN
        RAISE EXCEPTION 'rebuild of user_logins: %', blocker;
    END IF;
    IF EXISTS (SELECT 1 FROM public.retokenize_rebuild_log WHERE login_id IS NULL) THEN
        RAISE EXCEPTION 'rebuild of user_logins: the table was truncated meanwhile';
    END IF;
    DELETE FROM public.user_logins_retokenized WHERE login_id IN (SELECT login_id FROM public.retokenize_rebuild_log);
    replayed := fetchde.retokenize_copy_rows(st.target, NULL, NULL);
    IF (SELECT count(*) FROM public.user_logins) <> (SELECT count(*) FROM public.user_logins_retokenized) THEN
        RAISE EXCEPTION 'rebuild of user_logins: the copy does not have every row';
    END IF;

    PERFORM fetchde.retokenize_replace('user_logins');
    DELETE FROM public.retokenize_rebuild_log;
    DELETE FROM public.retokenize_rebuild_ranges;
    DELETE FROM public.retokenize_rebuild;
    RETURN replayed;
END
$fn$;

-- Statistics of the copy (they stay with it when it is swapped in), so that
-- analysts' plans need not wait for autovacuum.
CREATE OR REPLACE FUNCTION fetchde.retokenize_rebuild_analyze() RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
BEGIN
    ANALYZE public.user_logins_retokenized;
END
$fn$;

REVOKE ALL ON FUNCTION fetchde.retokenize_log_change(), fetchde.retokenize_blocker(text, "char"[]),
    fetchde.retokenize_copy_rows(integer, bigint, bigint), fetchde.retokenize_rebuild_abandon(),
    fetchde.retokenize_rebuild_begin(integer, bigint), fetchde.retokenize_rebuild_ranges(),
    fetchde.retokenize_rebuild_fill(bigint), fetchde.retokenize_rebuild_indexes(),
    fetchde.retokenize_rebuild_index(text), fetchde.retokenize_rebuild_swap(),
    fetchde.retokenize_rebuild_analyze(), fetchde.retokenize_replace(text) FROM PUBLIC;
-- The mapping goes at once when a run is done (vault_admin only ever empties it whole).
GRANT TRUNCATE ON public.token_rewrites TO vault_admin;
GRANT EXECUTE ON FUNCTION fetchde.retokenize_rebuild_abandon(), fetchde.retokenize_rebuild_begin(integer, bigint),
    fetchde.retokenize_rebuild_ranges(), fetchde.retokenize_rebuild_fill(bigint),
    fetchde.retokenize_rebuild_indexes(), fetchde.retokenize_rebuild_index(text),
    fetchde.retokenize_rebuild_swap(), fetchde.retokenize_rebuild_analyze() TO vault_admin;

