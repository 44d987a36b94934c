-- pii_vault: lookups by token use the primary key; no separate index on token
DROP INDEX IF EXISTS pii_vault_token_idx;
