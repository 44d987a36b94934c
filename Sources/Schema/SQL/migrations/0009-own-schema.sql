-- schema fetchde for the product's functions; audit appends and denials through it; no direct audit inserts
-- Every stored function moves to schema fetchde, where only the schema owner may create
-- anything (PUBLIC may create in public on PostgreSQL <= 14 and on clusters upgraded from
-- one). The functions themselves are re-applied by every etl migrate from SQL/functions/.
CREATE SCHEMA IF NOT EXISTS fetchde;
REVOKE ALL ON SCHEMA fetchde FROM PUBLIC;
-- Any login may record its own denial (fetchde.audit_denied); nothing else is granted there.
GRANT USAGE ON SCHEMA fetchde TO PUBLIC;

-- An unfinished vault retokenize is abandoned: its change-log triggers call functions that
-- move. A rerun starts the rebuild over (old entries are still there; mappings to moved
-- entries stay, so rows can follow).
DROP TRIGGER IF EXISTS fetchde_retokenize_log_insert ON public.user_logins;
DROP TRIGGER IF EXISTS fetchde_retokenize_log_update ON public.user_logins;
DROP TRIGGER IF EXISTS fetchde_retokenize_log_delete ON public.user_logins;
DROP TRIGGER IF EXISTS fetchde_retokenize_log_truncate ON public.user_logins;
DROP TRIGGER IF EXISTS fetchde_retokenize_log_insert ON public.pii_vault;
DROP TRIGGER IF EXISTS fetchde_retokenize_log_update ON public.pii_vault;
DROP TRIGGER IF EXISTS fetchde_retokenize_log_delete ON public.pii_vault;
DROP TRIGGER IF EXISTS fetchde_retokenize_log_truncate ON public.pii_vault;
DROP TABLE IF EXISTS public.user_logins_retokenized;
DROP TABLE IF EXISTS public.pii_vault_retokenized;
DELETE FROM public.token_rewrites r USING public.pii_vault p
WHERE p.field::text = r.field::text AND p.token::text = r.old_token::text;
DELETE FROM public.retokenize_rebuild_log;
DELETE FROM public.retokenize_rebuild_ranges;
DELETE FROM public.retokenize_rebuild;
DELETE FROM public.retokenize_entries_log;
DELETE FROM public.retokenize_entries_rebuild;

-- An entry stored while its value was being forgotten (the race this version closes) is
-- crypto-shredded now. (Comparisons as text: pg_catalog's operators, whatever public holds.)
DELETE FROM public.pii_vault p USING public.vault_forgotten f
WHERE p.field::text = f.field::text AND p.token::text = f.token::text;

-- The audit triggers are re-created on the functions in fetchde.
DROP TRIGGER IF EXISTS vault_audit_chain ON public.vault_audit;
DROP TRIGGER IF EXISTS vault_audit_no_update ON public.vault_audit;
DROP TRIGGER IF EXISTS vault_audit_no_truncate ON public.vault_audit;

-- Every function migrations 2, 6 and 8 created in public (and those of migration 6 before
-- its blocker check was shared), whatever their search_path.
DROP FUNCTION IF EXISTS public.fetchde_audit_chain(), public.fetchde_audit_refuse(),
    public.fetchde_audit_denied(text, text, text), public.fetchde_audit_field(text),
    public.fetchde_retokenize_log_change(), public.fetchde_retokenize_blocker(text, "char"[]),
    public.fetchde_retokenize_rebuild_blocker(), public.fetchde_retokenize_entries_blocker(),
    public.fetchde_retokenize_copy_rows(integer, bigint, bigint), public.fetchde_retokenize_rebuild_abandon(),
    public.fetchde_retokenize_rebuild_begin(integer, bigint), public.fetchde_retokenize_rebuild_ranges(),
    public.fetchde_retokenize_rebuild_fill(bigint), public.fetchde_retokenize_rebuild_indexes(),
    public.fetchde_retokenize_rebuild_index(text), public.fetchde_retokenize_rebuild_swap(),
    public.fetchde_retokenize_rebuild_analyze(), public.fetchde_retokenize_replace(text),
    public.fetchde_retokenize_log_entry_change(), public.fetchde_retokenize_entries_abandon(),
    public.fetchde_retokenize_entries_begin(integer), public.fetchde_retokenize_entries_finish(),
    public.fetchde_retokenize_entries_swap();

-- The chain's head: its row lock orders appends (no advisory lock any login could hold),
-- and the predecessor is one row away.
CREATE TABLE IF NOT EXISTS fetchde.audit_head (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    seq bigint NOT NULL,
    row_hash bytea NOT NULL
);
INSERT INTO fetchde.audit_head (seq, row_hash)
SELECT coalesce(max(seq), 0),
       coalesce((SELECT a.row_hash FROM public.vault_audit a ORDER BY a.seq DESC LIMIT 1), decode(repeat('00', 32), 'hex'))
FROM public.vault_audit
ON CONFLICT (singleton) DO NOTHING;

-- Denials of logins that may not act as vault_admin wait here (lengths capped) until the
-- next audited vault command folds them into the chain: recording one takes no lock the
-- chain needs.
CREATE TABLE IF NOT EXISTS fetchde.audit_inbox (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    actor varchar(256) NOT NULL,
    action varchar(64) NOT NULL,
    reason varchar(1024) NOT NULL,
    detail varchar(4096) NOT NULL,
    at_us bigint NOT NULL
);
REVOKE ALL ON fetchde.audit_head, fetchde.audit_inbox FROM PUBLIC;

-- vault_admin appends through fetchde.audit_append, which names the session user itself.
REVOKE INSERT ON public.vault_audit FROM vault_admin;
GRANT USAGE ON SCHEMA fetchde TO etl_ingest, vault_admin;

-- Leases for runs that must be alone (vault retokenize): held by a vault_admin backend while it
-- lives. An advisory lock any login could take and hold would stop every run.
CREATE TABLE IF NOT EXISTS fetchde.run_leases (
    name text PRIMARY KEY,
    holder_pid integer
);
INSERT INTO fetchde.run_leases (name) VALUES ('retokenize') ON CONFLICT (name) DO NOTHING;
REVOKE ALL ON fetchde.run_leases FROM PUBLIC;
