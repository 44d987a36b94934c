import Foundation
import Logging
import PIICrypto
import Postgres
import Schema
import TestSupport
import Vault

/// What one run of the `vault` binary did.
typealias CLIResult = ChildProcess.Result

/// A test's own world: a fresh migrated database, a temporary working directory with a keys
/// directory, and the built `vault` binary run as an operator would run it.
struct VaultFixture: Sendable {
    static let passphrase = "correct horse battery staple"

    let database: TestDatabase
    let root: String
    /// The passphrase `vault init` protected the key with (nil: unprotected).
    let passphrase: String?

    var keysDirectory: String { root + "/keys" }
    var keys: KeyDirectory { KeyDirectory(path: keysDirectory) }

    /// A database (migrated unless told otherwise) and, unless told otherwise, `vault init`.
    static func make(
        migrate: Bool = true, initialize: Bool = true, passphrase: String? = VaultFixture.passphrase
    ) async throws -> VaultFixture {
        let database = try await TestDatabase.create("vault", migrate: migrate)
        let root = FileManager.default.temporaryDirectory.appendingPathComponent(TestServices.uniqueName("vaulttest")).path
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        let fixture = VaultFixture(database: database, root: root, passphrase: passphrase)
        if initialize {
            let result = passphrase == nil
                ? try await fixture.vault(["init", "--no-passphrase"])
                : try await fixture.vault(["init"])
            guard result.status == 0 else { throw FixtureError("vault init failed: \(result)") }
        }
        return fixture
    }

    /// Drops the database and the working directory.
    func drop() async {
        try? FileManager.default.removeItem(atPath: root)
        guard let base = TestServices.databaseURL,
              let admin = try? await PostgresConnection.connect(url: base, logger: .test) else { return }
        let name = database.name
        _ = try? await admin.withSession { try $0.executeScript("DROP DATABASE IF EXISTS \(name) WITH (FORCE)") }
        await admin.close()
    }

    // MARK: Running the binary

    /// Runs `vault ARGS` in the working directory with a clean environment: the database URL
    /// (the owner's unless `url` is given), `KEYS_DIR`, and `VAULT_PASSPHRASE` when the
    /// fixture has one (unless `passphrase` says otherwise). stdin is `input` or empty, never
    /// a terminal.
    func vault(
        _ arguments: [String], input: String? = nil, url: String? = nil,
        passphrase: PassphraseChoice = .fixture, environment extra: [String: String] = [:]
    ) async throws -> CLIResult {
        var environment = ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"]
        environment["VAULT_DATABASE_URL"] = url ?? database.url
        environment["KEYS_DIR"] = keysDirectory
        switch passphrase {
        case .fixture: if let value = self.passphrase { environment["VAULT_PASSPHRASE"] = value }
        case .value(let value): environment["VAULT_PASSPHRASE"] = value
        case .none: break
        }
        environment.merge(extra) { $1 }
        return try await ChildProcess.run(product: "vault", arguments, environment: environment, stdin: input, directory: root)
    }

    enum PassphraseChoice: Sendable { case fixture, value(String), none }

    // MARK: Database access as the superuser

    /// Runs `body` on a superuser session of the fixture's database.
    func withSuperuser<T: Sendable>(_ body: @Sendable (PostgresSession) throws -> T) async throws -> T {
        let connection = try await database.connect()
        do {
            let value = try await connection.withSession(body)
            await connection.close()
            return value
        } catch {
            await connection.close()
            throw error
        }
    }

    /// Runs SQL as the superuser with triggers off (`session_replication_role = replica`):
    /// how an attacker with superuser access would tamper.
    func tamper(_ sql: String) async throws {
        try await withSuperuser { session in
            try session.executeScript("SET session_replication_role = replica")
            try session.executeScript(sql)
            try session.executeScript("SET session_replication_role = origin")
        }
    }

    /// Every audit row, in seq order, after folding waiting denials in (as `vault audit` does).
    func auditRows() async throws -> [AuditRecord] {
        try await withSuperuser { session in
            try AuditLog.fold(session)
            var rows: [AuditRecord] = []
            try AuditLog.forEach(session) { rows.append($0); return true }
            return rows
        }
    }

    func scalar(_ sql: String, _ parameters: [PostgresValue] = []) async throws -> Int64 {
        try await database.scalar(sql, parameters)
    }

    /// The fixture's URL as another login (trust authentication in the test cluster).
    func url(asUser user: String) -> String {
        guard var components = URLComponents(string: database.url) else { return database.url }
        components.user = user
        components.password = nil
        return components.string ?? database.url
    }

    /// A library-side environment equivalent to the CLI's.
    func environment(passphrase: String? = nil) -> VaultEnvironment {
        var env: [String: String] = [:]
        if let value = passphrase ?? self.passphrase { env["VAULT_PASSPHRASE"] = value }
        return VaultEnvironment(
            databaseURL: database.url, keysDirectory: keysDirectory,
            passphrase: PassphraseOptions(environment: env, interactive: false), logger: .test
        )
    }
}

struct FixtureError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
