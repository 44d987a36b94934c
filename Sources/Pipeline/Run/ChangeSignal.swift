import Synchronization

/// "Something changed": the consumer's loops wait on this instead of sleeping and polling.
/// Whoever changes shared state (messages added or finished, a stop requested, keys loaded)
/// calls `notify()` after the change; a waiter wakes exactly then and checks its condition
/// again.
///
/// No change is missed between a check and the wait: read `generation` first, check, then
/// `wait(after:)` that generation, which returns at once if a change came in between.
///
///     let seen = changes.generation
///     guard buffer.reserve(count) else { await changes.wait(after: seen); continue }
final class ChangeSignal: Sendable {
    private struct State {
        var generation: UInt64 = 0
        var nextWaiter: UInt64 = 0
        var waiters: [UInt64: CheckedContinuation<Void, Never>] = [:]
    }

    private let state = Mutex(State())

    init() {}

    /// Changes so far (compare with `wait(after:)`).
    var generation: UInt64 { state.withLock { $0.generation } }

    /// Records a change and wakes every waiter.
    func notify() {
        let waiters = state.withLock { s in
            s.generation &+= 1
            defer { s.waiters = [:] }
            return Array(s.waiters.values)
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Returns once a change after `seen` was notified, or the task is cancelled.
    func wait(after seen: UInt64) async {
        let id = state.withLock { s in
            defer { s.nextWaiter &+= 1 }
            return s.nextWaiter
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                // Cancellation is checked under the lock too: a cancel handler that ran before
                // the waiter was registered found nothing to resume.
                let now = state.withLock { s in
                    guard s.generation == seen, !Task.isCancelled else { return true }
                    s.waiters[id] = continuation
                    return false
                }
                if now { continuation.resume() }
            }
        } onCancel: {
            state.withLock { $0.waiters.removeValue(forKey: id) }?.resume()
        }
    }

    /// Like `wait(after:)`, returning at `deadline` at the latest (nil: no deadline).
    func wait(after seen: UInt64, deadline: ContinuousClock.Instant?) async {
        guard let deadline else { return await wait(after: seen) }
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.wait(after: seen) }
            group.addTask { try? await Task.sleep(until: deadline, clock: .continuous) }
            await group.next()
            group.cancelAll()
        }
    }
}
