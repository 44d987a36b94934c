@testable import Pipeline
import SQS
import Testing

/// When `etl run` closes a batch: full, old enough, flushed, or the queue is shallow.
@Suite("MessageBuffer batch formation")
struct MessageBufferTests {
    static func messages(_ count: Int, from start: Int = 0) -> [SQSMessage] {
        (start..<start + count).map { SQSMessage(messageID: "m\($0)", receiptHandle: "r\($0)", body: "{}", md5OfBody: "") }
    }

    /// A buffer holding `count` messages from one receive that asked for `asked`.
    static func received(_ count: Int, asked: Int) -> MessageBuffer {
        let buffer = MessageBuffer(maxInFlight: 100)
        #expect(buffer.reserve(asked))
        buffer.add(messages(count), reserved: asked)
        return buffer
    }

    @Test("full receives (a backlog): a partial batch waits for batch_max_wait")
    func backlogWaits() async throws {
        let buffer = Self.received(10, asked: 10)
        #expect(buffer.takeBatch(max: 50, maxWait: .milliseconds(100), flush: false) == nil)
        try await Task.sleep(for: .milliseconds(150))
        let batch = try #require(buffer.takeBatch(max: 50, maxWait: .milliseconds(100), flush: false))
        #expect(batch.messages.map(\.messageID) == Self.messages(10).map(\.messageID))
        #expect(ContinuousClock.now - batch.oldestReceivedAt >= .milliseconds(100))
    }

    @Test("a receive that got less than it asked for (a shallow queue): the batch closes at once")
    func shallowTakesAtOnce() throws {
        let buffer = Self.received(4, asked: 10)
        let batch = try #require(buffer.takeBatch(max: 50, maxWait: .seconds(60), flush: false))
        #expect(batch.messages.count == 4)
        #expect(buffer.takeBatch(max: 50, maxWait: .seconds(60), flush: false) == nil)  // nothing left
    }

    @Test("batch_size messages, or a flush, close a batch at once; a batch holds at most batch_size")
    func fullOrFlush() throws {
        let buffer = Self.received(10, asked: 10)
        #expect(buffer.reserve(10))
        buffer.add(Self.messages(10, from: 10), reserved: 10)
        let first = try #require(buffer.takeBatch(max: 15, maxWait: .seconds(60), flush: false))
        #expect(first.messages.count == 15)
        #expect(buffer.takeBatch(max: 15, maxWait: .seconds(60), flush: false) == nil)
        let rest = try #require(buffer.takeBatch(max: 15, maxWait: .seconds(60), flush: true))
        #expect(rest.messages.map(\.messageID) == Self.messages(5, from: 15).map(\.messageID))
    }

    @Test("taken messages stay held (and due for extension) until finished; a failed receive frees its slots")
    func heldUntilFinished() throws {
        let buffer = Self.received(4, asked: 10)
        let batch = try #require(buffer.takeBatch(max: 50, maxWait: .seconds(60), flush: false))
        #expect(buffer.heldCount == 4)
        #expect(buffer.dueForExtension(olderThan: .zero).count == 4)
        buffer.finish(batch.messages.map(\.receiptHandle))
        #expect(buffer.heldCount == 0)
        #expect(buffer.dueForExtension(olderThan: .zero).isEmpty)

        let small = MessageBuffer(maxInFlight: 10)
        #expect(small.reserve(10))
        #expect(!small.reserve(1))
        small.release(10)
        #expect(small.reserve(10))
    }

    /// `count` messages whose body is `bodyBytes` bytes, ids and handles 2 bytes each.
    static func sized(_ count: Int, bodyBytes: Int, from start: Int = 0) -> [SQSMessage] {
        (start..<start + count).map {
            SQSMessage(messageID: "m\($0)", receiptHandle: "r\($0)", body: String(repeating: "x", count: bodyBytes), md5OfBody: "")
        }
    }

    @Test("bytes: a reservation counts at the worst case, received messages at their size; reservations are refused while the budget is used and resume when messages are finished")
    func byteBudget() throws {
        // Budget 1000 bytes; a slot may bring up to 100; the count limit is out of the way.
        let buffer = MessageBuffer(maxInFlight: 1000, maxInFlightBytes: 1000, maxMessageBytes: 100)
        #expect(buffer.reserve(10))  // 10 × 100 reserved: the whole budget
        #expect(!buffer.reserve(1))
        buffer.add(Self.sized(4, bodyBytes: 96), reserved: 10)  // 4 × (96 + 2 + 2) held
        #expect(buffer.heldBytes == 400)
        #expect(buffer.reserve(6))  // 400 held + 600 reserved
        #expect(!buffer.reserve(1))
        buffer.add(Self.sized(6, bodyBytes: 96, from: 4), reserved: 6)
        #expect(buffer.heldBytes == 1000 && buffer.heldCount == 10)
        #expect(!buffer.reserve(1))  // held messages alone use the budget

        // Taking a batch does not free bytes; finishing (deleting) it does.
        let batch = try #require(buffer.takeBatch(max: 3, maxWait: .zero, flush: true))
        #expect(!buffer.reserve(1))
        buffer.finish(batch.messages.map(\.receiptHandle))
        #expect(buffer.heldBytes == 700)
        #expect(buffer.reserve(3))
        #expect(!buffer.reserve(1))
        buffer.release(3)  // a failed receive gives its bytes back
        #expect(buffer.reserve(3))
    }

    @Test("bytes: a message larger than a slot's worst case counts in full, and blocks reservations until finished")
    func oversizedMessagesCountInFull() throws {
        let buffer = MessageBuffer(maxInFlight: 1000, maxInFlightBytes: 1000, maxMessageBytes: 100)
        #expect(buffer.reserve(1))
        buffer.add(Self.sized(1, bodyBytes: 5000), reserved: 1)
        #expect(buffer.heldBytes == 5004)
        #expect(!buffer.reserve(1))
        let batch = try #require(buffer.takeBatch(max: 10, maxWait: .zero, flush: true))
        buffer.finish(batch.messages.map(\.receiptHandle))
        #expect(buffer.heldBytes == 0)
        #expect(buffer.reserve(10))
    }

    @Test("bytes: a receipt handle received twice is held once and its bytes are not leaked")
    func duplicateReceiptHandlesDoNotLeakBytes() throws {
        let buffer = MessageBuffer(maxInFlight: 1000, maxInFlightBytes: 1000, maxMessageBytes: 100)
        let message = Self.sized(1, bodyBytes: 96)[0]
        #expect(buffer.reserve(2))
        buffer.add([message, message], reserved: 2)
        #expect(buffer.heldBytes == 200)
        let batch = try #require(buffer.takeBatch(max: 10, maxWait: .zero, flush: true))
        #expect(batch.messages.count == 2)
        buffer.finish(batch.messages.map(\.receiptHandle))
        #expect(buffer.heldBytes == 0 && buffer.heldCount == 0)
        #expect(buffer.reserve(10))
    }
}
