import Foundation
import Testing
import TestSupport

@testable import SQS

/// The client against a stub endpoint that answers like a hostile one: batch results naming
/// entries that were never sent, repeated or missing, and bodies nested 100,000 levels deep.
/// Every call returns an error or a result reconciled with its request; nothing traps.
@Suite("SQSClient against a hostile endpoint")
struct HostileEndpointStubTests {
    static let entries = (0..<3).map { SQSReceiptEntry(id: "\($0)", receiptHandle: "handle-\($0)") }

    static let hostileDeleteXML = """
        <DeleteMessageBatchResponse><DeleteMessageBatchResult>\
        <DeleteMessageBatchResultEntry><Id>0</Id></DeleteMessageBatchResultEntry>\
        <DeleteMessageBatchResultEntry><Id>0</Id></DeleteMessageBatchResultEntry>\
        <BatchResultErrorEntry><Id>99</Id><Code>X</Code><SenderFault>true</SenderFault></BatchResultErrorEntry>\
        <BatchResultErrorEntry><Id>-1</Id><Code>X</Code></BatchResultErrorEntry>\
        <BatchResultErrorEntry><Id>x</Id><Code>X</Code></BatchResultErrorEntry>\
        <BatchResultErrorEntry><Id>1</Id><Code>ReceiptHandleIsInvalid</Code><SenderFault>true</SenderFault></BatchResultErrorEntry>\
        <BatchResultErrorEntry><Id>1</Id><Code>ReceiptHandleIsInvalid</Code></BatchResultErrorEntry>\
        </DeleteMessageBatchResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></DeleteMessageBatchResponse>
        """

    static let hostileDeleteJSON = """
        {"Successful":[{"Id":"0"},{"Id":"0"},{"Id":"99"}],
         "Failed":[{"Id":"-1","Code":"X"},{"Id":"x","Code":"X"},{"Id":"1","Code":"ReceiptHandleIsInvalid","SenderFault":true},{"Id":1,"Code":"X"}]}
        """

    /// Whatever the endpoint said: each of the three entries once, the unknown ones ignored,
    /// entry 2 (not reported) failed, and a warning with counts only.
    static func expectReconciled(_ result: SQSBatchResult, logs: LogCapture, anomalies: Int) {
        #expect(result.successful == ["0"])
        #expect(result.failed.map(\.id) == ["1", "2"])
        #expect(result.failed.map(\.code) == ["ReceiptHandleIsInvalid", SQSBatchFailure.notReportedCode])
        #expect(result.anomalies == anomalies)
        let warning = logs.lines.first { $0.contains("does not match its request") }
        #expect(warning?.contains("anomalies=\(anomalies)") == true && warning?.contains("operation=DeleteMessageBatch") == true)
        #expect(!logs.lines.joined().contains("handle-"))
    }

    @Test("Query DeleteMessageBatch failures with Id 99, -1, x, duplicates and a missing entry")
    func hostileDeleteQuery() async throws {
        let server = try StubHTTPServer { _, _ in .init(status: 200, body: Self.hostileDeleteXML) }
        defer { server.stop() }
        let logs = LogCapture()
        let client = try SQSClientStubTests.client(server, .query, logs: logs)
        defer { client.shutdown() }
        let result = try await client.deleteMessageBatch(queueURL: "http://stub/1/q", entries: Self.entries)
        // 0 twice, 99, -1, x, 1 failed twice, 2 missing.
        Self.expectReconciled(result, logs: logs, anomalies: 6)
    }

    @Test("JSON DeleteMessageBatch with unknown, repeated, numeric and missing ids")
    func hostileDeleteJSON() async throws {
        let server = try StubHTTPServer { _, _ in .init(status: 200, body: Self.hostileDeleteJSON) }
        defer { server.stop() }
        let logs = LogCapture()
        let client = try SQSClientStubTests.client(server, .json, logs: logs)
        defer { client.shutdown() }
        let result = try await client.deleteMessageBatch(queueURL: "http://stub/1/q", entries: Self.entries)
        // 0 twice, 99, -1, x, the numeric id (read as ""), 2 missing.
        Self.expectReconciled(result, logs: logs, anomalies: 6)
    }

