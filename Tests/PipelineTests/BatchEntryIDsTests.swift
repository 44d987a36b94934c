@testable import Pipeline
import SQS
import Testing

/// Mapping the entry ids of a DeleteMessageBatch response back to the chunk's messages: ids
/// from the network are never used as an index unchecked.
@Suite("Batch entry ids")
struct BatchEntryIDsTests {
    static let chunk = (0..<3).map { SQSMessage(messageID: "message-\($0)", receiptHandle: "r\($0)", body: "{}", md5OfBody: "") }

    @Test("the ids sent name their messages")
    func idsSentNameTheirMessages() {
        for index in Self.chunk.indices {
            #expect(BatchEntryIDs.message(forID: BatchEntryIDs.id(index), in: Self.chunk)?.messageID == "message-\(index)")
        }
    }

    @Test("ids never sent name nothing (out of range, negative, not an integer, not canonical)", arguments: [
        "3", "99", "-1", "x", "", " 1", "01", "+1", "1.0", "9223372036854775807", "99999999999999999999",
    ])
    func otherIDsNameNothing(_ id: String) {
        #expect(BatchEntryIDs.message(forID: id, in: Self.chunk) == nil)
        #expect(BatchEntryIDs.message(forID: id, in: []) == nil)
    }
}
