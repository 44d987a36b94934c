import Foundation
import Logging
import PIICrypto
import VaultCrypto
import Postgres
import VaultFormat

/// What `vault rotate --encryption` did.
public struct EncryptionRotationResult: Sendable, Equatable {
    /// The vault key version active before the rotation.
    public let previousVersion: Int
    /// The new active vault key version.
    public let vaultKeyVersion: Int
    /// Paths of the key files written.
    public let files: [String]
    public let passphraseProtected: Bool
}

/// `vault rotate --encryption` (SPEC §4, §5): a new vault key pair, version one above every
/// version on disk or in the database, becomes the active one. Key files (never overwritten),
/// `vault_keys`, `vault_active` and the audit row change together: if the transaction fails
/// the files are removed. Running `etl` processes see the new public key in `vault_active`
/// and seal their next DEK to it; existing DEKs stay on their version until `vault rewrap`.
public struct EncryptionKeyRotator: Sendable {
    public var environment: VaultEnvironment

    public init(environment: VaultEnvironment) { self.environment = environment }

    public func rotate() async throws -> EncryptionRotationResult {
        let environment = self.environment
        let result = try await VaultDatabase.withSession(environment) { session -> EncryptionRotationResult in
            try VaultDatabase.administer(session, action: "rotate_encryption") {
                let registered = try session.execute("SELECT vault_key_version AS v FROM public.vault_active")
                guard registered.rows.first?["v"].int != nil else {
                    throw VaultError(.notInitialized, "no vault key is registered: run vault init first")
                }
                // Asked before any lock is taken, and only once the rotation can happen.
                let passphrase = try environment.passphrase.forNewKey()
                try VaultInitializer.ensureDirectory(environment.keysDirectory)
                return try Self.rotate(session, environment: environment, passphrase: passphrase)
            }
        }
        environment.logger.debug("vault key rotated", metadata: [
            LogKey.previousVersion: "\(result.previousVersion)", LogKey.vaultKeyVersion: "\(result.vaultKeyVersion)",
        ])
        return result
    }

    private static func rotate(
        _ session: PostgresSession, environment: VaultEnvironment, passphrase: String?
    ) throws -> EncryptionRotationResult {
        let directory = environment.keys
        let pair = X25519PrivateKey()
        var written: [String] = []
        do {
            return try session.transaction {
                // The lock serializes concurrent rotations; versions are read after it.
                let active = try session.execute("SELECT vault_key_version AS v FROM public.vault_active FOR UPDATE")
                guard let previous = active.rows.first?["v"].int.map(Int.init) else {
                    throw VaultError(.notInitialized, "no vault key is registered: run vault init first")
                }
                let inDatabase = Int(try session.execute("SELECT coalesce(max(version), 0) AS v FROM public.vault_keys").rows.first?["v"].int ?? 0)
                let onDisk = directory.vaultKeyVersions().max() ?? 0
                let version = max(inDatabase, onDisk, previous) + 1
                let paths = [directory.vaultPrivateKeyPath(version: version), directory.vaultPublicKeyPath(version: version)]

                try session.execute(
                    "INSERT INTO public.vault_keys (version, public_key) VALUES ($1, $2)",
                    [.int(Int64(version)), .bytea(pair.publicKey.rawRepresentation)]
                )
                try session.execute(
                    "UPDATE public.vault_active SET vault_key_version = $1, updated_at = now()",
                    [.int(Int64(version))]
                )
                try AuditLog.append(
                    session, action: "rotate_encryption", outcome: "ok", reason: "",
                    detail: "vault key v\(previous) -> v\(version)\(passphrase == nil ? ", private key not passphrase-protected" : "")"
                )
                // Files last, inside the transaction: a failed write registers nothing; a
                // failed COMMIT removes them below. writeVaultKeyPair never overwrites.
                try directory.writeVaultKeyPair(pair, version: version, passphrase: passphrase)
                written = paths
                return EncryptionRotationResult(
                    previousVersion: previous, vaultKeyVersion: version, files: paths, passphraseProtected: passphrase != nil
                )
            }
        } catch {
            for path in written { try? FileManager.default.removeItem(atPath: path) }
            throw error
        }
    }
}
