import CLibPQ
import Foundation
import Logging

/// The one owner of a `PGconn`: `PQfinish` runs exactly once, in ``finish()`` or `deinit`,
/// also after a failed connect. Used only from its connection's worker thread.
final class LibPQConnection {
    private let handle: OpaquePointer
    private let notices: Unmanaged<NoticeSink>
    private var finished = false
    let logger: Logger
    /// Cancels a round trip past its deadline from another thread.
    let canceller: QueryCanceller

    private init(handle: OpaquePointer, logger: Logger) {
        self.handle = handle
        self.logger = logger
        self.notices = Unmanaged.passRetained(NoticeSink(logger: logger))
        self.canceller = QueryCanceller(handle: handle)
        // Server notices go to the logger at debug level, as codes only (their text can hold values).
        PQsetNoticeReceiver(handle, { context, result in
            guard let context, let result else { return }
            Unmanaged<NoticeSink>.fromOpaque(context).takeUnretainedValue().receive(result)
        }, notices.toOpaque())
        // Keep libpq's own messages short: no DETAIL/HINT/CONTEXT lines (they can hold values).
        PQsetErrorVerbosity(handle, PQERRORS_TERSE)
        PQsetErrorContextVisibility(handle, PQSHOW_CONTEXT_NEVER)
    }

    deinit { finish() }

    /// Connects with `PQconnectdbParams(expand_dbname=1)`: the URL (or conninfo string) is
    /// parsed by libpq, never spliced; an empty URL leaves everything to the `PG*` variables.
    /// `overrides` come after the URL, so they win over what it says.
    static func connect(
        url: String?, applicationName: String, overrides: [(keyword: String, value: String)] = [], logger: Logger
    ) throws(PostgresError) -> LibPQConnection {
        var parameters: [(String, String)] = []
        // Earlier keywords are defaults the URL may override; later ones win over the URL.
        if ProcessInfo.processInfo.environment["PGCONNECT_TIMEOUT"] == nil {
            parameters.append(("connect_timeout", "10"))
        }
        // A peer that vanishes (half-open TCP after a failover, a dead NAT or pooler) is
        // noticed by the kernel within about a minute even between round trips: TCP
        // keepalives while idle, tcp_user_timeout while data is unacknowledged. The
        // round trips themselves have client-side deadlines (QueryCanceller).
        parameters.append(contentsOf: [
            ("keepalives", "1"), ("keepalives_idle", "30"), ("keepalives_interval", "10"),
            ("keepalives_count", "3"), ("tcp_user_timeout", "60000"),
        ])
        parameters.append(("application_name", applicationName))
        if let url, !url.isEmpty { parameters.append(("dbname", url)) }
        parameters.append(("client_encoding", "UTF8"))
        parameters += overrides.map { ($0.keyword, $0.value) }

        let keywords = parameters.map { strdup($0.0) }
        let values = parameters.map { strdup($0.1) }
        defer {
            keywords.forEach { free($0) }
            values.forEach { free($0) }
        }
        let raw = (keywords.map { UnsafePointer($0) } + [nil]).withUnsafeBufferPointer { keywordList in
            (values.map { UnsafePointer($0) } + [nil]).withUnsafeBufferPointer { valueList in
                PQconnectdbParams(keywordList.baseAddress, valueList.baseAddress, 1)
            }
        }
        guard let raw else { throw PostgresError(code: .connectionFailed, reason: "libpq could not allocate a connection") }
        let connection = LibPQConnection(handle: raw, logger: logger)  // owns it from here on
        guard PQstatus(raw) == CONNECTION_OK else {
            throw PostgresError(code: .connectionFailed, primaryMessage: connection.libpqMessage)
        }
        return connection
    }

    /// Closes the connection; later calls throw ``PostgresError/Code/connectionClosed``.
    func finish() {
        guard !finished else { return }
        finished = true
        canceller.invalidate()
        PQfinish(handle)
        notices.release()
    }

    var isFinished: Bool { finished }

    /// True when the connection is unusable (closed, or lost: `PQstatus` is `CONNECTION_BAD`).
    var isBad: Bool { finished || PQstatus(handle) == CONNECTION_BAD }

    var transactionStatus: PGTransactionStatusType {
        finished ? PQTRANS_UNKNOWN : PQtransactionStatus(handle)
    }

