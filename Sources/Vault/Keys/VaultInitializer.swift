import Foundation
import Logging
import PIICrypto
import VaultCrypto
import Postgres
import VaultFormat

/// What `vault init` created.
public struct InitResult: Sendable, Equatable {
    public let tokenKeyVersion: Int
    public let vaultKeyVersion: Int
    /// Paths of the key files written.
    public let files: [String]
    public let passphraseProtected: Bool
}

/// `vault init` (SPEC §5): token root key v1 and vault key pair v1 in the keys directory (and
/// the subject and audit checkpoint keys when absent),
/// registered in the database with v1/v1 active, audited. Never overwrites a key file and
/// never re-initializes a database that already has keys (both: ``VaultError/Code/cannotCreateKeys``).
public struct VaultInitializer: Sendable {
    public var environment: VaultEnvironment

    public init(environment: VaultEnvironment) { self.environment = environment }

    static let version = 1

    public func initialize() async throws -> InitResult {
        let directory = environment.keys
        let version = Self.version
        let paths = [
            directory.tokenKeyPath(version: version), directory.vaultPrivateKeyPath(version: version),
            directory.vaultPublicKeyPath(version: version),
        ]
        for path in paths where FileManager.default.fileExists(atPath: path) {
            throw VaultError(.cannotCreateKeys, "\(path) already exists: vault init never overwrites keys (use vault rotate for new versions)")
        }

        let environment = self.environment
        let result = try await VaultDatabase.withSession(environment) { session -> InitResult in
            try VaultDatabase.requireSchema(session)
            try VaultDatabase.assumeVaultAdmin(session, action: "init", reason: "", detail: "")
            let registered = try session.execute(
                "SELECT (SELECT count(*) FROM public.token_keys) + (SELECT count(*) FROM public.vault_keys) AS n"
            )
            guard (registered.rows.first?["n"].int ?? 0) == 0 else {
                throw VaultError(.cannotCreateKeys, "the database already has keys registered: vault init runs once per database (vault status shows them)")
            }
            // Asked only now, so nobody types a passphrase for an init that cannot happen.
            let passphrase = try environment.passphrase.forNewKey()
            try Self.ensureDirectory(environment.keysDirectory)

            let rootKey = SecureBytes.random(count: 32)
            let pair = X25519PrivateKey()
            var written: [String] = []
            do {
                try session.transaction {
                    try session.execute(
                        "INSERT INTO public.token_keys (version, key_check) VALUES ($1, $2)",
                        [.int(Int64(version)), .text(VaultFormat.tokenKeyCheck(rootKey))]
                    )
                    try session.execute(
                        "INSERT INTO public.vault_keys (version, public_key) VALUES ($1, $2)",
                        [.int(Int64(version)), .bytea(pair.publicKey.rawRepresentation)]
                    )
                    try session.execute(
                        "INSERT INTO public.vault_active (singleton, token_key_version, vault_key_version) VALUES (true, $1, $1)",
                        [.int(Int64(version))]
                    )
                    try AuditLog.append(
                        session, action: "init", outcome: "ok", reason: "",
                        detail: "token key v\(version), vault key v\(version)\(passphrase == nil ? ", private key not passphrase-protected" : "")"
                    )
                    // Files last, inside the transaction: if either write fails nothing is
                    // registered; if COMMIT fails the files are removed below.
                    try directory.writeTokenKey(rootKey, version: version)
                    written.append(paths[0])
                    try directory.writeVaultKeyPair(pair, version: version, passphrase: passphrase)
                    written.append(contentsOf: paths[1...])
                    // The subject key (registered by the first subject request, so etl hosts
                    // need it only from then on) and the audit checkpoint key, unless present.
                    if !directory.subjectKeyExists() {
                        _ = try directory.loadOrCreateSubjectKey()
                        written.append(directory.subjectKeyPath)
                    }
                    if !directory.checkpointKeyExists() {
                        _ = try directory.loadOrCreateCheckpointKey()
                        written.append(directory.checkpointKeyPath)
                    }
                }
            } catch {
                for path in written { try? FileManager.default.removeItem(atPath: path) }
                throw error
            }
            return InitResult(tokenKeyVersion: version, vaultKeyVersion: version, files: written, passphraseProtected: passphrase != nil)
        }
        environment.logger.debug("vault initialized", metadata: [
            LogKey.tokenKeyVersion: "\(result.tokenKeyVersion)", LogKey.vaultKeyVersion: "\(result.vaultKeyVersion)",
        ])
        return result
    }

    /// Creates the keys directory (mode 0700) when it does not exist yet.
    static func ensureDirectory(_ path: String) throws {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else { throw VaultError(.cannotCreateKeys, "keys directory \(path) is not a directory") }
            return
        }
        do {
            try FileManager.default.createDirectory(
                atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700]
            )
        } catch {
            throw VaultError(.cannotCreateKeys, "cannot create keys directory \(path)")
        }
    }
}
