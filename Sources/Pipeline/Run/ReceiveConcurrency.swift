import Synchronization

/// How many receive loops run: `minimum` always; one more each time a receive comes back
/// full (the queue has a backlog), up to `maximum`; an added loop ends as soon as a receive
/// comes back short (the queue is shallow) or the in-flight budget has no room for its next
/// receive. So concurrency follows latency × backlog: at 20 ms a round trip, 10 messages a
/// receive, one loop moves at most 500 msgs/s, and loops are added until the budget or the
/// database (which fills the budget) is what limits.
final class ReceiveConcurrency: Sendable {
    let minimum: Int
    let maximum: Int
    private let state = Mutex((running: 0, peak: 0))

    init(minimum: Int, maximum: Int) {
        self.minimum = max(1, minimum)
        self.maximum = max(self.minimum, maximum)
    }

    /// Counts a loop that always runs (one of the first `minimum`).
    func startBase() { state.withLock { $0.running += 1; $0.peak = max($0.peak, $0.running) } }

    /// After a full receive: whether one more loop may start (counted as running if so).
    func claimExtra() -> Bool {
        state.withLock { s in
            guard s.running < maximum else { return false }
            s.running += 1
            s.peak = max(s.peak, s.running)
            return true
        }
    }

    /// A loop ended.
    func stopped() { state.withLock { $0.running -= 1 } }

    var running: Int { state.withLock { $0.running } }
    /// The most loops that ran at once.
    var peak: Int { state.withLock { $0.peak } }
}
