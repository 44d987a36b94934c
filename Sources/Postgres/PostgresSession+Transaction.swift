import CLibPQ

extension PostgresSession {
    /// Runs `body` in a transaction: `BEGIN`, then `COMMIT`, or `ROLLBACK` when `body` throws
    /// (the error is rethrown). Nested calls use savepoints. A `COMMIT` that the server turns
    /// into a rollback (the transaction had failed) throws SQLSTATE 25P02.
    @discardableResult
    public func transaction<T>(_ body: () throws -> T) throws -> T {
        let depth = transactionDepth
        let savepoint = "fetchde_savepoint_\(depth)"
        try executeScript(depth == 0 ? "BEGIN" : "SAVEPOINT \(savepoint)")
        transactionDepth = depth + 1
        let value: T
        do {
            value = try body()
        } catch {
            transactionDepth = depth
            if !connection.isBad {  // a lost connection has rolled back already
                _ = try? executeScript(depth == 0 ? "ROLLBACK" : "ROLLBACK TO SAVEPOINT \(savepoint); RELEASE SAVEPOINT \(savepoint)")
            }
            throw error
        }
        transactionDepth = depth
        if depth == 0 {
            let result = try connection.run(.queryFailed) { conn in PQexec(conn, "COMMIT") }
            if result.commandStatus == "ROLLBACK" {
                throw PostgresError(
                    code: .queryFailed, sqlState: SQLState.inFailedSQLTransaction,
                    reason: "the transaction had failed and was rolled back")
            }
        } else {
            try executeScript("RELEASE SAVEPOINT \(savepoint)")
        }
        return value
    }
}
