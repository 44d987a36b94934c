internal import CCurl
internal import CCurlShims
import Foundation
import Synchronization

/// An HTTP/1.1 client over one libcurl multi handle, driven by one dedicated thread.
///
/// Every request of the owning client goes through the same multi handle, so connections are
/// kept alive and reused (`CURLMOPT_MAXCONNECTS`), and any number of long polls wait together
/// in one `curl_multi_poll`. The thread is not part of Swift's cooperative pool: callers
/// suspend on a continuation that the loop thread resumes when their transfer completes.
final class CurlTransport: Sendable {
    private let shared: CurlLoopShared

    init(maxConnections: Int, threadName: String = "fetchde-curl") throws(SQSError) {
        guard let multi = CurlMultiHandle(maxConnections: maxConnections) else {
            throw SQSError(code: .transport, isRetryable: false, reason: "libcurl initialisation failed")
        }
        shared = CurlLoopShared(multi: multi, poolLimit: maxConnections)
        let shared = self.shared
        let thread = Thread { CurlLoop(shared: shared).run() }
        thread.name = threadName
        thread.start()
    }

    /// Performs one request. Cancelling the calling task aborts the transfer.
    func execute(_ request: HTTPRequest) async throws -> HTTPResponse {
        let box = CurlRequestBox(request: request)
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<HTTPResponse, any Error>) in
                box.continuation = continuation
                shared.submit(.start(box))
            }
        } onCancel: {
            box.markCancelled()
            shared.submit(.cancel(box))
        }
    }

    /// Stops the loop thread, failing requests in flight; idempotent; waits for the thread.
    func shutdown() { shared.shutdown() }

    deinit { shared.shutdown() }
}

/// One request's state. The continuation and the response being received are touched only
/// by the loop thread once submitted (the submitting thread hands them over through the
/// inbox lock), and `cancelled` is behind its own lock: hence `@unchecked Sendable`.
final class CurlRequestBox: @unchecked Sendable {
    let request: HTTPRequest
    var continuation: CheckedContinuation<HTTPResponse, any Error>?
    var status = 0
    var headers: [String: String] = [:]
    var body: [UInt8] = []
    var tooLarge = false
    private let cancelled = Mutex(false)

    /// Responses larger than this are refused (SQS's largest is about 10 MiB escaped).
    static let maxBodyBytes = 64 << 20

    init(request: HTTPRequest) { self.request = request }

    func markCancelled() { cancelled.withLock { $0 = true } }
    var isCancelled: Bool { cancelled.withLock { $0 } }

    /// Resumes the caller exactly once.
    func finish(_ result: Result<HTTPResponse, any Error>) {
        continuation?.resume(with: result)
        continuation = nil
    }
}

/// What the loop thread shares with submitters: the inbox and the multi handle (for wakeup).
///
/// `@unchecked Sendable`: `inbox` is a `Mutex`; `multi` is only used by the loop thread
/// except for its thread-safe `wakeup()`; `stopped` is a semaphore.
final class CurlLoopShared: @unchecked Sendable {
    enum Command { case start(CurlRequestBox), cancel(CurlRequestBox) }
    struct Inbox { var commands: [Command] = []; var stopping = false; var joined = false }

    let multi: CurlMultiHandle
    let poolLimit: Int
    private let inbox = Mutex(Inbox())
    private let stopped = DispatchSemaphore(value: 0)

    init(multi: CurlMultiHandle, poolLimit: Int) {
        self.multi = multi
        self.poolLimit = poolLimit
    }

    func submit(_ command: Command) {
        let accepted = inbox.withLock { inbox in
            guard !inbox.stopping else { return false }
            inbox.commands.append(command)
            return true
        }
        if accepted {
            multi.wakeup()
        } else if case .start(let box) = command {
            box.finish(.failure(CurlLoop.shutdownError))
        }
    }

    /// The pending commands, and whether the loop should stop.
    func take() -> ([Command], Bool) {
        inbox.withLock { inbox in
            defer { inbox.commands.removeAll(keepingCapacity: true) }
            return (inbox.commands, inbox.stopping)
        }
    }

    func shutdown() {
        let mustWait = inbox.withLock { inbox in
            inbox.stopping = true
            defer { inbox.joined = true }
            return !inbox.joined
        }
        guard mustWait else { return }
        multi.wakeup()
        if Thread.current.name?.hasPrefix("fetchde-curl") != true { stopped.wait() }
    }

    func loopDidExit() { stopped.signal() }
}
