-- The audit log (SPEC §4): append-only and hash-chained. Re-applied by every etl migrate.
--
-- row_hash = SHA-256(prev_hash ‖ content), content = each field as `<utf8 length>:<text>`
-- joined by `|` in the order seq, at_us, actor, action, outcome, reason, detail
-- (`AuditChain` in Swift recomputes it to verify).
--
-- Every function here runs with search_path = pg_catalog, pg_temp and names everything else
-- with its schema: nothing resolves in a schema another login can write.

CREATE OR REPLACE FUNCTION fetchde.audit_field(value text) RETURNS text
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp AS
$fn$ SELECT octet_length(coalesce(value, ''))::text || ':' || coalesce(value, '') $fn$;

-- Chains a new row: seq, time, predecessor and own hash. The actor is the session user,
-- whatever the inserter wrote, except for denials folded from the inbox (only
-- fetchde.audit_fold sets fetchde.audit_fold; only the owner's functions may insert at all).
CREATE OR REPLACE FUNCTION fetchde.audit_chain() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    head fetchde.audit_head;
BEGIN
    SELECT * INTO STRICT head FROM fetchde.audit_head FOR UPDATE;
    IF current_setting('fetchde.audit_fold', true) IS DISTINCT FROM 'on' OR NEW.at_us IS NULL THEN
        NEW.actor := session_user;
        NEW.at_us := (extract(epoch FROM clock_timestamp()) * 1000000)::bigint;
    END IF;
    NEW.seq := head.seq + 1;
    NEW.prev_hash := head.row_hash;
    NEW.row_hash := sha256(NEW.prev_hash || convert_to(
        fetchde.audit_field(NEW.seq::text) || '|' ||
        fetchde.audit_field(NEW.at_us::text) || '|' ||
        fetchde.audit_field(NEW.actor::text) || '|' ||
        fetchde.audit_field(NEW.action::text) || '|' ||
        fetchde.audit_field(NEW.outcome::text) || '|' ||
        fetchde.audit_field(NEW.reason) || '|' ||
        fetchde.audit_field(NEW.detail), 'UTF8'));
    UPDATE fetchde.audit_head SET seq = NEW.seq, row_hash = NEW.row_hash;
    RETURN NEW;
END
$fn$;

CREATE OR REPLACE FUNCTION fetchde.audit_refuse() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $fn$
BEGIN
    RAISE EXCEPTION 'vault_audit is append-only' USING ERRCODE = 'insufficient_privilege';
END
$fn$;

DROP TRIGGER IF EXISTS vault_audit_chain ON public.vault_audit;
CREATE TRIGGER vault_audit_chain BEFORE INSERT ON public.vault_audit
    FOR EACH ROW EXECUTE FUNCTION fetchde.audit_chain();
DROP TRIGGER IF EXISTS vault_audit_no_update ON public.vault_audit;
CREATE TRIGGER vault_audit_no_update BEFORE UPDATE OR DELETE ON public.vault_audit
    FOR EACH ROW EXECUTE FUNCTION fetchde.audit_refuse();
DROP TRIGGER IF EXISTS vault_audit_no_truncate ON public.vault_audit;
CREATE TRIGGER vault_audit_no_truncate BEFORE TRUNCATE ON public.vault_audit
    FOR EACH STATEMENT EXECUTE FUNCTION fetchde.audit_refuse();

-- Moves the denials waiting in the inbox into the chain, oldest first, with their own actor
-- and time. Rows another fold holds are skipped (it moves them).
CREATE OR REPLACE FUNCTION fetchde.audit_fold() RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    item record;
    n integer := 0;
BEGIN
    PERFORM set_config('fetchde.audit_fold', 'on', true);
    FOR item IN SELECT * FROM fetchde.audit_inbox ORDER BY id FOR UPDATE SKIP LOCKED LOOP
        INSERT INTO public.vault_audit (at_us, actor, action, outcome, reason, detail)
        VALUES (item.at_us, item.actor, item.action, 'denied', item.reason, item.detail);
        DELETE FROM fetchde.audit_inbox WHERE id = item.id;
        n := n + 1;
    END LOOP;
    PERFORM set_config('fetchde.audit_fold', 'off', true);
    RETURN n;
END
$fn$;

-- Appends a row as the session user (after folding waiting denials). vault_admin's only
-- way into the chain; the caller's transaction holds the chain until it ends.
CREATE OR REPLACE FUNCTION fetchde.audit_append(p_action text, p_outcome text, p_reason text, p_detail text) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    appended bigint;
BEGIN
    PERFORM fetchde.audit_fold();
    INSERT INTO public.vault_audit (actor, action, outcome, reason, detail)
    VALUES (session_user, p_action, p_outcome, coalesce(p_reason, ''), coalesce(p_detail, ''))
    RETURNING seq INTO appended;
    RETURN appended;
END
$fn$;

-- Any login may record a denial of itself. A login outside vault_admin writes into the inbox,
-- capped, without taking any lock the chain needs (an idle transaction around it delays
-- nobody); a member of vault_admin (an operator refused for a key, a passphrase or a reason)
-- goes straight into the chain. The outcome is always 'denied', so no success can be forged;
-- a flood of the inbox is capped at 10,000 waiting rows.
CREATE OR REPLACE FUNCTION fetchde.audit_denied(p_action text, p_reason text, p_detail text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
BEGIN
    IF pg_has_role(session_user, 'vault_admin', 'MEMBER') THEN
        PERFORM fetchde.audit_fold();
        INSERT INTO public.vault_audit (actor, action, outcome, reason, detail)
        VALUES (session_user, left(coalesce(p_action, ''), 64), 'denied', coalesce(p_reason, ''), coalesce(p_detail, ''));
        RETURN;
    END IF;
    IF EXISTS (SELECT 1 FROM fetchde.audit_inbox OFFSET 10000) THEN
        RETURN;
    END IF;
    INSERT INTO fetchde.audit_inbox (actor, action, reason, detail, at_us)
    VALUES (left(session_user::text, 256), left(coalesce(p_action, ''), 64), left(coalesce(p_reason, ''), 1024),
            left(coalesce(p_detail, ''), 4096), (extract(epoch FROM clock_timestamp()) * 1000000)::bigint);
END
$fn$;

REVOKE ALL ON FUNCTION fetchde.audit_field(text), fetchde.audit_chain(), fetchde.audit_refuse(),
    fetchde.audit_fold(), fetchde.audit_append(text, text, text, text), fetchde.audit_denied(text, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION fetchde.audit_denied(text, text, text) TO PUBLIC;
GRANT EXECUTE ON FUNCTION fetchde.audit_fold(), fetchde.audit_append(text, text, text, text) TO vault_admin;
