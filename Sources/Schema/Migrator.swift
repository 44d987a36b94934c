public import Logging
public import Postgres

/// Brings a database to this build's schema in one transaction, under an advisory lock so
/// two `etl migrate` runs cannot interleave: the migrations not applied yet (the history in
/// `SQL/migrations/`, each checked against the checksum recorded when it was applied), then
/// every file of `SQL/functions/` (stored functions, their triggers and grants, written to be
/// re-applied), then a check that every object the product trusts belongs to the role that
/// runs it. Idempotent; a failure changes nothing.
public enum Migrator {
    /// Every migration, in order.
    public static let all: [Migration] = SchemaSQL.migrations

    /// The newest schema version this build knows.
    public static var latestVersion: Int { all.last?.version ?? 0 }

    /// The tables of `public` and the schema the product creates and relies on: a hostile
    /// login that could create in `public` before the first `etl migrate` must not own one.
    static let ownedObjects: [(kind: String, name: String)] = [
        ("schema", "fetchde"),
        ("table", "public.fetchde_schema_migrations"), ("table", "public.user_logins"),
        ("table", "public.token_keys"), ("table", "public.vault_keys"), ("table", "public.vault_active"),
        ("table", "public.vault_data_keys"), ("table", "public.pii_vault"), ("table", "public.etl_quarantine"),
        ("table", "public.vault_forgotten"), ("table", "public.vault_audit"), ("table", "public.token_rewrites"),
        ("table", "public.retokenize_rebuild"), ("table", "public.retokenize_rebuild_ranges"),
        ("table", "public.retokenize_rebuild_log"), ("table", "public.retokenize_entries_rebuild"),
        ("table", "public.retokenize_entries_log"),
    ]

    /// Applies what is missing and returns the versions applied by this call.
    public static func migrate(_ connection: PostgresConnection, logger: Logger) async throws -> [Int] {
        let applied = try await connection.withSession { session -> [Int] in
            try session.transaction { try migrate(session) }
        }
        for version in applied {
            logger.info("schema migration applied", metadata: [LogKey.schemaVersion: "\(version)"])
        }
        return applied
    }

    static func migrate(_ session: PostgresSession) throws -> [Int] {
        try session.execute("SELECT pg_advisory_xact_lock(7321000)")
        try session.executeScript("""
            CREATE TABLE IF NOT EXISTS public.fetchde_schema_migrations (
                version integer PRIMARY KEY,
                summary text NOT NULL,
                applied_at timestamptz NOT NULL DEFAULT now()
            );
            ALTER TABLE public.fetchde_schema_migrations ADD COLUMN IF NOT EXISTS checksum text;
            """)
        try checkOwners(session)  // before anything runs against a squatter's table
        var recorded: [Int: String?] = [:]
        for row in try session.execute("SELECT version, checksum FROM public.fetchde_schema_migrations").rows {
            if let version = row["version"].int { recorded[Int(version)] = row["checksum"].string }
        }
        if let newest = recorded.keys.max(), newest > latestVersion {
            throw SchemaError(.newerSchema, "the database has schema version \(newest), newer than this build's \(latestVersion): upgrade etl")
        }
        var applied: [Int] = []
        for migration in all {
            switch recorded[migration.version] {
            case .some(.some(let checksum)):
                guard checksum == migration.checksum else {
                    throw SchemaError(
                        .checksumMismatch,
                        "migration \(migration.version) (\(migration.path)) differs from the one applied to this database (checksum \(checksum.prefix(12)), file \(migration.checksum.prefix(12))): shipped migrations are never edited; add a new one"
                    )
                }
            case .some(.none):
                // Applied by a build that kept no checksums: this build's file is the record.
                try session.execute(
                    "UPDATE public.fetchde_schema_migrations SET checksum = $1 WHERE version = $2",
                    [.text(migration.checksum), .int(Int64(migration.version))]
                )
            case .none:
                try session.executeScript(migration.sql)
                try session.execute(
                    "INSERT INTO public.fetchde_schema_migrations (version, summary, checksum) VALUES ($1, $2, $3)",
                    [.int(Int64(migration.version)), .text(migration.summary), .text(migration.checksum)]
                )
                applied.append(migration.version)
            }
        }
        for file in SchemaSQL.functions {
            try session.executeScript(file.text)
        }
        try checkOwners(session)
        return applied
    }

    /// Refuses a database where an object the product trusts belongs to another role than
    /// the one migrating (e.g. a table a hostile login created in `public` first).
    static func checkOwners(_ session: PostgresSession) throws {
        for object in ownedObjects {
            let query = object.kind == "schema"
                ? "SELECT pg_get_userbyid(nspowner) AS owner, pg_get_userbyid(nspowner) = current_user AS ok FROM pg_namespace WHERE nspname = $1"
                : "SELECT pg_get_userbyid(relowner) AS owner, pg_get_userbyid(relowner) = current_user AS ok FROM pg_class WHERE oid = to_regclass($1)"
            guard let row = try session.execute(query, [.text(object.name)]).rows.first else { continue }
            if row["ok"].bool != true {
                throw SchemaError(
                    .foreignOwner,
                    "\(object.kind) \(object.name) belongs to role \(row["owner"].string ?? "?"), not to the role running etl migrate: remove it or run etl migrate as its owner"
                )
            }
        }
    }

    /// The newest applied version, or 0 for a database never migrated.
    public static func currentVersion(_ session: PostgresSession) throws -> Int {
        let exists = try session.execute("SELECT to_regclass('public.fetchde_schema_migrations') IS NOT NULL AS present")
        guard exists.rows.first?["present"].bool == true else { return 0 }
        let result = try session.execute("SELECT coalesce(max(version), 0) AS v FROM public.fetchde_schema_migrations")
        return Int(result.rows.first?["v"].int ?? 0)
    }
}
