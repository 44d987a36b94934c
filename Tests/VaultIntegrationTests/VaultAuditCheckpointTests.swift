import Foundation
import PIICrypto
import Postgres
import TestSupport
import Testing
import Vault

@Suite("vault audit checkpoint", .enabled(if: TestServices.postgresEnabled))
struct VaultAuditCheckpointTests {
    /// A fixture whose chain has init and two reveals (3 rows).
    private func history() async throws -> (VaultFixture, [SeededValue]) {
        let fixture = try await VaultFixture.make()
        let values = try await VaultSeeder.seed(fixture, [(.ip, "198.51.100.7"), (.deviceID, "abc-123")])
        for value in values {
            let result = try await fixture.vault(["reveal", value.token, "--reason", "case"])
            guard result.status == 0 else { throw FixtureError("reveal failed: \(result)") }
        }
        return (fixture, values)
    }

    @Test("a checkpoint verifies, also after the chain grew; the key file is 0600 and a loose one is refused")
    func verifies() async throws {
        let (fixture, values) = try await history()
        defer { Task { await fixture.drop() } }
        let file = fixture.root + "/head.json"
        // vault init created the checkpoint and subject keys, private.
        for name in ["audit-checkpoint.key", "subject.key"] {
            let mode = try FileManager.default.attributesOfItem(atPath: fixture.keysDirectory + "/" + name)[.posixPermissions] as? Int
            #expect(mode == 0o600, "\(name)")
        }
        let made = try await fixture.vault(["audit", "checkpoint", "--out", file])
        #expect(made.status == 0, "\(made)")
        let rows = try await fixture.auditRows()
        let checkpoint = try JSONDecoder().decode(AuditCheckpoint.self, from: Data(contentsOf: URL(fileURLWithPath: file)))
        #expect(checkpoint.seq == rows.last?.seq)
        #expect(checkpoint.rowHash == rows.last?.rowHash.map { String(format: "%02x", $0) }.joined())
        #expect(checkpoint.atMicros == rows.last?.atMicros)
        let mode = try FileManager.default.attributesOfItem(atPath: fixture.keysDirectory + "/audit-checkpoint.key")[.posixPermissions] as? Int
        #expect(mode == 0o600)

        #expect(try await fixture.vault(["audit", "--verify", "--from", file]).status == 0)
        _ = try await fixture.vault(["reveal", values[0].token, "--reason", "later"])
        let later = try await fixture.vault(["audit", "--verify", "--from", file])
        #expect(later.status == 0 && later.stdout.contains("extends the checkpoint at seq \(checkpoint.seq)"), "\(later)")

        chmod(fixture.keysDirectory + "/audit-checkpoint.key", 0o644)
        let loose = try await fixture.vault(["audit", "--verify", "--from", file])
        #expect(loose.status == 77, "\(loose)")
        let looseMake = try await fixture.vault(["audit", "checkpoint", "--out", file])
        #expect(looseMake.status == 77, "\(looseMake)")
    }

    @Test("an altered checkpoint file fails its signature (65)")
    func alteredFile() async throws {
        let (fixture, _) = try await history()
        defer { Task { await fixture.drop() } }
        let file = fixture.root + "/head.json"
        #expect(try await fixture.vault(["audit", "checkpoint", "--out", file]).status == 0)
        var checkpoint = try JSONDecoder().decode(AuditCheckpoint.self, from: Data(contentsOf: URL(fileURLWithPath: file)))
        checkpoint.seq -= 1
        try JSONEncoder().encode(checkpoint).write(to: URL(fileURLWithPath: file))
        let result = try await fixture.vault(["audit", "--verify", "--from", file])
        #expect(result.status == 65 && result.stderr.contains("signature"), "\(result)")
        let garbage = fixture.root + "/garbage.json"
        try Data("{}".utf8).write(to: URL(fileURLWithPath: garbage))
        #expect(try await fixture.vault(["audit", "--verify", "--from", garbage]).status == 65)
    }

    @Test("a superuser deletes the whole chain and starts a consistent new one: --verify passes, --verify --from fails (65)",
          arguments: [2, 6])
    func rewrittenChain(newRows: Int) async throws {
        let (fixture, values) = try await history()
        defer { Task { await fixture.drop() } }
        let file = fixture.root + "/head.json"
        #expect(try await fixture.vault(["audit", "checkpoint", "--out", file]).status == 0)
        try await fixture.tamper("""
            DELETE FROM vault_audit;
            UPDATE fetchde.audit_head SET seq = 0, row_hash = decode(repeat('00', 32), 'hex')
            """)
        for _ in 0..<newRows {
            let reveal = try await fixture.vault(["reveal", values[0].token, "--reason", "innocent"])
            #expect(reveal.status == 0, "\(reveal)")
        }
        #expect(try await fixture.auditRows().count == newRows)
        let plain = try await fixture.vault(["audit", "--verify"])
        #expect(plain.status == 0, "\(plain)")
        let anchored = try await fixture.vault(["audit", "--verify", "--from", file])
        #expect(anchored.status == 65, "\(anchored)")
        #expect(anchored.stderrLines.count == 1 && anchored.stderr.contains("rewritten"), "\(anchored)")
        let json = try await fixture.vault(["audit", "--verify", "--from", file, "--json"])
        #expect(json.status == 65 && json.stdout.contains("\"ok\":false"), "\(json)")
    }
}
