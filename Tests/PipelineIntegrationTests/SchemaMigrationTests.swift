import Foundation
import Postgres
import Schema
import Testing
import PipelineTestSupport
import TestSupport

/// `etl migrate` against databases other builds left: the history is verified by checksum,
/// and the functions are always the current ones.
@Suite("schema migrations (real PostgreSQL)", .enabled(if: TestServices.postgresEnabled))
struct SchemaMigrationTests {
    @Test("a database migrated to version 6 before its blocker check changed ends up with the current functions")
    func upgradesAnOldV6Database() async throws {
        let database = try await TestDatabase.create("schema_v6", migrate: false)
        let url = try #require(Bundle.module.url(forResource: "Fixtures/0006-rows-rebuild-before-a8fbe1e", withExtension: "sql"))
        let oldSix = try String(contentsOf: url, encoding: .utf8)
        let connection = try await database.connect()
        defer { Task { await connection.close() } }
        try await connection.withSession { session in
            // What a build of that time did: its own bookkeeping table, no checksums.
            try session.executeScript("""
                CREATE TABLE fetchde_schema_migrations (
                    version integer PRIMARY KEY, summary text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())
                """)
            for migration in Migrator.all where migration.version <= 5 {
                try session.executeScript(migration.sql)
                try session.execute("INSERT INTO fetchde_schema_migrations (version, summary) VALUES ($1, 'old')", [.int(Int64(migration.version))])
            }
            try session.executeScript(oldSix)
            try session.execute("INSERT INTO fetchde_schema_migrations (version, summary) VALUES (6, 'old')")
        }
        #expect(try await database.scalar("SELECT count(*) FROM pg_proc WHERE proname = 'fetchde_retokenize_rebuild_blocker'") == 1)

        let applied = try await Migrator.migrate(connection, logger: .test)
        #expect(applied == Migrator.all.map(\.version).filter { $0 > 6 })
        #expect(try await database.scalar(
            "SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'public' AND p.proname LIKE 'fetchde%'"
        ) == 0)
        #expect(try await database.scalar("SELECT count(*) FROM pg_proc WHERE oid = to_regprocedure('fetchde.retokenize_blocker(text,\"char\"[])')") == 1)
        // Every SECURITY DEFINER function lives in fetchde and pins a search path without public.
        let definers = try await database.query("""
            SELECT n.nspname, p.proname, array_to_string(p.proconfig, ',') AS config
            FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE p.prosecdef
            """)
        #expect(definers.count > 10)
        for row in definers.rows {
            #expect(row["nspname"].string == "fetchde", "\(row["proname"].string ?? "")")
            #expect(row["config"].string == "search_path=pg_catalog, pg_temp", "\(row["proname"].string ?? "")")
        }
        // The checksums of the migrations applied before are recorded now, and verified.
        #expect(try await database.scalar("SELECT count(*) FROM fetchde_schema_migrations WHERE checksum IS NULL") == 0)
        #expect(try await Migrator.migrate(connection, logger: .test) == [])
    }

    @Test("an applied migration whose file changed is a clear error; nothing changes")
    func checksumMismatch() async throws {
        let database = try await TestDatabase.create("schema_checksum")
        try await database.query("UPDATE fetchde_schema_migrations SET checksum = 'edited' WHERE version = 3")
        let connection = try await database.connect()
        defer { Task { await connection.close() } }
        await #expect {
            _ = try await Migrator.migrate(connection, logger: .test)
        } throws: { error in
            (error as? SchemaError)?.code == .checksumMismatch && "\(error)".contains("migration 3")
        }
        let etl = try ChildProcess.etl(["migrate"], environment: ["DATABASE_URL": database.url])
        #expect(await etl.exitStatus(timeout: .seconds(60)) == 1)
        let lines = etl.stderr.split(separator: "\n")
        #expect(lines.count == 1 && etl.stderr.contains("never edited"), "\(etl.stderr)")
    }

    @Test("a table a hostile login created in public before the first migrate is refused")
    func foreignOwner() async throws {
        let database = try await TestDatabase.create("schema_owner", migrate: false)
        let login = TestServices.uniqueName("squatter")
        try await database.query("CREATE ROLE \(login)")
        try await database.query("GRANT CREATE ON SCHEMA public TO \(login)")
        let connection = try await database.connect()
        defer { Task { await connection.close() } }
        try await connection.withSession { try $0.executeScript("SET ROLE \(login); CREATE TABLE public.vault_audit (seq bigint); RESET ROLE") }
        await #expect {
            _ = try await Migrator.migrate(connection, logger: .test)
        } throws: { error in
            (error as? SchemaError)?.code == .foreignOwner && "\(error)".contains("public.vault_audit")
        }
    }
}
