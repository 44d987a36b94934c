/// An error from the database layer.
///
/// `description` is safe to log and show: it holds the error code, the SQLSTATE and schema
/// names (constraint, table) only — never the server's message text, its DETAIL, or any
/// parameter value, because server messages embed values
/// (`invalid input syntax for type integer: "…"`). `debugDescription` adds the server's
/// primary message for local debugging; it can hold data and is not for logs.
public struct PostgresError: Error, Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    /// What went wrong, as an extensible set of codes (compare with `==`).
    public struct Code: Sendable, Hashable, CustomStringConvertible, CaseIterable {
        private let name: String
        private init(_ name: String) { self.name = name }

        /// The connection could not be established.
        public static let connectionFailed = Code("connection failed")
        /// The connection broke during a command; reconnect.
        public static let connectionLost = Code("connection lost")
        /// The connection was closed by this process (``PostgresConnection/close()``).
        public static let connectionClosed = Code("connection closed")
        /// The server rejected a command; see ``PostgresError/sqlState``.
        public static let queryFailed = Code("query failed")
        /// A `COPY … FROM STDIN` failed or was aborted.
        public static let copyFailed = Code("copy failed")
        /// The server's reply was not what the command should produce.
        public static let protocolViolation = Code("protocol violation")
        /// A result value could not be decoded as the requested type.
        public static let decodingFailed = Code("decoding failed")
        /// A value cannot be sent (for example text containing a NUL byte).
        public static let encodingFailed = Code("encoding failed")
        /// A round trip passed its client-side deadline: it was cancelled and the connection
        /// dropped; reconnect and retry.
        public static let deadlineExceeded = Code("deadline exceeded")

        public static let allCases: [Code] = [
            .connectionFailed, .connectionLost, .connectionClosed, .queryFailed, .copyFailed, .protocolViolation,
            .decodingFailed, .encodingFailed, .deadlineExceeded,
        ]

        public var description: String { name }
    }

    /// What went wrong.
    public let code: Code
    /// The five-character SQLSTATE reported by the server, when there was one.
    public let sqlState: String?
    /// The violated constraint's name (integrity errors).
    public let constraint: String?
    /// The table's name, when the server reports one.
    public let table: String?
    /// The schema's name, when the server reports one.
    public let schema: String?
    /// The column's name, when the server reports one (or the result column that failed to decode).
    public let column: String?
    /// A fixed client-side explanation; never holds data values.
    let reason: String?
    /// The server's or libpq's primary message: may embed values, so debug output only.
    let primaryMessage: String?

    init(
        code: Code, sqlState: String? = nil, constraint: String? = nil, table: String? = nil,
        schema: String? = nil, column: String? = nil, reason: String? = nil, primaryMessage: String? = nil
    ) {
        self.code = code
        self.sqlState = sqlState
        self.constraint = constraint
        self.table = table
        self.schema = schema
        self.column = column
        self.reason = reason
        self.primaryMessage = primaryMessage
    }

    /// True when the connection is gone or the server is going away: reconnect and retry.
    public var isConnectionError: Bool {
        if code == .connectionFailed || code == .connectionLost || code == .connectionClosed
            || code == .deadlineExceeded { return true }
        guard let sqlState else { return false }
        return sqlState.hasPrefix("08")
            || sqlState == SQLState.adminShutdown
            || sqlState == SQLState.crashShutdown
            || sqlState == SQLState.cannotConnectNow
    }

    /// True for SQLSTATE 42501 (insufficient_privilege).
    public var isPermissionDenied: Bool { sqlState == SQLState.insufficientPrivilege }

    /// True for SQLSTATE 23505 (unique_violation).
    public var isUniqueViolation: Bool { sqlState == SQLState.uniqueViolation }

    /// True for SQLSTATE 40001 / 40P01: the transaction may succeed if retried.
    public var isTransactionRetryable: Bool {
        sqlState == SQLState.serializationFailure || sqlState == SQLState.deadlockDetected
    }

    /// Safe to log: e.g. `query failed: SQLSTATE 23505 (unique_violation) on constraint users_email_key`.
    public var description: String {
        var text = code.description
        if let sqlState {
            text += ": SQLSTATE \(sqlState)"
            if let name = SQLState.name(of: sqlState) { text += " (\(name))" }
        }
        if let constraint { text += " on constraint \(constraint)" }
        if let table { text += " in table \(schema.map { "\($0)." } ?? "")\(table)" }
        if let column, code == .decodingFailed || constraint == nil { text += " column \(column)" }
        if let reason { text += (sqlState == nil ? ": " : "; ") + reason }
        return text
    }

    /// ``description`` plus the primary message (which may embed values). Not for logs.
    public var debugDescription: String {
        guard let primaryMessage, !primaryMessage.isEmpty else { return description }
        return "\(description) — \(primaryMessage)"
    }
}
