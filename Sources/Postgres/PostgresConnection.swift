public import Logging
import Synchronization

/// One PostgreSQL connection over libpq, with its own worker thread.
///
/// All work happens in ``withSession(_:)``, whose body runs on that thread, one body at a
/// time, in submission order. When ``isBroken`` turns true, close it and connect again.
///
/// `@unchecked Sendable` is safe: the only mutable state shared across threads is `broken`
/// (an atomic); the session and its `PGconn` are reached only from jobs on `worker`, which
/// runs them one after another on a single thread.
public final class PostgresConnection: @unchecked Sendable {
    private let worker: ConnectionWorker
    private let session: ThreadConfined<PostgresSession>
    private let broken = Atomic<Bool>(false)
    private let logger: Logger
    private let canceller: QueryCanceller
    /// The deadline of a ``withSession(deadline:_:)`` call that names none (nil: none).
    public let defaultDeadline: Duration?

    private static let counter = Atomic<Int>(0)

    private init(worker: ConnectionWorker, session: PostgresSession, defaultDeadline: Duration?, logger: Logger) {
        self.worker = worker
        self.session = ThreadConfined(session)
        self.canceller = session.connection.canceller
        self.defaultDeadline = defaultDeadline
        self.logger = logger
    }

    deinit {
        worker.shutdown(after: { [session] in session.value.connection.finish() })
    }

    /// Connects with a `postgresql://` URL or conninfo string, or — when `url` is nil or
    /// empty — from libpq's `PG*` environment variables. The URL is handed to libpq as is
    /// (`PQconnectdbParams` with `expand_dbname`), so passwords are never spliced into text.
    ///
    /// Every connection gets TCP keepalives and `tcp_user_timeout` (the URL may override
    /// them); `deadline` is the client-side deadline of each ``withSession(deadline:_:)``
    /// body that names none (nil: no deadline). `overrides` (keyword, value) win over the URL
    /// (e.g. `("sslmode", "verify-full")`).
    public static func connect(
        url: String?, applicationName: String = "fetchde", overrides: [(keyword: String, value: String)] = [],
        deadline: Duration? = nil, logger: Logger
    ) async throws -> PostgresConnection {
        let id = counter.wrappingAdd(1, ordering: .relaxed).newValue
        var logger = logger
        logger[metadataKey: LogKey.connection] = "\(id)"
        let worker = ConnectionWorker(name: "fetchde-postgres-\(id)")
        do {
            let connection = try await worker.run { [logger] in
                ThreadConfined(try LibPQConnection.connect(
                    url: url, applicationName: applicationName, overrides: overrides, logger: logger))
            }
            logger.debug("postgres connected")
            return PostgresConnection(
                worker: worker, session: PostgresSession(connection: connection.value, logger: logger),
                defaultDeadline: deadline, logger: logger)
        } catch {
            worker.shutdown(after: {})
            logger.debug("postgres connect failed", metadata: [LogKey.code: "\((error as? PostgresError)?.code.description ?? "other")"])
            throw error
        }
    }

    /// Runs `body` with this connection's session on the connection's own thread and returns
    /// its result. Calls are serialized. If `body` leaves a transaction open, it is rolled back.
    ///
    /// `deadline` (default ``defaultDeadline``) bounds the body's time on the thread: when it
    /// passes, the running command is cancelled (and the socket shut down if the server stays
    /// silent), the connection is marked broken and the call throws
    /// ``PostgresError/Code/deadlineExceeded``. Cancelling the calling task cancels the
    /// command the same way.
    public func withSession<T: Sendable>(
        deadline: Duration? = nil, _ body: @Sendable (PostgresSession) throws -> T
    ) async throws -> T {
        let limit = deadline ?? defaultDeadline
        let canceller = self.canceller
        return try await withoutActuallyEscaping(body) { body in
            let job = SessionJob(body: body)
            defer { job.body = nil }
            return try await withTaskCancellationHandler {
                try await worker.run { [self] in
                    let ticket = canceller.arm(limit)
                    let started = ContinuousClock.now
                    // A task cancelled before its job was armed found nothing of its own to
                    // cancel then: cancel it now (it ends within the canceller's grace).
                    job.ticket.store(ticket, ordering: .sequentiallyConsistent)
                    if job.cancelled.load(ordering: .sequentiallyConsistent) { canceller.cancel(ticket) }
                    var passed = false
                    defer {
                        broken.store(passed || session.value.connection.isBad, ordering: .relaxed)
                    }
                    do {
                        // Released before the result is handed back: `withoutActuallyEscaping` checks it.
                        let value = try job.runOnce(session.value)
                        passed = canceller.disarm(ticket)
                        return value
                    } catch {
                        passed = canceller.disarm(ticket)
                        guard passed else { throw error }
                        let metadata: Logger.Metadata = [LogKey.code: "\((error as? PostgresError)?.code.description ?? "other")"]
                        if let limit, ContinuousClock.now - started >= limit {
                            // Said here, whoever's call it was (a batch, a key poll, a gauge's
                            // refresh, which logs its own failures at debug level only): a
                            // connection given up on is worth an operator's eye.
                            logger.warning("postgres deadline passed; command cancelled, connection dropped", metadata: metadata)
                        } else {
                            logger.debug("postgres command cancelled", metadata: metadata)
                        }
                        throw PostgresError(
                            code: .deadlineExceeded,
                            reason: limit.map { "no answer within \($0.components.seconds) s" } ?? "cancelled")
                    }
                }
            } onCancel: {
                // Only this task's own job (not whatever another task runs now): the flag for
                // a job not armed yet, the ticket for one that is. One of the two sides sees
                // the other's store, so the job is cancelled either way.
                job.cancelled.store(true, ordering: .sequentiallyConsistent)
                let ticket = job.ticket.load(ordering: .sequentiallyConsistent)
                if ticket != 0 { canceller.cancel(ticket) }
            }
        }
    }

    /// Cancels the command running now, if any (it fails with
    /// ``PostgresError/Code/deadlineExceeded``); for shutdown.
    public func cancelRunning() { canceller.cancelRunning() }

    /// Closes the connection after the bodies already queued; later calls throw
    /// ``PostgresError/Code/connectionClosed``. Idempotent.
    public func close() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let queued = worker.shutdown(after: { [session] in
                session.value.connection.finish()
                continuation.resume()
            })
            if !queued { continuation.resume() }
        }
        broken.store(true, ordering: .relaxed)
        logger.debug("postgres connection closed")
    }

    /// True once the connection is lost or closed: close it and connect again.
    public var isBroken: Bool { broken.load(ordering: .relaxed) }
}

/// A value that is only ever dereferenced on one connection's worker thread.
struct ThreadConfined<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}

/// Holds a `withSession` body for exactly one run on the worker thread.
///
/// `@unchecked Sendable`: `body` is written by the awaiting task before submission and read
/// and cleared once by the worker thread; the queue's lock orders those accesses.
private final class SessionJob<T>: @unchecked Sendable {
    var body: (@Sendable (PostgresSession) throws -> T)?
    /// Set when the awaiting task is cancelled, also before the job runs.
    let cancelled = Atomic<Bool>(false)
    /// The canceller's ticket once the job is armed (0 before).
    let ticket = Atomic<Int>(0)

    init(body: @escaping @Sendable (PostgresSession) throws -> T) { self.body = body }

    func runOnce(_ session: PostgresSession) throws -> T {
        guard let body else { throw PostgresError(code: .connectionClosed) }
        self.body = nil
        return try session.run(body)
    }
}
