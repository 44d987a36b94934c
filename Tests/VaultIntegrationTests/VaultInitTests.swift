import Foundation
import PIICrypto
import VaultCrypto
import Postgres
import TestSupport
import Testing
import Vault
import VaultFormat

@Suite("vault init", .enabled(if: TestServices.postgresEnabled))
struct VaultInitTests {
    @Test("creates token key v1 and vault key pair v1 (0600, protected) and registers them active")
    func createsAndRegisters() async throws {
        let fixture = try await VaultFixture.make()
        defer { Task { await fixture.drop() } }
        let keys = fixture.keys
        #expect(try mode(keys.tokenKeyPath(version: 1)) == 0o600)
        #expect(try mode(keys.vaultPrivateKeyPath(version: 1)) == 0o600)
        #expect(try keys.isPrivateKeyEncrypted(version: 1))
        let rootKey = try keys.readTokenKey(version: 1)
        let privateKey = try keys.readVaultPrivateKey(version: 1, passphrase: VaultFixture.passphrase)

        let registered = try await fixture.withSuperuser { session in
            let token = try session.execute("SELECT version, key_check FROM token_keys").rows
            let vault = try session.execute("SELECT version, public_key FROM vault_keys").rows
            let active = try session.execute("SELECT token_key_version, vault_key_version FROM vault_active").rows
            return (token.count, token.first?["key_check"].string, vault.count, vault.first?["public_key"].bytes,
                    active.first?["token_key_version"].int, active.first?["vault_key_version"].int)
        }
        #expect(registered.0 == 1)
        #expect(registered.1 == VaultFormat.tokenKeyCheck(rootKey))
        #expect(registered.2 == 1)
        #expect(registered.3 == privateKey.publicKey.rawRepresentation)
        #expect(registered.4 == 1 && registered.5 == 1)
        let audit = try await fixture.auditRows()
        #expect(audit.map(\.action) == ["init"])
    }

    @Test("refuses to overwrite existing key files: exit 73, files untouched, database untouched")
    func refusesOverwrite() async throws {
        let fixture = try await VaultFixture.make()
        defer { Task { await fixture.drop() } }
        let before = FileManager.default.contents(atPath: fixture.keys.tokenKeyPath(version: 1))
        let again = try await fixture.vault(["init"])
        #expect(again.status == 73, "\(again)")
        #expect(again.stderrLines.count == 1 && again.stderr.contains("already exists"), "\(again)")
        #expect(FileManager.default.contents(atPath: fixture.keys.tokenKeyPath(version: 1)) == before)
        #expect(try await fixture.scalar("SELECT count(*) FROM token_keys") == 1)
    }

    @Test("refuses a database that already has keys, even with an empty keys directory: exit 73")
    func refusesSecondDatabaseInit() async throws {
        let fixture = try await VaultFixture.make()
        defer { Task { await fixture.drop() } }
        let otherKeys = fixture.root + "/other-keys"
        let result = try await fixture.vault(["init"], environment: ["KEYS_DIR": otherKeys])
        #expect(result.status == 73, "\(result)")
        #expect(result.stderr.contains("already has keys registered"), "\(result)")
        #expect(!FileManager.default.fileExists(atPath: otherKeys + "/token-v1.key"))
    }

    @Test("--no-passphrase writes an unprotected key; --passphrase-file protects it with the file's passphrase")
    func passphraseSources() async throws {
        let plain = try await VaultFixture.make(passphrase: nil)
        defer { Task { await plain.drop() } }
        #expect(try plain.keys.isPrivateKeyEncrypted(version: 1) == false)

        let fixture = try await VaultFixture.make(initialize: false)
        defer { Task { await fixture.drop() } }
        let file = fixture.root + "/pass"
        _ = FileManager.default.createFile(atPath: file, contents: Data("from a file\n".utf8), attributes: [.posixPermissions: 0o600])
        let result = try await fixture.vault(["init", "--passphrase-file", file], passphrase: .none)
        #expect(result.status == 0, "\(result)")
        #expect(try fixture.keys.isPrivateKeyEncrypted(version: 1))
        _ = try fixture.keys.readVaultPrivateKey(version: 1, passphrase: "from a file")
    }

