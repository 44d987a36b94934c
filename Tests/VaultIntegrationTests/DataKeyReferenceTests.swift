import Postgres
import Testing
import PipelineTestSupport
import TestSupport

/// Every vault entry names a data key that exists, and a data key entries name stays: what
/// the foreign key `pii_vault.dek_id` kept until migration 13, now one check per statement
/// (`fetchde.require_data_keys`, `fetchde.keep_data_keys`) — also on the table a
/// `vault retokenize` swaps in.
@Suite("vault entries name existing data keys (real PostgreSQL)", .serialized,
       .enabled(if: TestServices.postgresEnabled && TestServices.sqsEnabled))
struct DataKeyReferenceTests {
    /// Runs `body` as `etl_ingest` in a transaction that is rolled back.
    static func asIngest(_ fixture: PipelineFixture, _ body: @escaping @Sendable (PostgresSession) throws -> Void) async throws {
        let connection = try await fixture.database.connect()
        defer { Task { await connection.close() } }
        try await connection.withSession { session in
            try session.executeScript("BEGIN; SET LOCAL ROLE etl_ingest")
            defer { _ = try? session.executeScript("ROLLBACK") }
            try body(session)
        }
    }

    static func expectForeignKeyViolation(_ body: () async throws -> Void) async {
        do {
            try await body()
            Issue.record("expected foreign_key_violation (23503), nothing was refused")
        } catch let error as PostgresError {
            #expect(error.sqlState == SQLState.foreignKeyViolation, "\(error)")
        } catch {
            Issue.record("expected foreign_key_violation, got \(error)")
        }
    }

    /// etl_ingest's INSERT and COPY of an entry naming a missing data key are refused; the
    /// same entry naming an existing one is stored.
    static func expectMissingKeyRefused(_ fixture: PipelineFixture) async throws {
        let existing = try await fixture.database.scalar("SELECT max(dek_id) FROM vault_data_keys")
        let missing = existing + 1000
        let insert = "INSERT INTO public.pii_vault (field, token, token_key_version, dek_id, ciphertext) VALUES ('ip', $1, 1, $2, '\\x00')"
        await expectForeignKeyViolation {
            try await asIngest(fixture) { session in try session.execute(insert, [.text("dekref-insert"), .int(missing)]) }
        }
        await expectForeignKeyViolation {
            try await asIngest(fixture) { session in
                // Many entries naming a key that exists and one naming none: the statement fails.
                _ = try session.copyIn("COPY public.pii_vault (field, token, token_key_version, dek_id, ciphertext) FROM STDIN") { writer in
                    for index in 0..<50 {
                        try writer.appendRow([.text("device_id"), .text("dekref-copy-\(index)"), .int(1), .int(index == 37 ? missing : existing), .bytea([0])])
                    }
                }
            }
        }
        try await asIngest(fixture) { session in try session.execute(insert, [.text("dekref-valid"), .int(existing)]) }
    }

    @Test("etl_ingest cannot store an entry naming a missing data key (INSERT or COPY), also after vault retokenize swapped pii_vault")
    func missingDataKeyRefused() async throws {
        let (fixture, _) = try await RotationSupport.seeded("dekref_missing", count: 20, seed: 31)
        try await Self.expectMissingKeyRefused(fixture)

        #expect(try await RotationSupport.vault(["rotate", "--tokens"], fixture).status == 0)
        let retokenize = try await RotationSupport.vault(["retokenize"], fixture)
        #expect(retokenize.status == 0, "\(retokenize.stderr)")
        #expect(try await fixture.database.scalar("SELECT count(*) FROM pii_vault WHERE token_key_version = 2") > 0)
        try await Self.expectMissingKeyRefused(fixture)
    }

    @Test("a data key that entries name cannot be deleted, renumbered or truncated away; an unused one can be deleted")
    func namedDataKeyKept() async throws {
        let (fixture, _) = try await RotationSupport.seeded("dekref_kept", count: 20, seed: 32)
        let named = try await fixture.database.scalar("SELECT min(dek_id) FROM pii_vault")
        await Self.expectForeignKeyViolation {
            try await fixture.database.query("DELETE FROM vault_data_keys WHERE dek_id = $1", [.int(named)])
        }
        await Self.expectForeignKeyViolation {
            try await fixture.database.query("UPDATE vault_data_keys SET dek_id = dek_id + 100000 WHERE dek_id = $1", [.int(named)])
        }
        await Self.expectForeignKeyViolation {
            try await fixture.database.query("TRUNCATE vault_data_keys CASCADE")
        }
        #expect(try await fixture.database.scalar("SELECT count(*) FROM vault_data_keys WHERE dek_id = $1", [.int(named)]) == 1)
        // A key no entry names (made, then never used) may go; rewrapping keys (an UPDATE
        // that keeps their ids) passes the check.
        let unused = try await fixture.database.scalar("""
            INSERT INTO vault_data_keys (vault_key_version, encapsulated_key, sealed_key)
            SELECT vault_key_version, encapsulated_key, sealed_key FROM vault_data_keys WHERE dek_id = $1 RETURNING dek_id
            """, [.int(named)])
        try await fixture.database.query("UPDATE vault_data_keys SET sealed_key = sealed_key")
        try await fixture.database.query("DELETE FROM vault_data_keys WHERE dek_id = $1", [.int(unused)])
        #expect(try await fixture.database.scalar("SELECT count(*) FROM vault_data_keys WHERE dek_id = $1", [.int(unused)]) == 0)
    }
}
