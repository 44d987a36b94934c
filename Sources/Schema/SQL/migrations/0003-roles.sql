-- roles etl_ingest and vault_admin with least privilege
-- Roles are cluster-wide: migrations of two databases may race to create them.
DO $$ BEGIN
    CREATE ROLE etl_ingest NOLOGIN;
EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
END $$;
DO $$ BEGIN
    CREATE ROLE vault_admin NOLOGIN;
EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
END $$;

REVOKE ALL ON user_logins, token_keys, vault_keys, vault_active, vault_data_keys,
    pii_vault, etl_quarantine, vault_forgotten, vault_audit FROM PUBLIC;
REVOKE ALL ON user_logins, token_keys, vault_keys, vault_active, vault_data_keys,
    pii_vault, etl_quarantine, vault_forgotten, vault_audit FROM etl_ingest, vault_admin;

-- etl_ingest: the write path.
GRANT SELECT, INSERT ON user_logins TO etl_ingest;
GRANT SELECT ON token_keys, vault_keys, vault_active TO etl_ingest;
GRANT INSERT ON vault_data_keys TO etl_ingest;
GRANT SELECT (dek_id, vault_key_version, created_at, created_by) ON vault_data_keys TO etl_ingest;
GRANT INSERT ON pii_vault TO etl_ingest;
GRANT SELECT (field, token, token_key_version, dek_id, created_at) ON pii_vault TO etl_ingest;
GRANT INSERT ON etl_quarantine TO etl_ingest;
GRANT SELECT (quarantine_id, message_id, reason, sent_at, receive_count, quarantined_at)
    ON etl_quarantine TO etl_ingest;
GRANT SELECT ON vault_forgotten TO etl_ingest;

-- vault_admin: reveal, forget, rotate, rewrap, retokenize, audit.
GRANT SELECT, UPDATE ON user_logins TO vault_admin;
GRANT SELECT, INSERT ON token_keys, vault_keys TO vault_admin;
GRANT SELECT, INSERT, UPDATE ON vault_active TO vault_admin;
GRANT SELECT, INSERT, UPDATE ON vault_data_keys TO vault_admin;
GRANT SELECT, INSERT, UPDATE, DELETE ON pii_vault TO vault_admin;
GRANT SELECT ON etl_quarantine TO vault_admin;
GRANT SELECT, INSERT ON vault_forgotten TO vault_admin;
GRANT SELECT, INSERT ON vault_audit TO vault_admin;

GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO etl_ingest, vault_admin;
