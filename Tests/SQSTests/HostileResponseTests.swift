import Foundation
import Testing

@testable import SQS

/// Responses a hostile or broken endpoint could send: they give an error or a sane result,
/// never a trap, an unbounded tree or a value trusted out of range.
@Suite("Hostile responses")
struct HostileResponseTests {
    static func nested(_ depth: Int, name: String = "a") -> String {
        String(repeating: "<\(name)>", count: depth) + String(repeating: "</\(name)>", count: depth)
    }

    @Test("XML nesting is capped at maxDepth levels: 32 parse, 33 and 100,000 are an error")
    func xmlDepthIsCapped() throws {
        let deepest = try XMLDocumentParser.parse(Self.nested(XMLDocumentParser.maxDepth))
        var depth = 1
        var node = deepest
        while let child = node.children.first {
            node = child
            depth += 1
        }
        #expect(depth == XMLDocumentParser.maxDepth)
        for levels in [XMLDocumentParser.maxDepth + 1, 100_000] {
            let error = #expect(throws: XMLParseError.self) { try XMLDocumentParser.parse(Self.nested(levels)) }
            #expect(error?.reason == "elements nested too deeply")
        }
        // Unbalanced: only opening tags.
        #expect(throws: XMLParseError.self) { try XMLDocumentParser.parse(String(repeating: "<a>", count: 100_000)) }
    }

    @Test("the number of elements is capped at maxElements")
    func xmlElementCountIsCapped() throws {
        let wide = { (count: Int) in "<r>" + String(repeating: "<e/>", count: count) + "</r>" }
        #expect(try XMLDocumentParser.parse(wide(XMLDocumentParser.maxElements - 1)).children.count == XMLDocumentParser.maxElements - 1)
        let error = #expect(throws: XMLParseError.self) { try XMLDocumentParser.parse(wide(XMLDocumentParser.maxElements)) }
        #expect(error?.reason == "too many elements")
    }

    @Test("batch ids never sent, repeated, contradicting or missing are reconciled with the request")
    func batchReconciliation() {
        let response = SQSBatchResult(
            successful: ["0", "99", "x", "0"],
            failed: [
                SQSBatchFailure(id: "-1", code: "C", senderFault: false, message: ""),
                SQSBatchFailure(id: "1", code: "ReceiptHandleIsInvalid", senderFault: true, message: "m"),
                SQSBatchFailure(id: "0", code: "InternalError", senderFault: false, message: ""),
                SQSBatchFailure(id: "1", code: "Again", senderFault: false, message: ""),
            ])
        let result = response.reconciled(with: ["0", "1", "2"])
        // "0" succeeded and failed: unknown, so failed; "2" was not reported.
        #expect(result.successful.isEmpty)
        #expect(result.failed.map(\.id) == ["0", "1", "2"])
        #expect(result.failed.map(\.code) == ["InternalError", "ReceiptHandleIsInvalid", SQSBatchFailure.notReportedCode])
        // 99, x, -1 unknown; 0 twice as success; 0 success then failure; 1 failed twice; 2 missing.
        #expect(result.anomalies == 7)

        let clean = SQSBatchResult(successful: ["1", "0"], failed: [SQSBatchFailure(id: "2", code: "C", senderFault: true, message: "")])
        let reconciled = clean.reconciled(with: ["0", "1", "2"])
        #expect(reconciled.successful == ["0", "1"] && reconciled.failed.map(\.id) == ["2"] && reconciled.anomalies == 0)
        #expect(SQSBatchResult().reconciled(with: []) == SQSBatchResult())
    }

    @Test("a receive with more messages than asked for is refused, in both encodings")
    func receiveCountIsBounded() throws {
        let operation = SQSOperations.receiveMessage(queueURL: "u", maxMessages: 2, waitTimeSeconds: 0, visibilityTimeout: nil)
        let item = #"{"MessageId":"m","ReceiptHandle":"r","MD5OfBody":"","Body":"b"}"#
        let json = try #require(SQSOperations.jsonObject(Array(#"{"Messages":[\#(item),\#(item),\#(item)]}"#.utf8)))
        let jsonError = #expect(throws: SQSError.self) { try operation.decodeJSON(json) }
        #expect(jsonError?.code == .invalidResponse && jsonError?.reason == "more messages than asked for")
        let message = "<Message><MessageId>m</MessageId><ReceiptHandle>r</ReceiptHandle><Body>b</Body></Message>"
        let xml = "<ReceiveMessageResponse><ReceiveMessageResult>\(String(repeating: message, count: 3))</ReceiveMessageResult></ReceiveMessageResponse>"
        let xmlError = #expect(throws: SQSError.self) { try operation.decodeXML(try XMLDocumentParser.parse(xml)) }
        #expect(xmlError?.reason == "more messages than asked for")
        #expect(try operation.decodeJSON(try #require(SQSOperations.jsonObject(Array(#"{"Messages":[\#(item),\#(item)]}"#.utf8)))).count == 2)
    }

