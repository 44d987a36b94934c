-- vault_audit: append-only, hash-chained
CREATE TABLE IF NOT EXISTS vault_audit (
    seq bigint PRIMARY KEY,
    at_us bigint NOT NULL,
    actor varchar(256) NOT NULL,
    action varchar(64) NOT NULL,
    outcome varchar(32) NOT NULL,
    reason text NOT NULL DEFAULT '',
    detail text NOT NULL DEFAULT '',
    prev_hash bytea NOT NULL,
    row_hash bytea NOT NULL
);

CREATE OR REPLACE FUNCTION fetchde_audit_field(value text) RETURNS text
    LANGUAGE sql IMMUTABLE AS
    $$ SELECT octet_length(coalesce(value, ''))::text || ':' || coalesce(value, '') $$;

CREATE OR REPLACE FUNCTION fetchde_audit_chain() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    last vault_audit%ROWTYPE;
BEGIN
    PERFORM pg_advisory_xact_lock(7321001);
    SELECT * INTO last FROM vault_audit ORDER BY seq DESC LIMIT 1;
    IF NOT FOUND THEN
        NEW.seq := 1;
        NEW.prev_hash := '\x0000000000000000000000000000000000000000000000000000000000000000'::bytea;
    ELSE
        NEW.seq := last.seq + 1;
        NEW.prev_hash := last.row_hash;
    END IF;
    NEW.at_us := (extract(epoch FROM clock_timestamp()) * 1000000)::bigint;
    NEW.row_hash := sha256(NEW.prev_hash || convert_to(
        fetchde_audit_field(NEW.seq::text) || '|' ||
        fetchde_audit_field(NEW.at_us::text) || '|' ||
        fetchde_audit_field(NEW.actor) || '|' ||
        fetchde_audit_field(NEW.action) || '|' ||
        fetchde_audit_field(NEW.outcome) || '|' ||
        fetchde_audit_field(NEW.reason) || '|' ||
        fetchde_audit_field(NEW.detail), 'UTF8'));
    RETURN NEW;
END $$;

CREATE OR REPLACE FUNCTION fetchde_audit_refuse() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'vault_audit is append-only' USING ERRCODE = 'insufficient_privilege';
END $$;

DROP TRIGGER IF EXISTS vault_audit_chain ON vault_audit;
CREATE TRIGGER vault_audit_chain BEFORE INSERT ON vault_audit
    FOR EACH ROW EXECUTE FUNCTION fetchde_audit_chain();
DROP TRIGGER IF EXISTS vault_audit_no_update ON vault_audit;
CREATE TRIGGER vault_audit_no_update BEFORE UPDATE OR DELETE ON vault_audit
    FOR EACH ROW EXECUTE FUNCTION fetchde_audit_refuse();
DROP TRIGGER IF EXISTS vault_audit_no_truncate ON vault_audit;
CREATE TRIGGER vault_audit_no_truncate BEFORE TRUNCATE ON vault_audit
    FOR EACH STATEMENT EXECUTE FUNCTION fetchde_audit_refuse();

-- Anyone may record a denial of themselves (a login that cannot become vault_admin
-- still leaves a trace); the outcome is forced, so no success can be forged.
CREATE OR REPLACE FUNCTION fetchde_audit_denied(p_action text, p_reason text, p_detail text)
    RETURNS void LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    INSERT INTO vault_audit (actor, action, outcome, reason, detail)
    VALUES (session_user, left(p_action, 64), 'denied', coalesce(p_reason, ''), coalesce(p_detail, ''));
END $$;
REVOKE ALL ON FUNCTION fetchde_audit_denied(text, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION fetchde_audit_denied(text, text, text) TO PUBLIC;
