import Foundation
import PIICrypto
import VaultCrypto
import Postgres
import TestSupport
import Testing
import Vault

@Suite("vault rotate --encryption and rewrap", .enabled(if: TestServices.postgresEnabled))
struct RotationTests {
    static func status(_ fixture: VaultFixture) async throws -> VaultStatus {
        let result = try await fixture.vault(["status", "--json"])
        guard result.status == 0 else { throw FixtureError("vault status failed: \(result)") }
        return try JSONDecoder().decode(VaultStatus.self, from: Data(result.stdout.utf8))
    }

    static func revealLines(_ values: [SeededValue]) -> [String] {
        values.map { "\($0.token)\t\($0.field.rawValue)\t\($0.original)" }
    }

    static func dataKeysDigest(_ fixture: VaultFixture) async throws -> String {
        try await fixture.withSuperuser { session in
            try session.execute(
                "SELECT coalesce(md5(string_agg(dek_id || ':' || vault_key_version || ':' || encode(encapsulated_key, 'hex') || encode(sealed_key, 'hex'), ',' ORDER BY dek_id)), '') AS d FROM vault_data_keys"
            ).rows.first?["d"].string ?? ""
        }
    }

    @Test("rotate → new DEKs on v2; rewrap → none left on v1; v1 private key deleted → every token reveals; rerun is a no-op; all audited")
    func rotateRewrapRetire() async throws {
        let fixture = try await VaultFixture.make()
        defer { Task { await fixture.drop() } }
        let old = try await VaultSeeder.seed(fixture, (0..<12).map { (.ip, "10.1.0.\($0)") }, dataKeys: 3)

        let rotate = try await fixture.vault(["rotate", "--encryption"])
        #expect(rotate.status == 0, "\(rotate)")
        #expect(rotate.stdout.contains("vault key v2 is active (was v1)"), "\(rotate)")
        let privatePath = fixture.keys.vaultPrivateKeyPath(version: 2)
        let mode = try FileManager.default.attributesOfItem(atPath: privatePath)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        #expect(FileManager.default.fileExists(atPath: fixture.keys.vaultPublicKeyPath(version: 2)))
        #expect(try fixture.keys.isPrivateKeyEncrypted(version: 2))
        #expect(try await fixture.scalar("SELECT vault_key_version FROM vault_active") == 2)
        #expect(try await fixture.scalar("SELECT count(*) FROM vault_keys") == 2)
        let rotation = try #require(try await fixture.auditRows().last)
        #expect(rotation.action == "rotate_encryption" && rotation.outcome == "ok" && rotation.detail.contains("v1 -> v2"))

        // New DEKs, made as the pipeline makes them, are sealed to the active key (v2).
        let new = try await VaultSeeder.seed(fixture, (0..<6).map { (.deviceID, "device-\($0)") }, dataKeys: 2)
        #expect(try await fixture.scalar("SELECT count(*) FROM vault_data_keys WHERE vault_key_version = 2") == 2)

        let before = try await Self.status(fixture)
        #expect(before.activeVaultKeyVersion == 2 && before.dataKeysToRewrap == 3)
        #expect(before.vaultKeys == [
            .init(version: 1, dataKeys: 3, privateKeyPresent: true), .init(version: 2, dataKeys: 2, privateKeyPresent: true),
        ])
        let beforeText = try await fixture.vault(["status"])
        #expect(beforeText.stdout.contains("3 data keys to rewrap (vault rewrap)"), "\(beforeText)")

        let rewrap = try await fixture.vault(["rewrap", "--batch", "2"])
        #expect(rewrap.status == 0, "\(rewrap)")
        #expect(rewrap.stdout.contains("rewrapped 3 data keys to vault key v2 (v1: 3)"), "\(rewrap)")
        #expect(rewrap.stdout.contains("vault-v1.pem may be deleted"), "\(rewrap)")
        #expect(rewrap.stderr.isEmpty, "not a terminal: no progress expected\n\(rewrap)")
        #expect(try await fixture.scalar("SELECT count(*) FROM vault_data_keys WHERE vault_key_version = 1") == 0)
        #expect(try await fixture.scalar("SELECT count(*) FROM vault_data_keys WHERE vault_key_version = 2") == 5)
        let rewrapAudit = try #require(try await fixture.auditRows().last)
        #expect(rewrapAudit.action == "rewrap" && rewrapAudit.detail.contains("3 data keys to vault key v2"), "\(rewrapAudit)")

        let after = try await Self.status(fixture)
        #expect(after.dataKeysToRewrap == 0)
        let afterText = try await fixture.vault(["status"])
        #expect(afterText.stdout.contains("pending:            nothing"), "\(afterText)")

        // Retire v1: every token, old and new, still reveals.
        try FileManager.default.removeItem(atPath: fixture.keys.vaultPrivateKeyPath(version: 1))
        let reveal = try await fixture.vault(["reveal", "--stdin", "--reason", "after rotation"], input: (old + new).map(\.token).joined(separator: "\n"))
        #expect(reveal.status == 0, "\(reveal)")
        #expect(reveal.stdoutLines == Self.revealLines(old + new))

        // A second run changes nothing, and is audited too.
        let digest = try await Self.dataKeysDigest(fixture)
        let again = try await fixture.vault(["rewrap"])
        #expect(again.status == 0, "\(again)")
        #expect(again.stdout.contains("rewrapped 0 data keys"), "\(again)")
        #expect(try await Self.dataKeysDigest(fixture) == digest)
        let actions = try await fixture.auditRows().map(\.action)
        #expect(actions.filter { $0 == "rewrap" }.count == 2)
        #expect(actions.filter { $0 == "rotate_encryption" }.count == 1)
        let verify = try await fixture.vault(["audit", "--verify"])
        #expect(verify.status == 0, "\(verify)")
    }

    @Test("two rotations: a stray v3 key file is skipped (v4); rewrap moves DEKs of v1 and v2 to v4")
    func twoRotations() async throws {
        let fixture = try await VaultFixture.make()
        defer { Task { await fixture.drop() } }
        let first = try await VaultSeeder.seed(fixture, [(.ip, "192.0.2.1"), (.ip, "192.0.2.2")], dataKeys: 2)
        #expect(try await fixture.vault(["rotate", "--encryption"]).status == 0)
        let second = try await VaultSeeder.seed(fixture, [(.ip, "192.0.2.3")], dataKeys: 1)
        // A stray key file on disk takes its version: the next rotation goes above it.
        try Data("stray".utf8).write(to: URL(fileURLWithPath: fixture.keys.vaultPublicKeyPath(version: 3)))
        let rotate = try await fixture.vault(["rotate", "--encryption"])
        #expect(rotate.status == 0 && rotate.stdout.contains("vault key v4 is active (was v2)"), "\(rotate)")
        let third = try await VaultSeeder.seed(fixture, [(.deviceID, "d-3")], dataKeys: 1)

        let rewrap = try await fixture.vault(["rewrap"])
        #expect(rewrap.status == 0, "\(rewrap)")
        #expect(rewrap.stdout.contains("rewrapped 3 data keys to vault key v4 (v1: 2, v2: 1)"), "\(rewrap)")
        #expect(try await fixture.scalar("SELECT count(*) FROM vault_data_keys WHERE vault_key_version <> 4") == 0)
        for version in [1, 2] { try FileManager.default.removeItem(atPath: fixture.keys.vaultPrivateKeyPath(version: version)) }
        let all = first + second + third
        let reveal = try await fixture.vault(["reveal"] + all.map(\.token) + ["--reason", "two rotations"])
        #expect(reveal.status == 0, "\(reveal)")
        #expect(reveal.stdoutLines == Self.revealLines(all))
    }

    @Test("rotate: no passphrase source is a usage error (64), nothing registered; no vault init → 69; no flag → 64")
    func rotateRefusals() async throws {
        let fixture = try await VaultFixture.make()
        defer { Task { await fixture.drop() } }
        let noSecret = try await fixture.vault(["rotate", "--encryption"], passphrase: .none)
        #expect(noSecret.status == 64, "\(noSecret)")
        #expect(try await fixture.scalar("SELECT count(*) FROM vault_keys") == 1)
        #expect(!FileManager.default.fileExists(atPath: fixture.keys.vaultPrivateKeyPath(version: 2)))
        #expect(try await fixture.vault(["rotate"]).status == 64)
        let plain = try await fixture.vault(["rotate", "--encryption", "--no-passphrase"])
        #expect(plain.status == 0 && plain.stdout.contains("not passphrase-protected"), "\(plain)")
        #expect(try !fixture.keys.isPrivateKeyEncrypted(version: 2))

        let empty = try await VaultFixture.make(initialize: false)
        defer { Task { await empty.drop() } }
        #expect(try await empty.vault(["rotate", "--encryption"]).status == 69)
    }

    @Test("rewrap without the old private key: 77, nothing changed, denial audited")
    func rewrapNeedsOldKey() async throws {
        let fixture = try await VaultFixture.make()
        defer { Task { await fixture.drop() } }
        _ = try await VaultSeeder.seed(fixture, [(.ip, "198.51.100.7")], dataKeys: 1)
        #expect(try await fixture.vault(["rotate", "--encryption"]).status == 0)
        try FileManager.default.removeItem(atPath: fixture.keys.vaultPrivateKeyPath(version: 1))
        let rewrap = try await fixture.vault(["rewrap"])
        #expect(rewrap.status == 77, "\(rewrap)")
        #expect(try await fixture.scalar("SELECT count(*) FROM vault_data_keys WHERE vault_key_version = 1") == 1)
        let last = try #require(try await fixture.auditRows().last)
        #expect(last.action == "rewrap" && last.outcome != "ok", "\(last)")
    }

    @Test("kill -9 mid-way: committed batches stay on v2, the rest on v1, every token reveals; a rerun finishes")
    func resumable() async throws {
        let fixture = try await VaultFixture.make()
        defer { Task { await fixture.drop() } }
        let values = try await VaultSeeder.seed(fixture, (0..<20).map { (.ip, "203.0.113.\($0)") }, dataKeys: 20)
        #expect(try await fixture.vault(["rotate", "--encryption"]).status == 0)

        // Hold a lock on the 13th DEK: batches 1 and 2 (5 DEKs each) commit, batch 3 waits.
        // The lock is held by one session body (a transaction cannot outlive it) that sleeps
        // until the test cancels it: a fixed sleep could end before a loaded machine starts vault.
        let blocker = try await fixture.database.connect()
        let holding = Task {
            try await blocker.withSession { session in
                try session.transaction {
                    _ = try session.execute("""
                        SELECT dek_id FROM vault_data_keys
                        WHERE dek_id = (SELECT dek_id FROM vault_data_keys ORDER BY dek_id OFFSET 12 LIMIT 1) FOR UPDATE
                        """)
                    _ = try session.execute("SELECT pg_sleep(120), 'rotation-test-blocker'")
                }
            }
        }
        for _ in 0..<200 {
            let sleeping = try await fixture.scalar(
                "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND query LIKE '%rotation-test-blocker%' AND pid <> pg_backend_pid()"
            )
            if sleeping > 0 { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        let process = try ChildProcess(product: "vault", ["rewrap", "--batch", "5"], environment: [
            "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin",
            "VAULT_DATABASE_URL": fixture.database.url, "KEYS_DIR": fixture.keysDirectory,
            "VAULT_PASSPHRASE": VaultFixture.passphrase,
        ], directory: fixture.root)
        var moved: Int64 = 0
        for _ in 0..<200 {
            moved = try await fixture.scalar("SELECT count(*) FROM vault_data_keys WHERE vault_key_version = 2")
            if moved >= 10 { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        try await Task.sleep(for: .milliseconds(300))
        #expect(process.isRunning)
        await process.kill()
        _ = try await fixture.scalar(
            "SELECT count(pg_cancel_backend(pid)) FROM pg_stat_activity WHERE query LIKE '%rotation-test-blocker%' AND pid <> pg_backend_pid()"
        )
        _ = try? await holding.value
        await blocker.close()

        #expect(try await fixture.scalar("SELECT count(*) FROM vault_data_keys WHERE vault_key_version = 2") == 10)
        #expect(try await fixture.scalar("SELECT count(*) FROM vault_data_keys WHERE vault_key_version = 1") == 10)
        let midway = try await fixture.vault(["reveal"] + values.map(\.token) + ["--reason", "mid-rewrap"])
        #expect(midway.status == 0 && midway.stdoutLines == Self.revealLines(values), "\(midway)")

        let rerun = try await fixture.vault(["rewrap", "--batch", "5"])
        #expect(rerun.status == 0 && rerun.stdout.contains("rewrapped 10 data keys"), "\(rerun)")
        try FileManager.default.removeItem(atPath: fixture.keys.vaultPrivateKeyPath(version: 1))
        let final = try await fixture.vault(["reveal"] + values.map(\.token) + ["--reason", "after rewrap"])
        #expect(final.status == 0 && final.stdoutLines == Self.revealLines(values), "\(final)")
    }
}
