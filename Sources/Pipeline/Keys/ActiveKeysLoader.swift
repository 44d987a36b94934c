public import PIICrypto
public import Postgres
import VaultFormat

/// Reads `vault_active` and loads what it names: the token key from the keys directory
/// (checked against the registered check value) and the vault public key from the database.
public struct ActiveKeysLoader: Sendable {
    /// Where the token key files live.
    public let keys: KeyDirectory

    public init(keys: KeyDirectory) {
        self.keys = keys
    }

    /// The active versions as recorded in the database.
    public struct Versions: Sendable, Equatable {
        public let tokenKeyVersion: Int
        public let vaultKeyVersion: Int
        let keyCheck: String
        let publicKey: [UInt8]
        /// The check value of the registered subject key (nil: no subject erased yet).
        var subjectKeyCheck: String? = nil
    }

    /// Reads the active versions (throws `.notInitialized` when `vault init` has not run).
    public func readVersions(_ session: PostgresSession) throws -> Versions {
        let result = try session.execute("""
            SELECT a.token_key_version, a.vault_key_version, t.key_check, v.public_key
            FROM public.vault_active a
            JOIN public.token_keys t ON t.version = a.token_key_version
            JOIN public.vault_keys v ON v.version = a.vault_key_version
            """)
        guard let row = result.rows.first,
              let token = row["token_key_version"].int, let vault = row["vault_key_version"].int,
              let check = row["key_check"].string, let publicKey = row["public_key"].bytes
        else {
            throw PipelineError(.notInitialized, "no active keys registered: run `vault init` first")
        }
        let subject = try session.execute(StagingSQL.subjectKeyCheck).rows.first?[0].string
        return Versions(
            tokenKeyVersion: Int(token), vaultKeyVersion: Int(vault), keyCheck: check, publicKey: publicKey,
            subjectKeyCheck: subject
        )
    }

    /// Loads the keys for `versions`. The token key file must exist, be private (0600) and
    /// match the registered check value; otherwise the pipeline must not write tokens.
    public func load(_ versions: Versions) throws -> ActiveKeys {
        let rootKey = try keys.readTokenKey(version: versions.tokenKeyVersion)
        guard VaultFormat.tokenKeyCheck(rootKey) == versions.keyCheck else {
            throw PipelineError(
                .keyMismatch,
                "token key file for version \(versions.tokenKeyVersion) does not match the registered key"
            )
        }
        var subjectHasher: SubjectHasher?
        if let subjectCheck = versions.subjectKeyCheck {
            // Without the registered subject key, logins of erased subjects cannot be told
            // apart: the pipeline must not write (like a missing token key).
            let hasher = SubjectHasher(rootKey: try keys.readSubjectKey())
            guard hasher.keyCheck == subjectCheck else {
                throw PipelineError(.keyMismatch, "subject key file \(keys.subjectKeyPath) does not match the registered subject key")
            }
            subjectHasher = hasher
        }
        return ActiveKeys(
            tokenizer: Tokenizer(rootKey: rootKey, version: versions.tokenKeyVersion),
            vaultKeyVersion: versions.vaultKeyVersion,
            vaultPublicKey: try X25519PublicKey(rawRepresentation: versions.publicKey),
            subjectHasher: subjectHasher
        )
    }

    /// Reads the active versions on `writer`'s connection and loads their keys.
    public func loadActive(using writer: BatchWriter) async throws -> ActiveKeys {
        let connection = try await writer.connection()
        let versions = try await connection.withSession { session in try readVersions(session) }
        return try load(versions)
    }
}
