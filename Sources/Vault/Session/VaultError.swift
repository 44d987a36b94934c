/// A failure of a vault operation, with the category the CLI maps to its exit status
/// (SPEC §5) and a one-line message that never holds a secret, a passphrase or plaintext.
public struct VaultError: Error, CustomStringConvertible, Sendable {
    /// What kind of failure, independent of how a front end reports it.
    public enum Kind: Sendable, Equatable {
        /// The command was called wrongly (64).
        case usage
        /// Bad input data: unknown, malformed or forgotten token, failed authentication (65).
        case dataError
        /// The database is not there or not set up (69).
        case unavailable
        /// `vault init` would overwrite existing keys (73).
        case cannotCreate
        /// Not authorized: key file, passphrase, database permission, missing reason (77).
        case notAuthorized
        /// Anything else (1).
        case failure
    }

    public let kind: Kind
    public let message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }

    /// The database has no FetchDE schema (or an incomplete one).
    static let schemaMissing = VaultError(
        .unavailable, "the database has no FetchDE vault schema: run etl migrate first"
    )

    /// `--reason` absent or blank.
    static let reasonRequired = VaultError(
        .notAuthorized, "--reason is required and must not be empty (every reveal and forget is audited)"
    )
}
