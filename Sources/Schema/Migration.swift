/// One versioned, idempotent schema change, applied in its own transaction.
public struct Migration: Sendable {
    /// Monotonic version number; applied versions are recorded in `fetchde_schema_migrations`.
    public let version: Int
    /// What it does, for logs and `vault status`.
    public let summary: String
    /// The SQL script. Every statement tolerates a database where it already took effect
    /// (`IF NOT EXISTS`, guarded `DO` blocks), so a half-migrated database can be re-run.
    public let sql: String
}
