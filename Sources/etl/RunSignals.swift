import Logging
import ServiceLifecycle
import Synchronization
import UnixSignals

/// SIGTERM and SIGINT for the whole of `etl run`, trapped before anything starts: during
/// start-up (SQS may be down and the queue URL still being waited for) a signal ends the
/// start-up and etl exits 0 having consumed nothing; once the service group exists, a signal
/// shuts it down gracefully (the group itself traps no signal, so none falls between the two).
final class RunSignals: Sendable {
    private struct State {
        var stopRequested = false
        var cancelStartup: (@Sendable () -> Void)?
        var group: ServiceGroup?
    }

    private let state = Mutex(State())
    private let watcher = Mutex<Task<Void, Never>?>(nil)
    private let logger: Logger

    private init(logger: Logger) { self.logger = logger }

    /// Starts trapping the signals.
    static func trap(logger: Logger) async -> RunSignals {
        let signals = RunSignals(logger: logger)
        let sequence = await UnixSignalsSequence(trapping: .sigterm, .sigint)
        let task = Task { [signals] in
            for await signal in sequence { await signals.received(signal) }
        }
        signals.watcher.withLock { $0 = task }
        return signals
    }

    /// Stops trapping (at exit).
    func stop() { watcher.withLock { $0?.cancel() } }

    private func received(_ signal: UnixSignal) async {
        let (cancel, group) = state.withLock { s in
            s.stopRequested = true
            return (s.cancelStartup, s.group)
        }
        logger.notice("signal received, stopping", metadata: [LogKey.signal: "\(signal)"])
        cancel?()
        await group?.triggerGracefulShutdown()
    }

    /// Runs the start-up `work`; nil when a signal came first or during it.
    func startup<T: Sendable>(_ work: @escaping @Sendable () async throws -> T) async throws -> T? {
        let task = Task { try await work() }
        let stopped = state.withLock { s in
            s.cancelStartup = { task.cancel() }
            return s.stopRequested
        }
        defer { state.withLock { $0.cancelStartup = nil } }
        if stopped { task.cancel() }
        do {
            return try await task.value
        } catch where task.isCancelled {
            return nil
        }
    }

    /// Runs `group` until it ends; a signal (also one that came before) shuts it down gracefully.
    func run(_ group: ServiceGroup) async throws {
        let stopped = state.withLock { s in
            s.group = group
            return s.stopRequested
        }
        // Remembered by a group that is not running yet: it starts and stops at once.
        if stopped { await group.triggerGracefulShutdown() }
        try await group.run()
    }
}
