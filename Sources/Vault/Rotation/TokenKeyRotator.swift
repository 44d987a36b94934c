import Foundation
import Logging
import PIICrypto
import Postgres
import VaultFormat

/// What `vault rotate --tokens` did.
public struct TokenRotationResult: Sendable, Equatable {
    /// The token key version active before the rotation.
    public let previousVersion: Int
    /// The new active token key version.
    public let tokenKeyVersion: Int
    /// Path of the token key file written.
    public let file: String
}

/// `vault rotate --tokens` (SPEC §4, §5): a new token root key, version one above every version
/// on disk or in the database, becomes the active one. The key file (never overwritten),
/// `token_keys`, `vault_active` and the audit row change together: if the transaction fails
/// the file is removed.
///
/// `vault_active` is changed under an ACCESS EXCLUSIVE lock, which waits for every `etl`
/// batch transaction that already read it; every later batch reads the new version and is
/// tokenized again with the new key. So once this commits, no row or entry of the old version
/// is written any more, and `vault retokenize` can convert everything there is.
public struct TokenKeyRotator: Sendable {
    public var environment: VaultEnvironment
    /// How long to wait for in-flight `etl` batches before giving up.
    public var lockTimeout: Duration

    public init(environment: VaultEnvironment, lockTimeout: Duration = .seconds(30)) {
        self.environment = environment
        self.lockTimeout = lockTimeout
    }

    public func rotate() async throws -> TokenRotationResult {
        let environment = self.environment
        let lockTimeout = self.lockTimeout
        let result = try await VaultDatabase.withSession(environment) { session -> TokenRotationResult in
            try VaultDatabase.administer(session, action: "rotate_tokens") {
                try VaultInitializer.ensureDirectory(environment.keysDirectory)
                return try Self.rotate(session, keys: environment.keys, lockTimeout: lockTimeout)
            }
        }
        environment.logger.debug("token key rotated", metadata: [
            LogKey.previousVersion: "\(result.previousVersion)", LogKey.tokenKeyVersion: "\(result.tokenKeyVersion)",
        ])
        return result
    }

    private static func rotate(_ session: PostgresSession, keys directory: KeyDirectory, lockTimeout: Duration) throws -> TokenRotationResult {
        let rootKey = SecureBytes.random(count: 32)
        var written: String?
        do {
            return try session.transaction {
                try session.execute("SET LOCAL lock_timeout = \(max(1, lockTimeout.components.seconds * 1000))")
                do {
                    try session.execute("LOCK TABLE public.vault_active IN ACCESS EXCLUSIVE MODE")
                } catch let error as PostgresError where error.sqlState == SQLState.lockNotAvailable {
                    throw VaultError(.busy, "timed out waiting for running etl batches to let go of vault_active; try again")
                }
                let active = try session.execute("SELECT token_key_version AS v FROM public.vault_active")
                guard let previous = active.rows.first?["v"].int.map(Int.init) else {
                    throw VaultError(.notInitialized, "no token key is registered: run vault init first")
                }
                let inDatabase = Int(try session.execute("SELECT coalesce(max(version), 0) AS v FROM public.token_keys").rows.first?["v"].int ?? 0)
                let onDisk = directory.tokenKeyVersions().max() ?? 0
                let version = max(inDatabase, onDisk, previous) + 1

                try session.execute(
                    "INSERT INTO public.token_keys (version, key_check) VALUES ($1, $2)",
                    [.int(Int64(version)), .text(VaultFormat.tokenKeyCheck(rootKey))]
                )
                try session.execute(
                    "UPDATE public.vault_active SET token_key_version = $1, updated_at = now()",
                    [.int(Int64(version))]
                )
                try AuditLog.append(
                    session, action: "rotate_tokens", outcome: "ok", reason: "",
                    detail: "token key v\(previous) -> v\(version)"
                )
                // File last, inside the transaction: a failed write registers nothing; a
                // failed COMMIT removes it below. writeTokenKey never overwrites.
                try directory.writeTokenKey(rootKey, version: version)
                written = directory.tokenKeyPath(version: version)
                return TokenRotationResult(previousVersion: previous, tokenKeyVersion: version, file: directory.tokenKeyPath(version: version))
            }
        } catch {
            if let written { try? FileManager.default.removeItem(atPath: written) }
            throw error
        }
    }
}
