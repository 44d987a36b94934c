import Foundation
import Testing

@testable import SQS

/// The hand-written JSON request bodies read back as the same values (JSONSerialization as the
/// reference reader), whatever the strings hold.
@Suite("JSON request bodies")
struct JSONRequestBodyTests {
    @Test("quotes, backslashes, control characters and non-ASCII round-trip; nested arrays and objects; integers and booleans")
    func roundTrip() throws {
        var tricky = "q\"b\\s/é😀\u{7F}"
        for code in 0..<0x20 { tricky.unicodeScalars.append(Unicode.Scalar(UInt8(code))) }
        let object: [String: Any] = [
            "QueueUrl": tricky, "MaxNumberOfMessages": 10, "Flag": true, "Names": ["a", tricky],
            "Entries": [["Id": "0", "ReceiptHandle": tricky, "VisibilityTimeout": 30]], "Mixed": [1, "x", false] as [Any],
            tricky: [String: Any](),
        ]
        let body = JSONRequestBody.encode(object)
        let decoded = try #require(try JSONSerialization.jsonObject(with: Data(body)) as? NSDictionary)
        #expect(decoded == (object as NSDictionary))
        #expect(!body.contains(0x0A) && !body.contains(0x00))  // control characters are escaped
    }

    @Test("a batch request: entries in order, each with its fields")
    func batchBody() throws {
        let operation = SQSOperations.deleteMessageBatch(
            queueURL: "http://q", entries: (0..<10).map { SQSReceiptEntry(id: "\($0)", receiptHandle: "h\"\($0)") })
        let decoded = try #require(try JSONSerialization.jsonObject(with: Data(operation.jsonBody)) as? [String: Any])
        let entries = try #require(decoded["Entries"] as? [[String: String]])
        #expect(entries.map { $0["Id"] } == (0..<10).map { "\($0)" })
        #expect(entries.map { $0["ReceiptHandle"] } == (0..<10).map { "h\"\($0)" })
        #expect(decoded["QueueUrl"] as? String == "http://q")
    }
}
