public import Foundation
public import Logging
public import PIICrypto
import VaultCrypto
public import Postgres
import Schema
import VaultFormat

/// A throwaway database of its own for one test suite, migrated, on the services' cluster.
public struct TestDatabase: Sendable {
    /// Its name and owner (superuser) URL.
    public let name: String
    public let url: String

    /// Creates and migrates a fresh database named after `prefix` on the services' cluster,
    /// or on the cluster of `baseURL` (a superuser URL).
    public static func create(_ prefix: String, migrate: Bool = true, baseURL: String? = nil) async throws -> TestDatabase {
        let base = try baseURL ?? TestServices.requireDatabaseURL()
        let name = TestServices.uniqueName(prefix)
        let admin = try await PostgresConnection.connect(url: base, logger: .test)
        try await admin.withSession { try $0.executeScript("CREATE DATABASE \(name)") }
        await admin.close()
        let database = TestDatabase(name: name, url: Self.replacingDatabase(in: base, with: name))
        if migrate { try await database.migrate() }
        return database
    }

    /// Migrates this database on a new connection, retrying a failed attempt (at most
    /// `attempts` in all, a little longer apart each time). The migration is one transaction,
    /// so a failed attempt leaves nothing behind; what fails here is transient: `CREATE ROLE`
    /// is cluster-wide, so two test databases migrated at the same moment race on the roles
    /// (the loser's retry finds them), and a connection can time out on a loaded machine.
    public func migrate(attempts: Int = 4) async throws {
        for attempt in 1...attempts {
            do {
                let connection = try await connect()
                do {
                    _ = try await Migrator.migrate(connection, logger: .test)
                    await connection.close()
                    return
                } catch {
                    await connection.close()
                    throw error
                }
            } catch {
                if attempt == attempts { throw error }
                try await Task.sleep(for: .milliseconds(200 * attempt))
            }
        }
    }

    /// A new owner connection to this database.
    public func connect() async throws -> PostgresConnection {
        try await PostgresConnection.connect(url: url, logger: .test)
    }

    /// Runs `sql` as the owner and returns the result.
    @discardableResult
    public func query(_ sql: String, _ parameters: [PostgresValue] = []) async throws -> PostgresResult {
        let connection = try await connect()
        defer { Task { await connection.close() } }
        return try await connection.withSession { try $0.execute(sql, parameters) }
    }

    /// The integer in the first column of the first row of `sql`.
    public func scalar(_ sql: String, _ parameters: [PostgresValue] = []) async throws -> Int64 {
        let result = try await query(sql, parameters)
        return result.rows.first?[0].int ?? -1
    }

    /// `url` with its database path replaced (URLs as the services script writes them).
    public static func replacingDatabase(in url: String, with name: String) -> String {
        guard let slash = url.range(of: "/", options: .backwards), url[..<slash.lowerBound].contains("@") else {
            return url + "/" + name
        }
        let rest = url[slash.upperBound...]
        let query = rest.firstIndex(of: "?").map { String(rest[$0...]) } ?? ""
        return String(url[..<slash.upperBound]) + name + query
    }
}

/// Keys for a test: a temporary keys directory with token key and vault key pair version 1,
/// registered as active in a test database — what `vault init` does.
public struct TestKeys: Sendable {
    public let directory: KeyDirectory
    public let rootKey: SecureBytes
    public let vaultKey: X25519PrivateKey

    /// Creates the keys under a fresh temporary directory and registers them in `database`.
    public static func register(in database: TestDatabase) async throws -> TestKeys {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent(TestServices.uniqueName("keys")).path
        let directory = KeyDirectory(path: path)
        let rootKey = SecureBytes.random(count: 32)
        let vaultKey = try X25519PrivateKey()
        try directory.writeTokenKey(rootKey, version: 1)
        try directory.writeVaultKeyPair(vaultKey, version: 1, passphrase: nil)
        try await database.query("INSERT INTO token_keys (version, key_check) VALUES (1, $1)", [.text(VaultFormat.tokenKeyCheck(rootKey))])
        try await database.query("INSERT INTO vault_keys (version, public_key) VALUES (1, $1)", [.bytea(vaultKey.publicKey.rawRepresentation)])
        try await database.query("INSERT INTO vault_active (token_key_version, vault_key_version) VALUES (1, 1)")
        return TestKeys(directory: directory, rootKey: rootKey, vaultKey: vaultKey)
    }

    /// The tokenizer of version 1.
    public var tokenizer: Tokenizer { Tokenizer(rootKey: rootKey, version: 1) }
}

extension Logger {
    /// A logger that drops everything (tests that capture logs make their own).
    public static var test: Logger { Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }) }
}
