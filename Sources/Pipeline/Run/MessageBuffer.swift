import Synchronization
import SQS

/// Messages received and not yet deleted, shared by the receive loops (which add), the batch
/// loop (which takes batches) and the visibility extender (which reads receive times).
/// Bounded: receive loops wait while `maxInFlight` messages are held.
final class MessageBuffer: Sendable {
    struct Pending: Sendable {
        let message: SQSMessage
        let receivedAt: ContinuousClock.Instant
        var extendedAt: ContinuousClock.Instant?
    }

    private struct State: Sendable {
        var waiting: [Pending] = []            // received, not yet in a batch
        var inBatch: [String: Pending] = [:]   // receipt handle → taken by the batch loop
        var reserved = 0                        // slots promised to receives in progress
        var shallow = false                     // the last receive got less than it asked for
    }

    /// A batch taken by the batch loop, with when its oldest message was received.
    struct Batch: Sendable {
        let messages: [SQSMessage]
        let oldestReceivedAt: ContinuousClock.Instant
    }

    private let state = Mutex(State())
    let maxInFlight: Int

    init(maxInFlight: Int) {
        self.maxInFlight = maxInFlight
    }

    /// Reserves `count` slots if they fit; the receive loop calls `add` or `release` after.
    func reserve(_ count: Int) -> Bool {
        state.withLock { s in
            guard s.waiting.count + s.inBatch.count + s.reserved + count <= maxInFlight else { return false }
            s.reserved += count
            return true
        }
    }

    /// Adds received messages and gives back the slots of a reservation of `reserved`.
    /// `reserved` is also what the receive asked for: getting fewer means the queue had no
    /// more visible messages (a shallow queue), which `takeBatch` uses.
    func add(_ messages: [SQSMessage], reserved: Int) {
        let now = ContinuousClock.now
        state.withLock { s in
            s.reserved -= reserved
            s.shallow = messages.count < reserved
            s.waiting.append(contentsOf: messages.map { Pending(message: $0, receivedAt: now) })
        }
    }

    /// Gives back the slots of a reservation whose receive failed.
    func release(_ reserved: Int) {
        state.withLock { $0.reserved -= reserved }
    }

    /// Takes up to `max` waiting messages when `max` are there, when the oldest has waited
    /// `maxWait`, when the queue is shallow (the last receive got less than it asked for:
    /// waiting would not fill the batch, only hold its messages in flight longer), or (when
    /// `flush`) whenever any wait. Nil when it is not time yet.
    func takeBatch(max: Int, maxWait: Duration, flush: Bool) -> Batch? {
        let now = ContinuousClock.now
        return state.withLock { s in
            guard let oldest = s.waiting.first else { return nil }
            guard flush || s.shallow || s.waiting.count >= max || now - oldest.receivedAt >= maxWait else { return nil }
            let taken = s.waiting.prefix(max)
            s.waiting.removeFirst(taken.count)
            for pending in taken { s.inBatch[pending.message.receiptHandle] = pending }
            return Batch(messages: taken.map(\.message), oldestReceivedAt: oldest.receivedAt)
        }
    }

    /// Forgets messages that were deleted (or given up on).
    func finish(_ receiptHandles: [String]) {
        state.withLock { s in
            for handle in receiptHandles { s.inBatch[handle] = nil }
        }
    }

    /// Messages held longer than `age` since receipt or their last extension; marks them
    /// extended now.
    func dueForExtension(olderThan age: Duration) -> [SQSMessage] {
        let now = ContinuousClock.now
        return state.withLock { s in
            var due: [SQSMessage] = []
            for index in s.waiting.indices where now - (s.waiting[index].extendedAt ?? s.waiting[index].receivedAt) >= age {
                s.waiting[index].extendedAt = now
                due.append(s.waiting[index].message)
            }
            for (handle, pending) in s.inBatch where now - (pending.extendedAt ?? pending.receivedAt) >= age {
                s.inBatch[handle]?.extendedAt = now
                due.append(pending.message)
            }
            return due
        }
    }

    /// Messages held: received and not yet deleted (reservations of receives in progress
    /// do not count).
    var heldCount: Int { state.withLock { $0.waiting.count + $0.inBatch.count } }
}
