import Foundation
import PIICrypto
import Postgres
import TestSupport
import Testing
import Vault

@Suite("vault audit", .enabled(if: TestServices.postgresEnabled))
struct VaultAuditTests {
    /// A fixture with a few audit rows: init, two reveals, plus rows with awkward content.
    private func history() async throws -> VaultFixture {
        let fixture = try await VaultFixture.make()
        let values = try await VaultSeeder.seed(fixture, [(.ip, "198.51.100.7"), (.deviceID, "abc-123")])
        for value in values {
            let result = try await fixture.vault(["reveal", value.token, "--reason", "case \(value.field.rawValue)"])
            guard result.status == 0 else { throw FixtureError("reveal failed: \(result)") }
        }
        try await fixture.withSuperuser { session in
            _ = try session.execute(
                "INSERT INTO vault_audit (actor, action, outcome, reason, detail) VALUES ($1, $2, $3, $4, $5)",
                ["tést|user", "reveal", "granted", "naïve ✓ reason\twith\ttabs\nand lines", "a:b|c"]
            )
        }
        return fixture
    }

    @Test("the Swift recomputation matches the trigger's chain: --verify passes and names the head")
    func verifyIntact() async throws {
        let fixture = try await history()
        defer { Task { await fixture.drop() } }
        let result = try await fixture.vault(["audit", "--verify"])
        #expect(result.status == 0, "\(result)")
        let rows = try await fixture.auditRows()
        let head = rows.last!.rowHash.map { String(format: "%02x", $0) }.joined()
        #expect(result.stdout == "audit chain intact: \(rows.count) rows, head seq \(rows.count) hash \(head)\n")
        let json = try await fixture.vault(["audit", "--verify", "--json"])
        #expect(json.status == 0 && json.stdout.contains("\"ok\":true"), "\(json)")
    }

    @Test("listing: one tab-separated line per row, escapes tabs and newlines; --json has every field")
    func listing() async throws {
        let fixture = try await history()
        defer { Task { await fixture.drop() } }
        let rows = try await fixture.auditRows()
        let result = try await fixture.vault(["audit"])
        #expect(result.status == 0, "\(result)")
        #expect(result.stdoutLines.count == rows.count)
        #expect(result.stdoutLines.last?.contains("naïve ✓ reason\\twith\\ttabs\\nand lines") == true, "\(result)")
        #expect(result.stdoutLines[1].hasPrefix("2\t"))
        let json = try await fixture.vault(["audit", "--json"])
        let decoded = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]]
        #expect(decoded?.count == rows.count)
        #expect(decoded?.last?["reason"] as? String == rows.last?.reason)
        #expect(decoded?.last?["rowHash"] as? String == rows.last?.rowHash.map { String(format: "%02x", $0) }.joined())
    }

    @Test("UPDATE, DELETE and TRUNCATE are refused for the owner (superuser) and for vault_admin")
    func appendOnly() async throws {
        let fixture = try await history()
        defer { Task { await fixture.drop() } }
        let statements = [
            "UPDATE vault_audit SET reason = 'changed' WHERE seq = 2",
            "DELETE FROM vault_audit WHERE seq = 2",
            "TRUNCATE vault_audit",
        ]
        for role in ["", "SET ROLE vault_admin; "] {
            for statement in statements {
                let error = await #expect(throws: PostgresError.self) {
                    try await fixture.withSuperuser { try $0.executeScript(role + statement) }
                }
                #expect(error?.isPermissionDenied == true, "\(role)\(statement): \(String(describing: error))")
            }
        }
        #expect(try await fixture.vault(["audit", "--verify"]).status == 0)
    }

    @Test("tampering as superuser with triggers off is detected by --verify (65, naming the first broken seq)",
          arguments: [
            ("altered row", "UPDATE vault_audit SET reason = 'nothing to see' WHERE seq = 2", Int64(2)),
            ("deleted row", "DELETE FROM vault_audit WHERE seq = 3", Int64(3)),
            ("forged row", """
                INSERT INTO vault_audit (seq, at_us, actor, action, outcome, reason, detail, prev_hash, row_hash)
                SELECT seq + 1, at_us + 1, 'mallory', 'reveal', 'granted', 'forged', '', row_hash, sha256('forged')
                FROM vault_audit ORDER BY seq DESC LIMIT 1
                """, Int64(5)),
            ("forged row with a recomputed hash in the middle", """
                UPDATE vault_audit SET seq = seq + 100 WHERE seq >= 3;
                INSERT INTO vault_audit (seq, at_us, actor, action, outcome, reason, detail, prev_hash, row_hash)
                SELECT 3, at_us + 1, 'mallory', 'init', 'ok', '', '', row_hash, sha256('x') FROM vault_audit WHERE seq = 2;
                UPDATE vault_audit SET seq = seq - 99 WHERE seq >= 103
                """, Int64(3)),
            ("swapped rows", """
                UPDATE vault_audit SET seq = -2 WHERE seq = 2;
                UPDATE vault_audit SET seq = 2 WHERE seq = 3;
                UPDATE vault_audit SET seq = 3 WHERE seq = -2
                """, Int64(2)),
          ])
    func tamperDetected(_ name: String, _ sql: String, _ brokenSeq: Int64) async throws {
        let fixture = try await history()
        defer { Task { await fixture.drop() } }
        #expect(try await fixture.auditRows().count == 4)
        #expect(try await fixture.vault(["audit", "--verify"]).status == 0)
        try await fixture.tamper(sql)
        let result = try await fixture.vault(["audit", "--verify"])
        #expect(result.status == 65, "\(name): \(result)")
        #expect(result.stderrLines.count == 1 && result.stderr.contains("audit chain broken at seq \(brokenSeq):"), "\(name): \(result)")
        let json = try await fixture.vault(["audit", "--verify", "--json"])
        #expect(json.status == 65 && json.stdout.contains("\"brokenSeq\":\(brokenSeq)"), "\(name): \(json)")
    }
}

