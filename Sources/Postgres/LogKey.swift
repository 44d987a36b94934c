/// The fixed metadata keys this module logs with: counts, codes and ids, never values.
enum LogKey {
    static let connection = "postgres.connection"
    static let code = "postgres.error_code"
    static let sqlState = "postgres.sqlstate"
    static let severity = "postgres.severity"
    static let rows = "postgres.rows"
    static let parameters = "postgres.parameters"
}
