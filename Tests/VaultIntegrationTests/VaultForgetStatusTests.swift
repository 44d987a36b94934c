import Foundation
import PIICrypto
import Postgres
import Schema
import TestSupport
import Testing
import Vault

@Suite("vault forget and status", .enabled(if: TestServices.postgresEnabled))
struct VaultForgetStatusTests {
    @Test("forget: audited, entry deleted, marker kept, token stays in user_logins; reveal then says forgotten (65)")
    func forget() async throws {
        let fixture = try await VaultFixture.make()
        defer { Task { await fixture.drop() } }
        let values = try await VaultSeeder.seed(fixture, [(.ip, "192.0.2.44"), (.deviceID, "keep-me")])
        let gone = values[0]

        let result = try await fixture.vault(["forget", gone.token, "--reason", "erasure request #7"])
        #expect(result.status == 0, "\(result)")
        #expect(result.stdout == "forgot token \(gone.token) (ip)\n")
        #expect(try await fixture.scalar("SELECT count(*) FROM pii_vault WHERE token = $1", [.text(gone.token)]) == 0)
        #expect(try await fixture.scalar("SELECT count(*) FROM vault_forgotten WHERE token = $1 AND field = 'ip'", [.text(gone.token)]) == 1)
        #expect(try await fixture.scalar("SELECT count(*) FROM user_logins WHERE masked_ip = $1", [.text(gone.token)]) == 1)
        let audit = try #require(try await fixture.auditRows().last)
        #expect(audit.action == "forget" && audit.outcome == "forgotten" && audit.reason == "erasure request #7" && audit.detail == gone.token)

        let reveal = try await fixture.vault(["reveal", gone.token, values[1].token, "--reason", "after forget"])
        #expect(reveal.status == 65, "\(reveal)")
        #expect(reveal.stdoutLines == ["\(values[1].token)\tdevice_id\tkeep-me"])
        #expect(reveal.stderr.contains("token \(gone.token) was forgotten"), "\(reveal)")

        let again = try await fixture.vault(["forget", gone.token, "--reason", "twice"])
        #expect(again.status == 0 && again.stdout.contains("already forgotten"), "\(again)")
    }

    @Test("forget: unknown token 65, malformed token 65, nothing audited as forgotten")
    func forgetUnknown() async throws {
        let fixture = try await VaultFixture.make()
        defer { Task { await fixture.drop() } }
        let unknown = try await fixture.vault(["forget", VaultSeeder.unknownToken(), "--reason", "r"])
        #expect(unknown.status == 65 && unknown.stderr.contains("unknown token"), "\(unknown)")
        let malformed = try await fixture.vault(["forget", "1.2.3.4", "--reason", "r"])
        #expect(malformed.status == 65 && !malformed.stderr.contains("1.2.3.4"), "\(malformed)")
        #expect(try await fixture.auditRows().map(\.action) == ["init"])
    }

    @Test("status: versions, entries and DEKs per version, audit rows, schema version (text and JSON)")
    func status() async throws {
        let fixture = try await VaultFixture.make()
        defer { Task { await fixture.drop() } }
        _ = try await VaultSeeder.seed(fixture, (0..<10).map { (.ip, "10.9.8.\($0)") }, dataKeys: 3)
        let json = try await fixture.vault(["status", "--json"])
        #expect(json.status == 0, "\(json)")
        let status = try JSONDecoder().decode(VaultStatus.self, from: Data(json.stdout.utf8))
        #expect(status.schemaVersion == Migrator.latestVersion)
        #expect(status.activeTokenKeyVersion == 1 && status.activeVaultKeyVersion == 1)
        #expect(status.tokenKeys == [.init(version: 1, vaultEntries: 10, userLoginRows: 10, keyFilePresent: true)])
        #expect(status.vaultKeys == [.init(version: 1, dataKeys: 3, privateKeyPresent: true)])
        #expect(status.auditRows == 1 && status.forgottenTokens == 0 && status.dataKeysToRewrap == 0)

        let text = try await fixture.vault(["status"])
        #expect(text.status == 0, "\(text)")
        #expect(text.stdout.contains("token key v1:       10 vault entries, 10 user_logins rows, key file present"), "\(text)")
        #expect(text.stdout.contains("vault key v1:       3 data keys, private key present"), "\(text)")
    }

    @Test("usage errors exit 64 with one line on stderr: vault: MESSAGE (see 'vault --help')")
    func usage() async throws {
        let fixture = try await VaultFixture.make(initialize: false)
        defer { Task { await fixture.drop() } }
        for arguments in [["reveal", "--reason", "r"], ["frobnicate"], ["init", "--no-passphrase", "--passphrase-file", "x"]] {
            let result = try await fixture.vault(arguments)
            #expect(result.status == 64, "\(arguments): \(result)")
            #expect(result.stderr.split(separator: "\n").count == 1, "\(arguments): \(result)")
            #expect(result.stderr.hasPrefix("vault: ") && result.stderr.hasSuffix("(see 'vault --help')\n"), "\(arguments): \(result)")
        }
    }
}

/// Token parsing without a database.
@Suite("vault tokens")
struct VaultTokenTests {
    @Test("canonical tokens: 64 hex digits, trimmed, lowercased; anything else is malformed")
    func normalize() {
        let token = String(repeating: "ab", count: 32)
        #expect(VaultToken.normalize(token) == token)
        #expect(VaultToken.normalize("  \(token.uppercased())\r") == token)
        #expect(VaultToken.normalize(String(token.dropLast())) == nil)
        #expect(VaultToken.normalize(token + "0") == nil)
        #expect(VaultToken.normalize(String(token.dropLast()) + "g") == nil)
        #expect(VaultToken.normalize("10.0.0.1") == nil)
        #expect(VaultToken.lines(Array("a\n\n b \r\nc\n  \n".utf8)) == ["a", "b", "c"])
    }
}
