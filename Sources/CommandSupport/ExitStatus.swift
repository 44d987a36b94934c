/// The documented exit codes of `etl` and `vault` (SPEC §5), sysexits-style.
public enum ExitStatus: Int32, Sendable {
    case success = 0
    case failure = 1
    /// Usage error (also ArgumentParser's validation failures).
    case usage = 64
    /// Bad input data: unknown, malformed or forgotten token; a ciphertext failing authentication.
    case dataError = 65
    /// A service (PostgreSQL, SQS) unavailable when a one-shot command needs it.
    case unavailable = 69
    /// `vault init` would overwrite existing keys.
    case cannotCreate = 73
    /// Not authorized: key file missing/unreadable/loose, wrong passphrase, permission denied,
    /// missing or empty `--reason`.
    case notAuthorized = 77
}

/// An error that knows its exit status and a one-line, secret-free message for stderr.
public protocol CommandFailure: Error {
    var exitStatus: ExitStatus { get }
    var message: String { get }
}

/// A failure raised by the command layer itself.
public struct CommandError: CommandFailure, CustomStringConvertible {
    public let exitStatus: ExitStatus
    public let message: String
    public init(_ status: ExitStatus, _ message: String) {
        self.exitStatus = status
        self.message = message
    }
    public var description: String { message }
}
