import Foundation
import PIICrypto
import VaultCrypto
import TestSupport
import Testing
import Vault

/// Issue 12, item 5: a passphrase OpenSSL's PEM readers cannot take back (1,024 bytes or more)
/// must never protect a registered key, or everything sealed to it afterwards is lost.
@Suite("vault passphrase limit", .enabled(if: TestServices.postgresEnabled))
struct VaultPassphraseLimitTests {
    /// The ways a new key's passphrase reaches `vault` without a terminal.
    enum Source: String, CaseIterable, Sendable { case variable, variableFile, option }

    /// Arguments and passphrase choice for `vault ARGS` taking `passphrase` from `source`.
    static func invocation(
        _ arguments: [String], passphrase: String, source: Source, fixture: VaultFixture
    ) throws -> (arguments: [String], passphrase: VaultFixture.PassphraseChoice, environment: [String: String]) {
        switch source {
        case .variable:
            return (arguments, .value(passphrase), [:])
        case .variableFile, .option:
            let file = fixture.root + "/pass-" + UUID().uuidString
            guard FileManager.default.createFile(
                atPath: file, contents: Data((passphrase + "\n").utf8), attributes: [.posixPermissions: 0o600]
            ) else { throw FixtureError("cannot write \(file)") }
            return source == .option
                ? (arguments + ["--passphrase-file", file], .none, [:])
                : (arguments, .none, ["VAULT_PASSPHRASE_FILE": file])
        }
    }

    static func keyFiles(_ fixture: VaultFixture) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: fixture.keysDirectory)) ?? []).sorted()
    }

    @Test("init refuses a passphrase of 1,024 or 5,000 bytes from every source: exit 64, one line, nothing registered, no key file",
          arguments: [1024, 5000], Source.allCases)
    func initRefusesLongPassphrase(length: Int, source: Source) async throws {
        let fixture = try await VaultFixture.make(initialize: false)
        defer { Task { await fixture.drop() } }
        let passphrase = String(repeating: "p", count: length)
        let run = try Self.invocation(["init"], passphrase: passphrase, source: source, fixture: fixture)
        let result = try await fixture.vault(run.arguments, passphrase: run.passphrase, environment: run.environment)
        #expect(result.status == 64, "\(result)")
        #expect(result.stderrLines.count == 1 && result.stderr.contains("longer than 1023 bytes"), "\(result)")
        #expect(!result.stderr.contains(passphrase))
        #expect(try await fixture.scalar("SELECT (SELECT count(*) FROM token_keys) + (SELECT count(*) FROM vault_keys)") == 0)
        #expect(Self.keyFiles(fixture).isEmpty, "\(Self.keyFiles(fixture))")
    }

    @Test("rotate --encryption refuses a passphrase of 1,024 or 5,000 bytes from every source: v1 stays active, no v2 file",
          arguments: [1024, 5000], Source.allCases)
    func rotateRefusesLongPassphrase(length: Int, source: Source) async throws {
        let fixture = try await VaultFixture.make()
        defer { Task { await fixture.drop() } }
        let before = Self.keyFiles(fixture)
        let passphrase = String(repeating: "q", count: length)
        let run = try Self.invocation(["rotate", "--encryption"], passphrase: passphrase, source: source, fixture: fixture)
        let result = try await fixture.vault(run.arguments, passphrase: run.passphrase, environment: run.environment)
        #expect(result.status == 64, "\(result)")
        #expect(result.stderrLines.count == 1 && result.stderr.contains("longer than 1023 bytes"), "\(result)")
        #expect(try await fixture.scalar("SELECT count(*) FROM vault_keys") == 1)
        #expect(try await fixture.scalar("SELECT vault_key_version FROM vault_active") == 1)
        #expect(Self.keyFiles(fixture) == before)
    }

    @Test("a 1,023-byte passphrase works end to end: init, reveal opens the key; rotate --encryption, reveal after rewrap")
    func longestPassphraseWorks() async throws {
        let passphrase = String(repeating: "ü", count: 511) + "x"  // 1,023 UTF-8 bytes
        #expect(passphrase.utf8.count == 1023)
        let fixture = try await VaultFixture.make(passphrase: passphrase)
        defer { Task { await fixture.drop() } }
        #expect(try fixture.keys.readVaultPrivateKey(version: 1, passphrase: passphrase).publicKey.rawRepresentation.count == 32)
        let values = try await VaultSeeder.seed(fixture, [(.ip, "203.0.113.9"), (.deviceID, "dev-1023")])
        let reveal = try await fixture.vault(["reveal", values[0].token, "--reason", "long passphrase"])
        #expect(reveal.status == 0, "\(reveal)")
        #expect(reveal.stdoutLines == ["\(values[0].token)\tip\t203.0.113.9"])

        let rotate = try await fixture.vault(["rotate", "--encryption"])
        #expect(rotate.status == 0, "\(rotate)")
        let rewrap = try await fixture.vault(["rewrap"])
        #expect(rewrap.status == 0, "\(rewrap)")
        let again = try await fixture.vault(["reveal", values[1].token, "--reason", "after rotation"])
        #expect(again.status == 0, "\(again)")
        #expect(again.stdoutLines == ["\(values[1].token)\tdevice_id\tdev-1023"])
    }
}
