/// Why `etl migrate` refused to change a database. The descriptions name versions, files and
/// objects, never data.
public struct SchemaError: Error, Sendable, CustomStringConvertible {
    public enum Code: Sendable {
        /// An applied migration's file changed since it was applied.
        case checksumMismatch
        /// The database has migrations this build does not know (it is older than the schema).
        case newerSchema
        /// An object the product relies on belongs to another role.
        case foreignOwner
    }

    public let code: Code
    public let description: String

    init(_ code: Code, _ description: String) {
        self.code = code
        self.description = description
    }
}
