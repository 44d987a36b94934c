public import Logging
public import Postgres

/// Applies the schema's migrations in order, each in its own transaction, under an advisory
/// lock so two `etl migrate` runs at once cannot interleave. Idempotent.
public enum Migrator {
    /// Every migration, in order.
    public static let all: [Migration] = [.tables, .audit, .roles, .versionGrants, .tokenRewrites, .rowsRebuild, .vaultTokenIndex, .entriesRebuild]

    /// The newest schema version this build knows.
    public static var latestVersion: Int { all.last?.version ?? 0 }

    /// Applies what is missing and returns the versions applied by this call.
    public static func migrate(_ connection: PostgresConnection, logger: Logger) async throws -> [Int] {
        let migrations = all
        let applied = try await connection.withSession { session -> [Int] in
            try session.executeScript("""
                CREATE TABLE IF NOT EXISTS fetchde_schema_migrations (
                    version integer PRIMARY KEY,
                    summary text NOT NULL,
                    applied_at timestamptz NOT NULL DEFAULT now()
                )
                """)
            var applied: [Int] = []
            for migration in migrations {
                let done = try session.transaction { () -> Bool in
                    try session.execute("SELECT pg_advisory_xact_lock(7321000)")
                    let existing = try session.execute(
                        "SELECT 1 FROM fetchde_schema_migrations WHERE version = $1",
                        [.int(Int64(migration.version))]
                    )
                    if existing.count > 0 { return false }
                    try session.executeScript(migration.sql)
                    try session.execute(
                        "INSERT INTO fetchde_schema_migrations (version, summary) VALUES ($1, $2)",
                        [.int(Int64(migration.version)), .text(migration.summary)]
                    )
                    return true
                }
                if done { applied.append(migration.version) }
            }
            return applied
        }
        for version in applied {
            logger.info("schema migration applied", metadata: ["schema_version": "\(version)"])
        }
        return applied
    }

    /// The newest applied version, or 0 for a database never migrated.
    public static func currentVersion(_ session: PostgresSession) throws -> Int {
        let exists = try session.execute("SELECT to_regclass('fetchde_schema_migrations') IS NOT NULL AS present")
        guard exists.rows.first?["present"].bool == true else { return 0 }
        let result = try session.execute("SELECT coalesce(max(version), 0) AS v FROM fetchde_schema_migrations")
        return Int(result.rows.first?["v"].int ?? 0)
    }
}