    /// Runs `command` (a shell line) on a pseudo-terminal through util-linux `script`; what
    /// the test writes to `typed` is what a person types at the terminal.
    static func onTerminal(_ fixture: VaultFixture, _ command: String, typed: String) async throws -> CLIResult {
        var environment = ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"]
        environment["VAULT_DATABASE_URL"] = fixture.database.url
        environment["KEYS_DIR"] = fixture.keysDirectory
        return try await ChildProcess.run(path: "/usr/bin/script", ["-qec", command, "/dev/null"], environment: environment, stdin: typed, directory: fixture.root)
    }

    /// (Echo cannot be checked here: `script` hands the typed text to the terminal before the
    /// prompt turns echo off, as a person typing ahead would see it.)
    @Test("the passphrase prompt reads the controlling terminal: init asks twice, reveal --stdin takes tokens on stdin and the passphrase from the terminal")
    func terminalPrompt() async throws {
        let fixture = try await VaultFixture.make(initialize: false)
        defer { Task { await fixture.drop() } }
        let vault = try TestServices.executable("vault")
        let initialized = try await Self.onTerminal(fixture, "\(vault) init", typed: "typed at the tty\ntyped at the tty\n")
        #expect(initialized.status == 0, "\(initialized)")
        #expect(initialized.stdout.contains("New vault key passphrase:"), "\(initialized)")
        _ = try fixture.keys.readVaultPrivateKey(version: 1, passphrase: "typed at the tty")

        let values = try await VaultSeeder.seed(fixture, [(.ip, "198.51.100.23")], dataKeys: 1)
        let revealed = try await Self.onTerminal(
            fixture, "printf '%s\\n' \(values[0].token) | \(vault) reveal --stdin --reason 'terminal prompt test'", typed: "typed at the tty\n"
        )
        #expect(revealed.status == 0, "\(revealed)")
        #expect(revealed.stdout.contains("Vault key passphrase:"), "\(revealed)")
        #expect(revealed.stdout.contains("198.51.100.23"), "\(revealed)")
    }

    @Test("without any passphrase source and no terminal: usage error 64, nothing created")
    func noPassphraseSource() async throws {
        let fixture = try await VaultFixture.make(initialize: false)
        defer { Task { await fixture.drop() } }
        let result = try await fixture.vault(["init"], passphrase: .none)
        #expect(result.status == 64, "\(result)")
        #expect(!FileManager.default.fileExists(atPath: fixture.keys.tokenKeyPath(version: 1)))
        #expect(try await fixture.scalar("SELECT count(*) FROM token_keys") == 0)
    }

    @Test("schema missing: one line saying to run etl migrate first, exit 69, no key files")
    func schemaMissing() async throws {
        let fixture = try await VaultFixture.make(migrate: false, initialize: false)
        defer { Task { await fixture.drop() } }
        for arguments in [["init"], ["status"], ["audit"], ["reveal", VaultSeeder.unknownToken(), "--reason", "r"]] {
            let result = try await fixture.vault(arguments)
            #expect(result.status == 69, "\(arguments): \(result)")
            #expect(result.stderrLines == ["vault: the database has no FetchDE vault schema: run etl migrate first"], "\(result)")
        }
        #expect(!FileManager.default.fileExists(atPath: fixture.keys.tokenKeyPath(version: 1)))
    }

    @Test("database unreachable: exit 69 with one line")
    func databaseUnavailable() async throws {
        let fixture = try await VaultFixture.make(initialize: false)
        defer { Task { await fixture.drop() } }
        let result = try await fixture.vault(["status"], url: "postgresql://postgres@127.0.0.1:1/nothing")
        #expect(result.status == 69, "\(result)")
        #expect(result.stderrLines.count == 1, "\(result)")
    }

    private func mode(_ path: String) throws -> Int {
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        return ((attributes[.posixPermissions] as? NSNumber)?.intValue ?? -1) & 0o777
    }
}
