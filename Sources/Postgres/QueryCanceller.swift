import CLibPQ
import Dispatch
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Enforces the client-side deadline of a connection's round trips from outside the worker
/// thread, which is blocked inside libpq: when a deadline passes it sends a cancel request
/// (`PQcancel`, thread-safe by design, over a new connection to the server) and, if the
/// blocked call has still not returned after a grace period (a half-open connection that
/// never answers again), shuts the socket down so the call fails at once.
///
/// `@unchecked Sendable` is safe: `cancel` is created in `init` and freed in `deinit` only;
/// every other mutable field is read and written under `lock`, and the socket is shut down
/// under `lock` only while the connection is not finished (``invalidate()`` runs before
/// `PQfinish`), so a reused file descriptor is never touched.
final class QueryCanceller: @unchecked Sendable {
    private let lock = NSLock()
    private let cancel: OpaquePointer?
    private var socket: Int32
    private var generation = 0
    private var running: Int?
    private var fired = false

    /// How long after the cancel request a silent socket is shut down.
    static let grace: Duration = .seconds(2)

    init(handle: OpaquePointer) {
        cancel = PQgetCancel(handle)
        socket = PQsocket(handle)
    }

    deinit {
        if let cancel { PQfreeCancel(cancel) }
    }

    /// Marks the start of a job with `deadline` (nil: none) and returns its ticket.
    func arm(_ deadline: Duration?) -> Int {
        let ticket = lock.withLock {
            generation += 1
            running = generation
            fired = false
            return generation
        }
        if let deadline {
            DispatchQueue.global().asyncAfter(deadline: .now() + deadline.timeInterval) { [weak self] in
                self?.fire(ticket)
            }
        }
        return ticket
    }

    /// Marks the end of the job of `ticket`; returns whether its deadline fired meanwhile.
    func disarm(_ ticket: Int) -> Bool {
        lock.withLock {
            guard running == ticket else { return fired }
            running = nil
            return fired
        }
    }

    /// Cancels the job running now, if any (shutdown, task cancellation). Returns at once:
    /// the cancel request (a network round trip) is sent from a Dispatch thread.
    func cancelRunning() {
        guard let ticket = lock.withLock({ running }) else { return }
        cancel(ticket)
    }

    /// Cancels the job of `ticket` if it is still running (a cancelled task's own job, never
    /// another's). Returns at once, as ``cancelRunning()``.
    func cancel(_ ticket: Int) {
        DispatchQueue.global().async { [weak self] in self?.fire(ticket) }
    }

    /// Called before `PQfinish`: the socket is no longer this connection's to shut down.
    func invalidate() {
        lock.withLock {
            socket = -1
            running = nil
        }
    }

    private func fire(_ ticket: Int) {
        let armed = lock.withLock { () -> Bool in
            guard running == ticket, !fired else { return false }
            fired = true
            return true
        }
        guard armed else { return }
        DispatchQueue.global().asyncAfter(deadline: .now() + Self.grace.timeInterval) { [weak self] in
            self?.shutDownSocket(ticket)
        }
        guard let cancel else { return }
        var message = [CChar](repeating: 0, count: 256)
        _ = PQcancel(cancel, &message, Int32(message.count))
    }

    private func shutDownSocket(_ ticket: Int) {
        lock.withLock {
            guard running == ticket, socket >= 0 else { return }
            _ = Glibc.shutdown(socket, Int32(SHUT_RDWR))
        }
    }
}

extension Duration {
    /// Seconds as a `TimeInterval` (for Dispatch).
    var timeInterval: TimeInterval {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}
