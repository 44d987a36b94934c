import CLibPQ
import Logging

/// The commands of one connection; only valid inside ``PostgresConnection/withSession(_:)``,
/// on the connection's thread.
///
/// Every value travels as a `$n` parameter: SQL text and values never mix.
public final class PostgresSession {
    let connection: LibPQConnection
    let logger: Logger
    private var prepared: Set<String> = []
    var transactionDepth = 0

    init(connection: LibPQConnection, logger: Logger) {
        self.connection = connection
        self.logger = logger
    }

    /// Runs one SQL statement with `$1…$n` parameters (`PQexecParams`).
    @discardableResult
    public func execute(_ sql: String, _ parameters: [PostgresValue] = []) throws -> PostgresResult {
        let buffer = try ParameterBuffer(parameters)
        logger.trace("postgres query", metadata: [LogKey.parameters: "\(buffer.count)"])
        let result = try buffer.withValuePointers { values in
            try connection.run(.queryFailed) { conn in
                PQexecParams(
                    conn, sql, Int32(buffer.count), nil, values, buffer.lengths, buffer.formats, 0)
            }
        }
        return try finish(result)
    }

    /// Prepares `sql` under `name` (`PQprepare`); preparing a name again is a no-op.
    public func prepare(_ name: String, _ sql: String) throws {
        guard !prepared.contains(name) else { return }
        let result = try connection.run(.queryFailed) { conn in PQprepare(conn, name, sql, 0, nil) }
        _ = try finish(result)
        prepared.insert(name)
    }

    /// Whether `name` was prepared on this connection.
    public func isPrepared(_ name: String) -> Bool { prepared.contains(name) }

    /// Runs the statement prepared as `name` with `parameters` (`PQexecPrepared`).
    @discardableResult
    public func executePrepared(_ name: String, _ parameters: [PostgresValue]) throws -> PostgresResult {
        let buffer = try ParameterBuffer(parameters)
        let result = try buffer.withValuePointers { values in
            try connection.run(.queryFailed) { conn in
                PQexecPrepared(conn, name, Int32(buffer.count), values, buffer.lengths, buffer.formats, 0)
            }
        }
        return try finish(result)
    }

    /// Runs a script of one or more statements without parameters (`PQexec`), e.g. migrations.
    /// Without an explicit transaction the statements run in one implicit transaction.
    public func executeScript(_ sql: String) throws {
        let result = try connection.run(.queryFailed) { conn in PQexec(conn, sql) }
        _ = try finish(result)
    }

    /// Checks a successful result's status and decodes it. A COPY started through the
    /// plain query API is ended (aborted) and reported as a protocol violation.
    private func finish(_ result: LibPQResult) throws -> PostgresResult {
        logger.trace("postgres command finished", metadata: [LogKey.rows: "\(result.affectedRows)"])
        switch result.status {
        case PGRES_COPY_IN:
            _ = try? connection.endCopy(errorMessage: "COPY FROM STDIN requires copyIn")
            throw PostgresError(code: .protocolViolation, reason: "COPY FROM STDIN requires copyIn")
        case PGRES_COPY_OUT, PGRES_COPY_BOTH:
            connection.discardCopyOut()
            _ = try? connection.drainResults(.queryFailed)
            throw PostgresError(code: .protocolViolation, reason: "COPY TO STDOUT is not supported")
        default:
            return result.decode()
        }
    }

    /// Runs a `withSession` body, then rolls back any transaction it left open.
    func run<T>(_ body: (PostgresSession) throws -> T) throws -> T {
        guard !connection.isFinished else { throw PostgresError(code: .connectionClosed) }
        guard !connection.isBad else { throw PostgresError(code: .connectionLost) }
        defer { rollBackLeftoverTransaction() }
        return try body(self)
    }

    private func rollBackLeftoverTransaction() {
        transactionDepth = 0
        let status = connection.transactionStatus
        guard status == PQTRANS_INTRANS || status == PQTRANS_INERROR else { return }
        logger.warning("postgres session ended inside a transaction; rolled back")
        _ = try? connection.run(.queryFailed) { conn in PQexec(conn, "ROLLBACK") }
    }
}

@available(*, unavailable, message: "a session is bound to its connection's thread")
extension PostgresSession: Sendable {}
