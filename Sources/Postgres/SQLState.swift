/// SQLSTATE codes this project reacts to (PostgreSQL Appendix A), with their condition names.
public enum SQLState {
    public static let successfulCompletion = "00000"
    public static let connectionException = "08000"
    public static let connectionFailure = "08006"
    public static let sqlClientUnableToEstablishConnection = "08001"
    public static let stringDataRightTruncation = "22001"
    public static let numericValueOutOfRange = "22003"
    public static let invalidDatetimeFormat = "22007"
    public static let datetimeFieldOverflow = "22008"
    public static let divisionByZero = "22012"
    public static let characterNotInRepertoire = "22021"
    public static let invalidTextRepresentation = "22P02"
    public static let badCopyFileFormat = "22P04"
    public static let notNullViolation = "23502"
    public static let foreignKeyViolation = "23503"
    public static let uniqueViolation = "23505"
    public static let checkViolation = "23514"
    public static let exclusionViolation = "23P01"
    public static let readOnlySQLTransaction = "25006"
    public static let inFailedSQLTransaction = "25P02"
    public static let invalidSQLStatementName = "26000"
    public static let invalidAuthorizationSpecification = "28000"
    public static let invalidPassword = "28P01"
    public static let serializationFailure = "40001"
    public static let deadlockDetected = "40P01"
    public static let syntaxError = "42601"
    public static let insufficientPrivilege = "42501"
    public static let undefinedColumn = "42703"
    public static let undefinedFunction = "42883"
    public static let undefinedTable = "42P01"
    public static let duplicatePreparedStatement = "42P05"
    public static let duplicateSchema = "42P06"
    public static let duplicateTable = "42P07"
    public static let undefinedObject = "42704"
    public static let duplicateObject = "42710"
    public static let lockNotAvailable = "55P03"
    public static let objectInUse = "55006"
    public static let queryCanceled = "57014"
    public static let adminShutdown = "57P01"
    public static let crashShutdown = "57P02"
    public static let cannotConnectNow = "57P03"
    public static let raiseException = "P0001"

    private static let names: [String: String] = [
        successfulCompletion: "successful_completion",
        connectionException: "connection_exception",
        connectionFailure: "connection_failure",
        sqlClientUnableToEstablishConnection: "sqlclient_unable_to_establish_sqlconnection",
        stringDataRightTruncation: "string_data_right_truncation",
        numericValueOutOfRange: "numeric_value_out_of_range",
        invalidDatetimeFormat: "invalid_datetime_format",
        datetimeFieldOverflow: "datetime_field_overflow",
        divisionByZero: "division_by_zero",
        characterNotInRepertoire: "character_not_in_repertoire",
        invalidTextRepresentation: "invalid_text_representation",
        badCopyFileFormat: "bad_copy_file_format",
        notNullViolation: "not_null_violation",
        foreignKeyViolation: "foreign_key_violation",
        uniqueViolation: "unique_violation",
        checkViolation: "check_violation",
        exclusionViolation: "exclusion_violation",
        readOnlySQLTransaction: "read_only_sql_transaction",
        inFailedSQLTransaction: "in_failed_sql_transaction",
        invalidSQLStatementName: "invalid_sql_statement_name",
        invalidAuthorizationSpecification: "invalid_authorization_specification",
        invalidPassword: "invalid_password",
        serializationFailure: "serialization_failure",
        deadlockDetected: "deadlock_detected",
        syntaxError: "syntax_error",
        insufficientPrivilege: "insufficient_privilege",
        undefinedColumn: "undefined_column",
        undefinedFunction: "undefined_function",
        undefinedTable: "undefined_table",
        duplicatePreparedStatement: "duplicate_prepared_statement",
        duplicateSchema: "duplicate_schema",
        duplicateTable: "duplicate_table",
        undefinedObject: "undefined_object",
        duplicateObject: "duplicate_object",
        lockNotAvailable: "lock_not_available",
        objectInUse: "object_in_use",
        queryCanceled: "query_canceled",
        adminShutdown: "admin_shutdown",
        crashShutdown: "crash_shutdown",
        cannotConnectNow: "cannot_connect_now",
        raiseException: "raise_exception",
    ]

    /// The condition name of a known SQLSTATE (`"23505"` → `"unique_violation"`).
    public static func name(of sqlState: String) -> String? { names[sqlState] }
}

/// What a failed database call means for the work that made it — decided here, once, for
/// every caller (SPEC §7).
public enum PostgresFailureClass: Sendable, Equatable {
    /// The database rejected a value as data (SQLSTATE classes 22 and 23, or a value that
    /// cannot be sent at all): the same input fails again; only this may quarantine it.
    case data
    /// The connection is gone, unusable or must not be kept (class 08, a server shutting
    /// down, a read-only node after a failover, a passed deadline): drop it, reconnect, retry.
    case connection
    /// Any other refusal (permission, locks, timeouts, deadlock, serialization, resources,
    /// a missing object): the same work may succeed later; retry it, change nothing.
    case transient
}

extension PostgresError {
    /// How the caller must treat this error (see ``PostgresFailureClass``).
    public var failureClass: PostgresFailureClass {
        if isConnectionError { return .connection }
        if code == .encodingFailed { return .data }
        guard let sqlState else { return .transient }
        if sqlState == SQLState.readOnlySQLTransaction { return .connection }
        if sqlState.hasPrefix("22") || sqlState.hasPrefix("23") { return .data }
        return .transient
    }

    /// A short label safe for logs and metric labels: the SQLSTATE class (`"42"`, `"25"`),
    /// or the client-side kind when the server sent no SQLSTATE (`"connection"`, `"deadline"`).
    public var errorClassLabel: String {
        if let sqlState, sqlState.count >= 2 { return String(sqlState.prefix(2)) }
        if code == .deadlineExceeded { return "deadline" }
        if isConnectionError { return "connection" }
        return "client"
    }
}
