/// A failure of a vault operation: an opaque ``Code`` saying what went wrong and a one-line
/// message that never holds a secret, a passphrase or plaintext.
///
/// It lives beside the formats both programs share, not in `Vault`, so that the command
/// layer's one error mapping (`CommandSupport.ErrorReporting`) can name every code without
/// linking the vault (and its opening crypto) into `etl`.
public struct VaultError: Error, CustomStringConvertible, Sendable {
    /// What went wrong, as an extensible opaque code (`error.code == .reasonRequired`).
    public struct Code: Hashable, Sendable, CustomStringConvertible, CaseIterable {
        private let name: String
        private init(_ name: String) { self.name = name }

        /// The command was called wrongly: a missing or malformed argument, a bad passphrase choice.
        public static let invalidArgument = Code("invalidArgument")
        /// `--reason` absent or blank: every opening and erasure is audited with one.
        public static let reasonRequired = Code("reasonRequired")
        /// The database login may not act as `vault_admin`.
        public static let notAuthorized = Code("notAuthorized")
        /// A key file the operation needs is absent or is not the registered key.
        public static let keyUnavailable = Code("keyUnavailable")
        /// The private key's passphrase is not available or cannot be read.
        public static let passphraseUnavailable = Code("passphraseUnavailable")
        /// A token is malformed or unknown.
        public static let invalidToken = Code("invalidToken")
        /// Stored or given data failed a check: a broken audit chain, a checkpoint that does not verify.
        public static let integrityFailure = Code("integrityFailure")
        /// The audit log has no record yet (nothing to checkpoint).
        public static let emptyAuditLog = Code("emptyAuditLog")
        /// The database has no (or an incomplete) FetchDE schema: run `etl migrate`.
        public static let schemaMissing = Code("schemaMissing")
        /// No keys are registered: run `vault init`.
        public static let notInitialized = Code("notInitialized")
        /// The database cannot be reached under the transport policy (TLS verification).
        public static let databaseUnavailable = Code("databaseUnavailable")
        /// `vault init` would overwrite existing keys, or cannot make the keys directory.
        public static let cannotCreateKeys = Code("cannotCreateKeys")
        /// Another session holds what this operation needs (a lock, the retokenize lease); try again.
        public static let busy = Code("busy")
        /// A registered key in the database is malformed.
        public static let malformedKey = Code("malformedKey")
        /// Rows changed under the operation; run it again.
        public static let concurrentChange = Code("concurrentChange")
        /// A token-key rotation must finish (`vault retokenize`) first.
        public static let rotationUnfinished = Code("rotationUnfinished")
        /// `--method rebuild` was asked for and a table cannot be rebuilt.
        public static let rebuildRefused = Code("rebuildRefused")
        /// An internal invariant failed (a bug): nothing secret, nothing partial committed.
        public static let internalFailure = Code("internalFailure")

        public static let allCases: [Code] = [
            .invalidArgument, .reasonRequired, .notAuthorized, .keyUnavailable, .passphraseUnavailable,
            .invalidToken, .integrityFailure, .emptyAuditLog, .schemaMissing, .notInitialized,
            .databaseUnavailable, .cannotCreateKeys, .busy, .malformedKey, .concurrentChange,
            .rotationUnfinished, .rebuildRefused, .internalFailure,
        ]

        public var description: String { name }
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }

    /// Whether this is a refusal (who or what may open the vault), which the vault audits as a
    /// denial; the command layer reports these as not authorized (77).
    public var isRefusal: Bool {
        code == .reasonRequired || code == .notAuthorized || code == .keyUnavailable || code == .passphraseUnavailable
    }

    /// The database has no FetchDE schema (or an incomplete one).
    public static let schemaMissing = VaultError(
        .schemaMissing, "the database has no FetchDE vault schema: run etl migrate first"
    )

    /// `--reason` absent or blank.
    public static let reasonRequired = VaultError(
        .reasonRequired, "--reason is required and must not be empty (every reveal and forget is audited)"
    )
}
