import Foundation
import PIICrypto
import Testing

@testable import SQS

@Suite("JSON 1.0 responses")
struct JSONResponseParsingTests {
    static func object(_ json: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
    }

    @Test func receiveMessageWithEscapesAndUnicode() throws {
        let body1 = "{\"user_id\":\"<a&b>\",\"t\":\"tab\\there\"}\r\n"
        let body2 = "emoji 👋🏽 CJK 世界 \u{0}nul"
        let json = """
            {"Messages":[
              {"MessageId":"id-1","ReceiptHandle":"rh/1+=","MD5OfBody":"\(MD5.hexDigest(body1))",
               "Body":"{\\"user_id\\":\\"<a&b>\\",\\"t\\":\\"tab\\\\there\\"}\\r\\n",
               "Attributes":{"SentTimestamp":"1700000000123","ApproximateReceiveCount":"2"}},
              {"MessageId":"id-2","ReceiptHandle":"rh2","MD5OfBody":"\(MD5.hexDigest(body2))",
               "Body":"emoji \\ud83d\\udc4b\\ud83c\\udffd CJK \\u4e16\\u754c \\u0000nul"}
            ]}
            """
        let operation = SQSOperations.receiveMessage(queueURL: "u", maxMessages: 10, waitTimeSeconds: 0, visibilityTimeout: nil)
        let messages = try operation.decodeJSON(try Self.object(json))
        #expect(messages.count == 2)
        #expect(messages[0].body == body1)
        #expect(messages[0].receiptHandle == "rh/1+=")
        #expect(messages[0].sentTimestamp == 1_700_000_000_123)
        #expect(messages[0].approximateReceiveCount == 2)
        #expect(!messages[0].md5Mismatch)
        #expect(messages[1].body == body2)
        #expect(!messages[1].md5Mismatch)
    }

    @Test func emptyReceiveAndMismatch() throws {
        let operation = SQSOperations.receiveMessage(queueURL: "u", maxMessages: 10, waitTimeSeconds: 0, visibilityTimeout: nil)
        #expect(try operation.decodeJSON(try Self.object("{}")).isEmpty)
        let bad = try operation.decodeJSON(try Self.object(#"{"Messages":[{"MessageId":"m","ReceiptHandle":"r","MD5OfBody":"abc","Body":"x"}]}"#))
        #expect(bad.count == 1 && bad[0].md5Mismatch)
        #expect(throws: SQSError.self) { try operation.decodeJSON(try Self.object(#"{"Messages":[{"MessageId":"m"}]}"#)) }
    }

    @Test func partialBatchFailure() throws {
        let json = """
            {"Successful":[{"Id":"0"},{"Id":"2"}],
             "Failed":[{"Id":"1","Code":"ReceiptHandleIsInvalid","Message":"The input receipt handle is invalid.","SenderFault":true}]}
            """
        let result = try SQSOperations.deleteMessageBatch(queueURL: "u", entries: []).decodeJSON(try Self.object(json))
        #expect(result.successful == ["0", "2"])
        #expect(result.failed == [SQSBatchFailure(id: "1", code: "ReceiptHandleIsInvalid", senderFault: true, message: "The input receipt handle is invalid.")])
    }

    @Test func queueURLAndAttributes() throws {
        #expect(try SQSOperations.getQueueURL(name: "q").decodeJSON(try Self.object(#"{"QueueUrl":"http://h/1/q"}"#)) == "http://h/1/q")
        let attributes = try SQSOperations.getQueueAttributes(queueURL: "u", names: []).decodeJSON(
            try Self.object(#"{"Attributes":{"ApproximateNumberOfMessages":"5","VisibilityTimeout":"30"}}"#))
        #expect(attributes == ["ApproximateNumberOfMessages": "5", "VisibilityTimeout": "30"])
        #expect(throws: SQSError.self) { try SQSOperations.createQueue(name: "q", attributes: [:]).decodeJSON([:]) }
    }

    @Test func requestBodies() throws {
        let send = SQSOperations.sendMessageBatch(queueURL: "u", entries: [
            SQSSendEntry(id: "0", body: "a\"b\u{1F600}"), SQSSendEntry(id: "1", body: "c", delaySeconds: 5),
        ])
        let object = try Self.object(String(decoding: send.jsonBody, as: UTF8.self))
        let entries = try #require(object["Entries"] as? [[String: Any]])
        #expect(object["QueueUrl"] as? String == "u")
        #expect(entries[0]["MessageBody"] as? String == "a\"b\u{1F600}")
        #expect(entries[0]["DelaySeconds"] == nil)
        #expect(entries[1]["DelaySeconds"] as? Int == 5)
        let create = try Self.object(String(decoding: SQSOperations.createQueue(name: "q", attributes: ["VisibilityTimeout": "1"]).jsonBody, as: UTF8.self))
        #expect(create["Attributes"] as? [String: String] == ["VisibilityTimeout": "1"])
    }

    @Test func errorWithQueryCompatibleHeader() throws {
        let body = #"{"__type":"com.amazonaws.sqs#QueueDoesNotExist","message":"The specified queue does not exist."}"#
        let response = HTTPResponse(
            status: 400,
            headers: ["x-amzn-query-error": "AWS.SimpleQueueService.NonExistentQueue;Sender", "x-amzn-requestid": "req-1"],
            body: Array(body.utf8))
        let error = SQSErrorParsing.jsonError(operation: "GetQueueUrl", response: response, object: try Self.object(body))
        #expect(error.awsCode == "AWS.SimpleQueueService.NonExistentQueue")
        #expect(error.requestID == "req-1")
        #expect(error.httpStatus == 400)
        #expect(error.code == .service)
        #expect(!error.isRetryable)
        #expect(!error.description.contains("does not exist"))
    }

    @Test func errorFromTypeOnly() throws {
        let body = #"{"__type":"com.amazon.coral.availability#ThrottlingException","message":"Rate exceeded"}"#
        let response = HTTPResponse(status: 400, headers: ["x-amzn-requestid": "req-2"], body: Array(body.utf8))
        let error = SQSErrorParsing.jsonError(operation: "ReceiveMessage", response: response, object: try Self.object(body))
        #expect(error.awsCode == "ThrottlingException")
        #expect(error.code == .throttled)
        #expect(error.isRetryable)
        #expect(error.requestID == "req-2")
    }
}
