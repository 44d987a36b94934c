/// The documented exit codes of `etl` and `vault` (SPEC §5), sysexits-style.
public enum ExitStatus: Int32, Sendable, CaseIterable {
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
    /// Not authorized: key file missing/unreadable/loose, wrong passphrase, database or SQS
    /// permission denied, missing or empty `--reason`.
    case notAuthorized = 77
    /// Configuration error: a config file missing or malformed, a setting out of range.
    case configuration = 78
}

/// A failure raised by the command layer itself (argument checks the parser cannot make,
/// local files and sockets, results that were only partly produced).
public struct CommandError: Error, CustomStringConvertible, Sendable {
    /// What went wrong, as an extensible opaque code.
    public struct Code: Hashable, Sendable, CustomStringConvertible, CaseIterable {
        private let name: String
        private init(_ name: String) { self.name = name }

        /// An argument the parser accepted is still unusable (an unreadable input file, a bad address).
        public static let invalidArgument = Code("invalidArgument")
        /// Some of the requested items were not processed; each was reported on its own line.
        public static let incomplete = Code("incomplete")
        /// Given or stored data failed a check (not a checkpoint file, a broken chain, failed authentication).
        public static let integrityFailure = Code("integrityFailure")
        /// A local resource failed: a pipe, a listening socket, an output file.
        public static let localFailure = Code("localFailure")
        /// A service refused part of a request that is not retryable.
        public static let refused = Code("refused")

        public static let allCases: [Code] = [.invalidArgument, .incomplete, .integrityFailure, .localFailure, .refused]
        public var description: String { name }
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
