import Synchronization
import SQS

/// Messages received and not yet deleted, shared by the receive loops (which add), the batch
/// loop (which takes batches) and the visibility extender (which reads receive times).
///
/// Bounded in count and in bytes: a receive first reserves its slots, each at the worst-case
/// size of a message (`maxMessageBytes`), and receive loops wait while the held messages plus
/// the reservations would exceed `maxInFlight` messages or `maxInFlightBytes` bytes. Once a
/// receive returns, its messages count at their actual size. A message larger than the worst
/// case (an endpoint breaking SQS's limit) still counts in full, so the budget may be exceeded
/// by at most one response; reservations are then refused until messages are finished.
///
/// Every change that can give a waiting receive room or the batch loop work (messages added,
/// released or finished) is announced on `changes`.
final class MessageBuffer: Sendable {
    struct Pending: Sendable {
        let message: SQSMessage
        let receivedAt: ContinuousClock.Instant
        var extendedAt: ContinuousClock.Instant?
        /// What the message occupies: `MessageBuffer.size(of:)`.
        let bytes: Int
    }

    private struct State: Sendable {
        var waiting: [Pending] = []            // received, not yet in a batch
        var inBatch: [String: Pending] = [:]   // receipt handle → taken by the batch loop
        var reserved = 0                        // slots promised to receives in progress
        var heldBytes = 0                       // sizes of `waiting` and `inBatch`
        var shallow = false                     // the last receive got less than it asked for
    }

    /// A batch taken by the batch loop, with when its oldest message was received.
    struct Batch: Sendable {
        let messages: [SQSMessage]
        let oldestReceivedAt: ContinuousClock.Instant
    }

    private let state = Mutex(State())
    let maxInFlight: Int
    let maxInFlightBytes: Int
    /// What one reserved slot may bring: the largest body SQS sends plus its id and receipt handle.
    let maxMessageBytes: Int
    /// Notified after messages are added, released or finished.
    let changes: ChangeSignal

    /// The worst-case size of one received message: a body of SQS's maximum size plus room
    /// for its MessageId and receipt handle.
    static let worstCaseMessageBytes = IncomingMessage.maxBodyBytes + 2048

    init(
        maxInFlight: Int, maxInFlightBytes: Int = .max, maxMessageBytes: Int = MessageBuffer.worstCaseMessageBytes,
        changes: ChangeSignal = ChangeSignal()
    ) {
        self.maxInFlight = maxInFlight
        self.maxInFlightBytes = maxInFlightBytes
        self.maxMessageBytes = maxMessageBytes
        self.changes = changes
    }

    /// The bytes a held message accounts for: its body, id and receipt handle (UTF-8).
    static func size(of message: SQSMessage) -> Int {
        message.body.utf8.count + message.messageID.utf8.count + message.receiptHandle.utf8.count
    }

    /// Reserves `count` slots (and `count` worst-case messages' bytes) if they fit; the receive
    /// loop calls `add` or `release` after.
    func reserve(_ count: Int) -> Bool {
        state.withLock { s in
            guard s.waiting.count + s.inBatch.count + s.reserved + count <= maxInFlight else { return false }
            let (reservedBytes, overflow) = (s.reserved + count).multipliedReportingOverflow(by: maxMessageBytes)
            guard !overflow, s.heldBytes <= maxInFlightBytes - reservedBytes else { return false }
            s.reserved += count
            return true
        }
    }

    /// Adds received messages and gives back the slots of a reservation of `reserved`.
    /// `reserved` is also what the receive asked for: getting fewer means the queue had no
    /// more visible messages (a shallow queue), which `takeBatch` uses.
    func add(_ messages: [SQSMessage], reserved: Int) {
        let now = ContinuousClock.now
        let pending = messages.map { Pending(message: $0, receivedAt: now, bytes: Self.size(of: $0)) }
        let bytes = pending.reduce(0) { $0 + $1.bytes }
        state.withLock { s in
            s.reserved -= reserved
            s.shallow = messages.count < reserved
            s.heldBytes += bytes
            s.waiting.append(contentsOf: pending)
            PipelineMetrics.recordInFlight(s.waiting.count + s.inBatch.count)
        }
        changes.notify()
    }

    /// Gives back the slots of a reservation whose receive failed.
    func release(_ reserved: Int) {
        state.withLock { $0.reserved -= reserved }
        changes.notify()
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
            for pending in taken {
                // A receipt handle seen twice (a broken endpoint) is held once: drop the bytes
                // of the entry it replaces so they are not counted forever.
                if let replaced = s.inBatch.updateValue(pending, forKey: pending.message.receiptHandle) {
                    s.heldBytes -= replaced.bytes
                }
            }
            return Batch(messages: taken.map(\.message), oldestReceivedAt: oldest.receivedAt)
        }
    }

    /// Forgets messages that were deleted (or given up on).
    func finish(_ receiptHandles: [String]) {
        state.withLock { s in
            for handle in receiptHandles {
                if let removed = s.inBatch.removeValue(forKey: handle) { s.heldBytes -= removed.bytes }
            }
            PipelineMetrics.recordInFlight(s.waiting.count + s.inBatch.count)
        }
        changes.notify()
    }

    /// When `takeBatch` takes the waiting messages for their age (`maxWait` after the oldest
    /// was received), or nil when none wait.
    func batchDeadline(maxWait: Duration) -> ContinuousClock.Instant? {
        state.withLock { $0.waiting.first.map { $0.receivedAt + maxWait } }
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

    /// Bytes of the messages held (see `size(of:)`).
    var heldBytes: Int { state.withLock { $0.heldBytes } }
}
