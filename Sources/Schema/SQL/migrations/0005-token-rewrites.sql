-- token_rewrites: old to new token mapping of a running retokenize; no index on pii_vault.token_key_version
CREATE TABLE IF NOT EXISTS token_rewrites (
    field varchar(16) NOT NULL,
    old_token varchar(64) NOT NULL,
    new_token varchar(64) NOT NULL,
    target_version integer NOT NULL,
    PRIMARY KEY (field, old_token)
);
REVOKE ALL ON token_rewrites FROM PUBLIC;
-- Every entry changes version in a retokenize, and counts per version are rare
-- (vault status): an index on it costs more than the scans it would save.
DROP INDEX IF EXISTS pii_vault_version_idx;
GRANT SELECT, INSERT, UPDATE, DELETE ON token_rewrites TO vault_admin;