    /// The first line of libpq's last error message (debug output only).
    var libpqMessage: String? {
        guard let message = PQerrorMessage(handle) else { return nil }
        let text = String(cString: message).trimmingCharacters(in: .whitespacesAndNewlines)
        return text.isEmpty ? nil : String(text.split(separator: "\n", maxSplits: 1).first ?? "")
    }

    /// Runs one libpq call that returns a `PGresult`, turning errors into ``PostgresError``.
    /// Returns successful results of any status (callers check COPY states).
    func run(_ code: PostgresError.Code, _ call: (OpaquePointer) -> OpaquePointer?) throws -> LibPQResult {
        guard !finished else { throw PostgresError(code: .connectionClosed) }
        guard let raw = call(handle) else { throw failure(code, nil) }
        let result = LibPQResult(raw)
        if result.isError { throw failure(code, result) }
        return result
    }

    /// The error for a failed call: ``PostgresError/Code/connectionLost`` when the
    /// connection broke, else `code` with the server's diagnostic fields.
    func failure(_ code: PostgresError.Code, _ result: LibPQResult?) -> PostgresError {
        let lost = isBad
        let error = PostgresError(
            code: lost ? .connectionLost : code,
            sqlState: result?.field("C"),
            constraint: result?.field("n"),
            table: result?.field("t"),
            schema: result?.field("s"),
            column: result?.field("c"),
            primaryMessage: result?.field("M") ?? libpqMessage
        )
        logger.debug(
            "postgres command failed",
            metadata: [LogKey.code: "\(error.code)", LogKey.sqlState: "\(error.sqlState ?? "none")"])
        return error
    }

    /// Sends COPY data (blocking mode: returns once queued).
    func putCopyData(_ bytes: UnsafeRawBufferPointer) throws {
        guard !finished else { throw PostgresError(code: .connectionClosed) }
        guard bytes.count > 0 else { return }
        let base = bytes.baseAddress!.assumingMemoryBound(to: CChar.self)
        if PQputCopyData(handle, base, Int32(bytes.count)) != 1 { throw failure(.copyFailed, nil) }
    }

    /// Ends COPY IN: successfully (`errorMessage` nil) or aborting with a fixed message.
    /// Returns the command's final result, draining any further results.
    func endCopy(errorMessage: String? = nil) throws -> LibPQResult {
        guard !finished else { throw PostgresError(code: .connectionClosed) }
        let sent: Int32
        if let errorMessage {
            sent = PQputCopyEnd(handle, errorMessage)
        } else {
            sent = PQputCopyEnd(handle, nil)
        }
        if sent != 1 { throw failure(.copyFailed, nil) }
        return try drainResults(.copyFailed)
    }

    /// Reads results until libpq has none left; throws the first error, else returns the last.
    func drainResults(_ code: PostgresError.Code) throws -> LibPQResult {
        var last: LibPQResult?
        var firstError: PostgresError?
        while let raw = PQgetResult(handle) {
            let result = LibPQResult(raw)
            if result.isError, firstError == nil { firstError = failure(code, result) }
            if result.status == PGRES_COPY_IN {
                // The server still expects data: there is nothing sensible to send.
                PQputCopyEnd(handle, "unexpected COPY state")
                continue
            }
            if result.status == PGRES_COPY_OUT { discardCopyOut() }
            last = result
        }
        if let firstError { throw firstError }
        if let last { return last }
        throw failure(code, nil)
    }

    /// Reads and discards a COPY OUT stream (a `COPY … TO STDOUT` run through `execute`).
    func discardCopyOut() {
        var buffer: UnsafeMutablePointer<CChar>?
        while PQgetCopyData(handle, &buffer, 0) > 0 {
            PQfreemem(buffer)
            buffer = nil
        }
    }
}

/// Receives server notices for a connection; logs their codes only.
final class NoticeSink {
    let logger: Logger
    init(logger: Logger) { self.logger = logger }

    func receive(_ result: OpaquePointer) {
        logger.debug(
            "postgres notice",
            metadata: [
                LogKey.sqlState: "\(LibPQResult.field(of: result, "C") ?? "none")",
                LogKey.severity: "\(LibPQResult.field(of: result, "V") ?? "none")",
            ])
    }
}