    @Test("message ids that are empty, too long or not printable, and empty receipt handles, are refused")
    func messageIDsAreChecked() throws {
        func receive(id: String, receipt: String = "r") throws -> [SQSMessage] {
            try SQSOperations.receiveMessage(queueURL: "u", maxMessages: 10, waitTimeSeconds: 0, visibilityTimeout: nil).decodeJSON([
                "Messages": [["MessageId": id, "ReceiptHandle": receipt, "MD5OfBody": "", "Body": "b"]],
            ])
        }
        #expect(try receive(id: String(repeating: "a", count: 128)).count == 1)
        for bad in ["", String(repeating: "a", count: 129), "id\nforged log line", "id with space", "idé"] {
            #expect(throws: SQSError.self) { try receive(id: bad) }
        }
        #expect(throws: SQSError.self) { try receive(id: "m", receipt: "") }
    }

    @Test("attributes out of range (a SentTimestamp that would overflow date arithmetic) are treated as absent")
    func attributesOutOfRangeAreAbsent() throws {
        func attributes(_ sent: String, _ count: String) throws -> SQSMessage {
            try SQSOperations.message(id: "m", receipt: "r", body: "b", md5: nil, attributes: ["SentTimestamp": sent, "ApproximateReceiveCount": count])
        }
        let fine = try attributes("1700000000123", "3")
        #expect(fine.sentTimestamp == 1_700_000_000_123 && fine.approximateReceiveCount == 3)
        for (sent, count) in [("9223372036854775807", "9223372036854775807"), ("-1", "-1"), ("99999999999999999999999", "1e3"),
                              ("253402300800000", "2147483648"), ("x", "")] {
            let message = try attributes(sent, count)
            #expect(message.sentTimestamp == nil && message.approximateReceiveCount == nil, "\(sent) \(count)")
        }
        #expect(try attributes("253402300799999", "2147483647").sentTimestamp == 253_402_300_799_999)
    }

    @Test("JSON responses with wrong types, huge numbers or missing fields give an error or a sane value")
    func jsonWrongTypes() throws {
        let delete = SQSOperations.deleteMessageBatch(queueURL: "u", entries: [])
        let weird = try #require(SQSOperations.jsonObject(Array("""
            {"Successful":[{"Id":0},{"Id":null},{},{"Id":"1"}],
             "Failed":[{"Id":1e300,"Code":5,"SenderFault":"yes"},{"Id":"2","Code":"C","SenderFault":true,"Message":[1]}]}
            """.utf8)))
        let result = try delete.decodeJSON(weird).reconciled(with: ["0", "1", "2"])
        #expect(result.successful == ["1"])
        #expect(result.failed.map(\.id) == ["0", "2"])
        #expect(result.anomalies == 2)  // the numeric-id failure (unknown id ""), "0" unreported
        // A list with a non-object element is ignored as a whole: every entry unreported.
        let mixed = try #require(SQSOperations.jsonObject(Array(#"{"Successful":["0",{"Id":"1"}]}"#.utf8)))
        let unreported = try delete.decodeJSON(mixed).reconciled(with: ["0", "1"])
        #expect(unreported.successful.isEmpty && unreported.failed.count == 2 && unreported.anomalies == 2)
        // Not objects, too deep, beyond Double, invalid UTF-8: no object at all.
        for body in ["[1]", "1e999", "{\"a\":1e999}", String(repeating: "[", count: 100_000),
                     "{\"a\":" + String(repeating: "{\"a\":", count: 100_000)] {
            #expect(SQSOperations.jsonObject(Array(body.utf8)) == nil, "\(body.prefix(20))")
        }
        #expect(SQSOperations.jsonObject([0x7B, 0x22, 0x61, 0x22, 0x3A, 0x22, 0xFF, 0x22, 0x7D]) == nil)
        let receive = SQSOperations.receiveMessage(queueURL: "u", maxMessages: 10, waitTimeSeconds: 0, visibilityTimeout: nil)
        #expect(throws: SQSError.self) { try receive.decodeJSON(["Messages": "not a list"]) }
        #expect(throws: SQSError.self) { try receive.decodeJSON(["Messages": [["MessageId": 12, "ReceiptHandle": "r", "Body": "b"]]]) }
        let attributes = try receive.decodeJSON(["Messages": [["MessageId": "m", "ReceiptHandle": "r", "Body": "b", "Attributes": ["SentTimestamp": 12]]]])
        #expect(attributes.first?.sentTimestamp == nil)
    }
}
