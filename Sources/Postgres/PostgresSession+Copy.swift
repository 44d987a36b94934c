import CLibPQ
import Logging

extension PostgresSession {
    /// Runs `sql` — a `COPY … FROM STDIN` in text format — and streams the rows `body`
    /// appends. Returns the number of rows the server copied. When `body` throws, the COPY
    /// is aborted (nothing is copied) and the error rethrown.
    @discardableResult
    public func copyIn(_ sql: String, _ body: (inout PostgresCopyWriter) throws -> Void) throws -> Int {
        let start = try connection.run(.copyFailed) { conn in PQexec(conn, sql) }
        guard start.status == PGRES_COPY_IN else {
            if start.status == PGRES_COPY_OUT || start.status == PGRES_COPY_BOTH {
                connection.discardCopyOut()
                _ = try? connection.drainResults(.copyFailed)
            }
            throw PostgresError(code: .protocolViolation, reason: "copyIn needs a COPY … FROM STDIN statement")
        }
        var writer = PostgresCopyWriter(connection: connection)
        do {
            try body(&writer)
            try writer.flush()
        } catch {
            if !connection.isBad {
                // The server answers the abort with an error (query_canceled): expected, ignored.
                _ = try? connection.endCopy(errorMessage: "COPY aborted by the client")
            }
            logger.debug("postgres copy aborted", metadata: [LogKey.rows: "\(writer.rowCount)"])
            throw error
        }
        let result = try connection.endCopy()
        let copied = result.affectedRows
        logger.debug("postgres copy finished", metadata: [LogKey.rows: "\(copied)"])
        return copied
    }
}
