import Foundation
import PIICrypto
import Postgres
import TestSupport
import Testing
import Vault

/// Ciphertexts that fail authentication are integrity errors (65) for their token only,
/// and are never printed.
@Suite("vault reveal integrity", .enabled(if: TestServices.postgresEnabled))
struct VaultIntegrityTests {
    private func seeded() async throws -> (VaultFixture, [SeededValue]) {
        let fixture = try await VaultFixture.make()
        let values = try await VaultSeeder.seed(fixture, [(.ip, "192.0.2.1"), (.ip, "192.0.2.2"), (.deviceID, "dev-3")], dataKeys: 2)
        return (fixture, values)
    }

    private func expectIntegrityErrors(
        _ fixture: VaultFixture, _ values: [SeededValue], broken: [SeededValue], extra: [String] = []
    ) async throws {
        let result = try await fixture.vault(["reveal", "--reason", "integrity"] + values.map(\.token) + extra)
        #expect(result.status == 65, "\(result)")
        let intact = values.filter { value in !broken.contains(value) }
        #expect(result.stdoutLines == intact.map { "\($0.token)\t\($0.field.rawValue)\t\($0.original)" }, "\(result)")
        for value in broken {
            #expect(result.stderr.contains("integrity error: the \(value.field.rawValue) entry of token \(value.token)"), "\(result)")
            #expect(!result.stdout.contains(value.original) && !result.stderr.contains(value.original))
        }
    }

    @Test("ciphertexts swapped between two rows")
    func swapped() async throws {
        let (fixture, values) = try await seeded()
        defer { Task { await fixture.drop() } }
        try await fixture.withSuperuser { session in
            _ = try session.execute(
                """
                UPDATE pii_vault SET ciphertext = CASE token WHEN $1 THEN (SELECT ciphertext FROM pii_vault WHERE token = $2)
                                                             ELSE (SELECT ciphertext FROM pii_vault WHERE token = $1) END
                WHERE token IN ($1, $2)
                """,
                [.text(values[0].token), .text(values[1].token)]
            )
        }
        try await expectIntegrityErrors(fixture, values, broken: [values[0], values[1]])
    }

    @Test("a row moved to another token")
    func moved() async throws {
        let (fixture, values) = try await seeded()
        defer { Task { await fixture.drop() } }
        let other = VaultSeeder.unknownToken()
        try await fixture.withSuperuser { session in
            _ = try session.execute("UPDATE pii_vault SET token = $2 WHERE token = $1", [.text(values[2].token), .text(other)])
        }
        let result = try await fixture.vault(["reveal", other, "--reason", "moved"])
        #expect(result.status == 65, "\(result)")
        #expect(result.stdout.isEmpty && result.stderr.contains("integrity error"), "\(result)")
    }

    @Test("a flipped bit in a ciphertext")
    func flipped() async throws {
        let (fixture, values) = try await seeded()
        defer { Task { await fixture.drop() } }
        try await fixture.withSuperuser { session in
            _ = try session.execute(
                "UPDATE pii_vault SET ciphertext = set_byte(ciphertext, 14, get_byte(ciphertext, 14) # 1) WHERE token = $1",
                [.text(values[1].token)]
            )
        }
        try await expectIntegrityErrors(fixture, values, broken: [values[1]])
    }

    @Test("an entry pointed at another data key, and a tampered sealed data key")
    func dataKeys() async throws {
        let (fixture, values) = try await seeded()
        defer { Task { await fixture.drop() } }
        // values[0] and values[2] share DEK 1 (round robin over two DEKs); values[1] has DEK 2.
        try await fixture.withSuperuser { session in
            _ = try session.execute(
                "UPDATE pii_vault SET dek_id = (SELECT max(dek_id) FROM vault_data_keys) WHERE token = $1",
                [.text(values[0].token)]
            )
        }
        try await expectIntegrityErrors(fixture, values, broken: [values[0]])
        try await fixture.withSuperuser { session in
            try session.executeScript(
                "UPDATE vault_data_keys SET sealed_key = set_byte(sealed_key, 3, get_byte(sealed_key, 3) # 1) WHERE dek_id = (SELECT min(dek_id) FROM vault_data_keys)"
            )
        }
        // values[0] still points at the wrong DEK; values[2]'s own DEK is now broken too.
        try await expectIntegrityErrors(fixture, values, broken: [values[0], values[2]])
    }
}
