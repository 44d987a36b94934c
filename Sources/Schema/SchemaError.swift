/// Why `etl migrate` refused to change a database. The descriptions name versions, files and
/// objects, never data.
public struct SchemaError: Error, Sendable, CustomStringConvertible {
    /// What went wrong, as an extensible opaque code.
    public struct Code: Hashable, Sendable, CustomStringConvertible, CaseIterable {
        private let name: String
        private init(_ name: String) { self.name = name }

        /// An applied migration's file changed since it was applied.
        public static let checksumMismatch = Code("checksumMismatch")
        /// The database has migrations this build does not know (it is older than the schema).
        public static let newerSchema = Code("newerSchema")
        /// An object the product relies on belongs to another role.
        public static let foreignOwner = Code("foreignOwner")

        public static let allCases: [Code] = [.checksumMismatch, .newerSchema, .foreignOwner]
        public var description: String { name }
    }

    public let code: Code
    public let description: String

    public init(_ code: Code, _ description: String) {
        self.code = code
        self.description = description
    }
}
