public import PIICrypto

/// One step of the schema's history: `SQL/migrations/NNNN-name.sql`, applied once, in its
/// version's order, and never edited after it has shipped (a change is a new migration). The
/// file's first line is a `-- ` comment that summarizes it. `etl migrate` records each applied
/// migration's checksum and refuses to go on when a file no longer matches it.
public struct Migration: Sendable {
    /// Monotonic version number: the file name's leading digits.
    public let version: Int
    /// The file's path below `SQL/`.
    public let path: String
    /// What it does, for logs and `vault status`: the file's first comment line.
    public let summary: String
    /// The whole file, comments included; every statement tolerates a database where it
    /// already took effect (`IF NOT EXISTS`, guarded `DO` blocks).
    public let sql: String

    /// Lowercase hex SHA-256 of the file's text.
    public var checksum: String { SHA256.hexHash(sql) }

    init?(path: String, text: String) {
        let name = path.split(separator: "/").last.map(String.init) ?? path
        guard let version = Int(name.prefix { $0.isNumber }), version > 0 else { return nil }
        let firstLine = text.prefix { $0 != "\n" }
        self.version = version
        self.path = path
        self.summary = firstLine.hasPrefix("-- ") ? String(firstLine.dropFirst(3)) : name
        self.sql = text
    }
}

/// The embedded SQL, sorted into the history (migrations) and the code re-applied on every
/// `etl migrate` (stored functions, triggers and their grants: `SQL/functions/`).
enum SchemaSQL {
    static let migrations: [Migration] = EmbeddedSQL.files
        .filter { $0.path.hasPrefix("migrations/") }
        .compactMap { Migration(path: $0.path, text: $0.text) }
        .sorted { $0.version < $1.version }

    static let functions: [(path: String, text: String)] = EmbeddedSQL.files
        .filter { $0.path.hasPrefix("functions/") }
        .sorted { $0.path < $1.path }
}
