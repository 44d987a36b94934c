import Synchronization

/// What `/healthz` and `/readyz` report. The process is live unless its batch loop is wedged:
/// work pending and no progress for `stallLimit`. It is ready only while PostgreSQL and SQS
/// answer and the active token key is loaded, and never again once shutdown has started.
public final class HealthState: Sendable {
    private struct Flags: Sendable {
        var database = false
        var queue = false
        var keys = false
        var stopping = false
        var pending = false
        var lastProgress = ContinuousClock.now
    }
    private let flags = Mutex(Flags())
    private let stallLimit: Duration

    /// - Parameter stallLimit: how long the batch loop may hold work without progress
    ///   before `/healthz` fails.
    public init(stallLimit: Duration = .seconds(120)) {
        self.stallLimit = stallLimit
    }

    /// True when every dependency is up and shutdown has not started.
    public var isReady: Bool { flags.withLock { !$0.stopping && $0.database && $0.queue && $0.keys } }

    /// False when work has been pending longer than the stall limit without progress.
    public var isLive: Bool {
        flags.withLock { !($0.pending && ContinuousClock.now - $0.lastProgress > stallLimit) }
    }

    /// A short text naming what is down, for `/readyz`.
    public var summary: String {
        flags.withLock { f in
            (f.stopping ? "stopping " : "")
                + "database=\(f.database ? "up" : "down") sqs=\(f.queue ? "up" : "down") keys=\(f.keys ? "loaded" : "missing")"
        }
    }

    /// A short text for `/healthz`.
    public var liveness: String {
        flags.withLock { f in
            guard f.pending else { return "idle" }
            return "pending, last progress \((ContinuousClock.now - f.lastProgress).components.seconds) s ago"
        }
    }

    func setDatabase(_ up: Bool) { flags.withLock { $0.database = up } }
    func setQueue(_ up: Bool) { flags.withLock { $0.queue = up } }
    func setKeys(_ loaded: Bool) { flags.withLock { $0.keys = loaded } }

    /// Shutdown started: not ready from now on.
    public func setStopping() { flags.withLock { $0.stopping = true } }

    /// The batch loop holds work (a batch it is committing).
    func workPending() {
        flags.withLock {
            if !$0.pending { $0.lastProgress = ContinuousClock.now }
            $0.pending = true
        }
    }

    /// The batch loop finished a batch.
    func progressed() { flags.withLock { $0.lastProgress = ContinuousClock.now } }

    /// The batch loop holds nothing.
    func idle() {
        flags.withLock {
            $0.pending = false
            $0.lastProgress = ContinuousClock.now
        }
    }
}
