import Synchronization

/// What `/healthz` and `/readyz` report: the process is live while it runs; it is ready
/// only while PostgreSQL and SQS answer and the active token key is loaded.
public final class HealthState: Sendable {
    private struct Flags: Sendable {
        var database = false
        var queue = false
        var keys = false
    }
    private let flags = Mutex(Flags())

    public init() {}

    /// True when every dependency is up.
    public var isReady: Bool { flags.withLock { $0.database && $0.queue && $0.keys } }

    /// A short text naming what is down, for `/readyz`.
    public var summary: String {
        flags.withLock { f in
            "database=\(f.database ? "up" : "down") sqs=\(f.queue ? "up" : "down") keys=\(f.keys ? "loaded" : "missing")"
        }
    }

    func setDatabase(_ up: Bool) { flags.withLock { $0.database = up } }
    func setQueue(_ up: Bool) { flags.withLock { $0.queue = up } }
    func setKeys(_ loaded: Bool) { flags.withLock { $0.keys = loaded } }
}
