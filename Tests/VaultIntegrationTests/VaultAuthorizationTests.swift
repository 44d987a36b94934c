import Foundation
import PIICrypto
import Postgres
import TestSupport
import Testing
import Vault

/// Exit 77 cases: every one prints one line, reveals nothing, and leaves a denial in the
/// audit log wherever the database is reachable.
@Suite("vault authorization", .enabled(if: TestServices.postgresEnabled))
struct VaultAuthorizationTests {
    /// Runs a reveal that must be refused with 77 and checks the common consequences.
    private func expectDenied(
        _ fixture: VaultFixture, _ arguments: [String], url: String? = nil,
        passphrase: VaultFixture.PassphraseChoice = .fixture, message: String
    ) async throws {
        let before = try await fixture.auditRows().count
        let result = try await fixture.vault(arguments, url: url, passphrase: passphrase)
        #expect(result.status == 77, "\(result)")
        #expect(result.stdout.isEmpty, "\(result)")
        #expect(result.stderrLines.count == 1 && result.stderr.contains(message), "\(result)")
        let audit = try await fixture.auditRows()
        #expect(audit.count == before + 1, "one denial row expected")
        #expect(audit.last?.outcome == "denied")
        #expect(!audit.contains { $0.outcome == "granted" && $0.seq > Int64(before) })
    }

    private func seeded() async throws -> (VaultFixture, SeededValue) {
        let fixture = try await VaultFixture.make()
        let values = try await VaultSeeder.seed(fixture, [(.ip, "203.0.113.9")])
        return (fixture, values[0])
    }

    @Test("missing or empty --reason: 77 and a denial row")
    func reasonRequired() async throws {
        let (fixture, value) = try await seeded()
        defer { Task { await fixture.drop() } }
        try await expectDenied(fixture, ["reveal", value.token], message: "--reason is required")
        try await expectDenied(fixture, ["reveal", value.token, "--reason", "  "], message: "--reason is required")
        try await expectDenied(fixture, ["forget", value.token, "--reason", ""], message: "--reason is required")
    }

    @Test("wrong passphrase: 77")
    func wrongPassphrase() async throws {
        let (fixture, value) = try await seeded()
        defer { Task { await fixture.drop() } }
        try await expectDenied(fixture, ["reveal", value.token, "--reason", "r"], passphrase: .value("not it"), message: "wrong or missing passphrase")
    }

    @Test("protected key and no passphrase anywhere (no terminal): 77")
    func noPassphrase() async throws {
        let (fixture, value) = try await seeded()
        defer { Task { await fixture.drop() } }
        try await expectDenied(fixture, ["reveal", value.token, "--reason", "r"], passphrase: .none, message: "passphrase-protected")
    }

    @Test("loose private key file (group/other readable): 77 naming the chmod")
    func looseKeyFile() async throws {
        let (fixture, value) = try await seeded()
        defer { Task { await fixture.drop() } }
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: fixture.keys.vaultPrivateKeyPath(version: 1))
        try await expectDenied(fixture, ["reveal", value.token, "--reason", "r"], message: "chmod 600")
    }

    @Test("loose passphrase file: 77")
    func loosePassphraseFile() async throws {
        let (fixture, value) = try await seeded()
        defer { Task { await fixture.drop() } }
        let file = fixture.root + "/pass"
        _ = FileManager.default.createFile(atPath: file, contents: Data(VaultFixture.passphrase.utf8), attributes: [.posixPermissions: 0o644])
        try await expectDenied(fixture, ["reveal", value.token, "--reason", "r", "--passphrase-file", file], passphrase: .none, message: "chmod 600")
    }

    @Test("missing private key file: 77")
    func missingKeyFile() async throws {
        let (fixture, value) = try await seeded()
        defer { Task { await fixture.drop() } }
        let path = fixture.keys.vaultPrivateKeyPath(version: 1)
        try FileManager.default.moveItem(atPath: path, toPath: path + ".away")
        try await expectDenied(fixture, ["reveal", value.token, "--reason", "r"], message: "no private key for vault key version 1")
    }

    @Test("unreadable or malformed private key file: 77")
    func unreadableKeyFile() async throws {
        let (fixture, value) = try await seeded()
        defer { Task { await fixture.drop() } }
        let path = fixture.keys.vaultPrivateKeyPath(version: 1)
        try FileManager.default.removeItem(atPath: path)
        _ = FileManager.default.createFile(atPath: path, contents: Data("-----BEGIN PRIVATE KEY-----\ngarbage\n".utf8), attributes: [.posixPermissions: 0o600])
        try await expectDenied(fixture, ["reveal", value.token, "--reason", "r"], message: "vault-v1.pem")
    }

    @Test("login that is not a member of vault_admin: 77, and the denial is audited under that login")
    func notAMember() async throws {
        let (fixture, value) = try await seeded()
        defer { Task { await fixture.drop() } }
        let login = TestServices.uniqueName("intruder")
        try await fixture.withSuperuser { try $0.executeScript("CREATE ROLE \(login) LOGIN") }
        try await expectDenied(fixture, ["reveal", value.token, "--reason", "r"], url: fixture.url(asUser: login), message: "may not act as vault_admin")
        #expect(try await fixture.auditRows().last?.actor == login)
        let status = try await fixture.vault(["status"], url: fixture.url(asUser: login))
        #expect(status.status == 77, "\(status)")
    }

    @Test("audit row cannot be written: nothing revealed (77), the refusal itself still recorded")
    func auditUnwritable() async throws {
        let (fixture, value) = try await seeded()
        defer { Task { await fixture.drop() } }
        try await fixture.withSuperuser {
            try $0.executeScript("REVOKE EXECUTE ON FUNCTION fetchde.audit_append(text, text, text, text) FROM vault_admin")
        }
        try await expectDenied(fixture, ["reveal", value.token, "--reason", "r"], message: "permission denied")
    }
}