    @Test("ChangeMessageVisibilityBatch success counts only entries that were sent")
    func hostileVisibility() async throws {
        let body = """
            <ChangeMessageVisibilityBatchResponse><ChangeMessageVisibilityBatchResult>\
            \((0..<50).map { "<ChangeMessageVisibilityBatchResultEntry><Id>\($0 % 25)</Id></ChangeMessageVisibilityBatchResultEntry>" }.joined())\
            </ChangeMessageVisibilityBatchResult></ChangeMessageVisibilityBatchResponse>
            """
        let server = try StubHTTPServer { _, _ in .init(status: 200, body: body) }
        defer { server.stop() }
        let client = try SQSClientStubTests.client(server, .query)
        defer { client.shutdown() }
        let entries = (0..<2).map { SQSVisibilityEntry(id: "\($0)", receiptHandle: "h\($0)", visibilityTimeout: 30) }
        let result = try await client.changeMessageVisibilityBatch(queueURL: "http://stub/1/q", entries: entries)
        #expect(result.successful == ["0", "1"])
        #expect(result.failed.isEmpty)
        #expect(result.anomalies == 48)
    }

    @Test("a Query response nested 100,000 levels deep is an invalidResponse error, not a stack overflow")
    func deeplyNestedQueryResponse() async throws {
        let depth = 100_000
        let body = "<ReceiveMessageResponse><ReceiveMessageResult>" + String(repeating: "<Message>", count: depth)
            + String(repeating: "</Message>", count: depth) + "</ReceiveMessageResult></ReceiveMessageResponse>"
        let server = try StubHTTPServer { _, _ in .init(status: 200, body: body) }
        defer { server.stop() }
        let client = try SQSClientStubTests.client(server, .query)
        defer { client.shutdown() }
        let error = await #expect(throws: SQSError.self) {
            try await client.receiveMessages(queueURL: "http://stub/1/q", maxMessages: 10, waitTimeSeconds: 0)
        }
        #expect(error?.code == .invalidResponse)
        #expect(error?.reason == "response is not XML: elements nested too deeply")
        #expect(error?.isRetryable == false)
    }

    @Test("a deeply nested error body (status 500) still gives a retryable service error")
    func deeplyNestedErrorResponse() async throws {
        let body = "<ErrorResponse>" + String(repeating: "<Error>", count: 100_000) + "</ErrorResponse>"
        let server = try StubHTTPServer { _, _ in .init(status: 500, body: body) }
        defer { server.stop() }
        let client = try SQSClientStubTests.client(server, .query, maxAttempts: 1)
        defer { client.shutdown() }
        let error = await #expect(throws: SQSError.self) { try await client.getQueueURL(name: "q") }
        #expect(error?.httpStatus == 500 && error?.isRetryable == true)
    }

    @Test("a JSON response nested 100,000 levels deep is an invalidResponse error")
    func deeplyNestedJSONResponse() async throws {
        let body = #"{"Messages":"# + String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000) + "}"
        let server = try StubHTTPServer { _, _ in .init(status: 200, body: body) }
        defer { server.stop() }
        let client = try SQSClientStubTests.client(server, .json)
        defer { client.shutdown() }
        let error = await #expect(throws: SQSError.self) {
            try await client.receiveMessages(queueURL: "http://stub/1/q", maxMessages: 10, waitTimeSeconds: 0)
        }
        #expect(error?.code == .invalidResponse)
    }

    @Test("a receive answering 11 messages to a request for 10 is refused")
    func tooManyMessages() async throws {
        let item = #"{"MessageId":"m","ReceiptHandle":"r","MD5OfBody":"","Body":""}"#
        let body = #"{"Messages":["# + Array(repeating: item, count: 11).joined(separator: ",") + "]}"
        let server = try StubHTTPServer { _, _ in .init(status: 200, body: body) }
        defer { server.stop() }
        let client = try SQSClientStubTests.client(server, .json)
        defer { client.shutdown() }
        let error = await #expect(throws: SQSError.self) {
            try await client.receiveMessages(queueURL: "http://stub/1/q", maxMessages: 10, waitTimeSeconds: 0)
        }
        #expect(error?.reason == "more messages than asked for")
    }
}
