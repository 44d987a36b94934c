extension Migration {
    /// `pii_vault` keeps one index: its primary key (field, token). Lookups by token alone
    /// (`vault reveal`, `vault forget`) name both fields and probe it twice; a second index on
    /// the token cost every entry `etl` stores and every entry `vault retokenize` moves one
    /// more random B-tree insert.
    static let vaultTokenIndex = Migration(
        version: 7,
        summary: "pii_vault: lookups by token use the primary key; no separate index on token",
        sql: "DROP INDEX IF EXISTS pii_vault_token_idx;"
    )
}
