public import PIICrypto

/// The key versions the database says are active, loaded for use (SPEC §4 "Active versions").
public struct ActiveKeys: Sendable {
    /// Tokenizer of the active token key version (holds the derived per-field keys).
    public let tokenizer: Tokenizer
    /// The active vault key version new DEKs are sealed to.
    public let vaultKeyVersion: Int
    /// Its public key (read from the database: `etl` hosts need no file for it).
    public let vaultPublicKey: X25519PublicKey
    /// Hashes user ids under the subject key, once one is registered (`vault subject
    /// forget`): a batch drops the late logins of erased subjects (``SubjectErasureFilter``).
    public var subjectHasher: SubjectHasher? = nil

    /// The active token key version.
    public var tokenKeyVersion: Int { tokenizer.version }
}
