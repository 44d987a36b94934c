/// A pipeline failure with a safe, one-line description (never a value, body or key).
public struct PipelineError: Error, CustomStringConvertible, Sendable {
    /// What went wrong, extensible.
    public struct Code: Sendable, Hashable, CustomStringConvertible, CaseIterable {
        let name: String
        public var description: String { name }
        /// `etl migrate` has not run, or `vault init` has not registered the keys.
        public static let notInitialized = Code(name: "not initialized")
        /// The token key file does not match the version the database says is active.
        public static let keyMismatch = Code(name: "key mismatch")
        /// An input file could not be read.
        public static let input = Code(name: "input")
        /// The active keys cannot be loaded (missing or unreadable file).
        public static let keysUnavailable = Code(name: "keys unavailable")
        /// A token-key rotation committed after the batch was tokenized: nothing was written;
        /// tokenize it again with the new key.
        public static let keysChanged = Code(name: "keys changed")
        /// The database kept refusing a batch (not as data) past the retry budget.
        public static let databaseRefused = Code(name: "database refused")

        public static let allCases: [Code] = [
            .notInitialized, .keyMismatch, .input, .keysUnavailable, .keysChanged, .databaseRefused,
        ]
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