/// The chain computation without a database.
@Suite("audit chain")
struct AuditChainTests {
    private func chain(_ count: Int) -> [AuditRecord] {
        var previous = AuditChain.genesis
        return (1...count).map { seq in
            var record = AuditRecord(
                seq: Int64(seq), atMicros: 1_700_000_000_000_000 + Int64(seq), actor: "op", action: "reveal",
                outcome: "granted", reason: "r\(seq) ✓", detail: "t\(seq)", prevHash: previous, rowHash: []
            )
            record.rowHash = AuditChain.rowHash(of: record, previous: previous)
            previous = record.rowHash
            return record
        }
    }

    @Test("content encoding: length-prefixed UTF-8 fields joined by |")
    func content() {
        let record = AuditRecord(seq: 7, atMicros: 12, actor: "é", action: "a", outcome: "", reason: "x|y", detail: "", prevHash: [], rowHash: [])
        #expect(String(decoding: AuditChain.content(of: record), as: UTF8.self) == "1:7|2:12|2:é|1:a|0:|3:x|y|0:")
    }

    @Test("an intact chain verifies; every kind of break is located")
    func breaks() {
        var verifier = AuditChain.Verifier()
        for record in chain(4) {
            let accepted = verifier.feed(record)
            #expect(accepted)
        }
        #expect(verifier.failure == nil && verifier.checked == 4)

        var altered = chain(4)
        altered[1].detail = "other"
        #expect(Self.firstBreak(altered) == 2)

        var missing = chain(4)
        missing.remove(at: 2)
        #expect(Self.firstBreak(missing) == 3)

        var swapped = chain(4)
        swapped.swapAt(1, 2)
        (swapped[1].seq, swapped[2].seq) = (2, 3)
        #expect(Self.firstBreak(swapped) == 2)

        var relinked = chain(4)
        relinked[3].prevHash = AuditChain.genesis
        #expect(Self.firstBreak(relinked) == 4)
    }

    private static func firstBreak(_ records: [AuditRecord]) -> Int64? {
        var verifier = AuditChain.Verifier()
        for record in records where !verifier.feed(record) { break }
        return verifier.failure?.seq
    }
}
