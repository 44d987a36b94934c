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
}
