import Foundation
import Logging
import Synchronization
import Testing
import TestSupport

@testable import SQS

/// The client against a scripted local HTTP server: negotiation, retries, signing headers,
/// connection reuse, timeouts and what gets logged.
@Suite("SQSClient against a stub server")
struct SQSClientStubTests {
    static let credentials = AWSCredentials(accessKeyID: "AKIDSTUB", secretAccessKey: "stub-secret", sessionToken: "stub-token")

    static func client(
        _ server: StubHTTPServer, _ wireProtocol: SQSWireProtocol, logs: LogCapture = LogCapture(),
        maxAttempts: Int = 3, requestTimeout: Duration = .seconds(5)
    ) throws -> SQSClient {
        let configuration = SQSConfiguration(
            endpoint: server.url, region: "eu-west-1", wireProtocol: wireProtocol,
            credentials: StaticCredentialsProvider(credentials), requestTimeout: requestTimeout,
            maxAttempts: maxAttempts, retryBaseDelay: .milliseconds(1), retryMaxDelay: .milliseconds(5))
        return try SQSClient(configuration: configuration, logger: logs.logger())
    }

    static let queueURLXML = """
        <GetQueueUrlResponse><GetQueueUrlResult><QueueUrl>http://stub/1/q</QueueUrl></GetQueueUrlResult>\
        <ResponseMetadata><RequestId>rq</RequestId></ResponseMetadata></GetQueueUrlResponse>
        """

    @Test func autoFallsBackToQueryAndRemembers() async throws {
        let server = try StubHTTPServer { request, _ in
            if request.headers["content-type"] == "application/x-amz-json-1.0" {
                return .init(status: 400, body: "<ErrorResponse><Error><Code>InvalidAction</Code></Error><RequestId>x</RequestId></ErrorResponse>")
            }
            return .init(status: 200, body: Self.queueURLXML)
        }
        defer { server.stop() }
        let client = try Self.client(server, .auto)
        defer { client.shutdown() }
        #expect(try await client.getQueueURL(name: "q") == "http://stub/1/q")
        #expect(client.wireProtocol == .query)
        #expect(try await client.getQueueURL(name: "q") == "http://stub/1/q")
        let kinds = server.requests.map { $0.headers["content-type"] ?? "" }
        #expect(kinds == ["application/x-amz-json-1.0", "application/x-www-form-urlencoded; charset=utf-8", "application/x-www-form-urlencoded; charset=utf-8"])
        #expect(server.requests[1].bodyText == "Action=GetQueueUrl&Version=2012-11-05&QueueName=q")
    }

    @Test func autoKeepsJSONWhenJSONErrorsComeBack() async throws {
        let server = try StubHTTPServer { _, _ in
            .init(status: 400, headers: ["x-amzn-query-error": "AWS.SimpleQueueService.NonExistentQueue;Sender", "x-amzn-RequestId": "rid-9"],
                  body: #"{"__type":"com.amazonaws.sqs#QueueDoesNotExist","message":"nope"}"#)
        }
        defer { server.stop() }
        let client = try Self.client(server, .auto)
        defer { client.shutdown() }
        let error = await #expect(throws: SQSError.self) { try await client.getQueueURL(name: "q") }
        #expect(error?.awsCode == "AWS.SimpleQueueService.NonExistentQueue")
        #expect(error?.requestID == "rid-9")
        #expect(client.wireProtocol == .json)
        #expect(server.requests.count == 1)
    }

    @Test func retriesThrottlingAnd5xxThenSucceeds() async throws {
        let server = try StubHTTPServer { _, index in
            switch index {
            case 0: return .init(status: 400, headers: ["x-amzn-query-error": "RequestThrottled;Sender"], body: #"{"__type":"com.amazonaws.sqs#RequestThrottled"}"#)
            case 1: return .init(status: 503, body: "<html>busy</html>")
            default: return .init(status: 200, body: #"{"QueueUrl":"http://stub/1/q"}"#)
            }
        }
        defer { server.stop() }
        let logs = LogCapture()
        let client = try Self.client(server, .json, logs: logs)
        defer { client.shutdown() }
        #expect(try await client.getQueueURL(name: "q") == "http://stub/1/q")
        #expect(server.requests.count == 3)
        let retries = logs.lines.filter { $0.contains("retrying") }
        #expect(retries.count == 2)
        #expect(retries[0].contains("aws_code=RequestThrottled") && retries[0].contains("operation=GetQueueUrl") && retries[0].contains("attempt=1"))
        #expect(retries[1].contains("http_status=503"))
    }

    @Test func doesNotRetryOther4xx() async throws {
        let server = try StubHTTPServer { _, _ in
            .init(status: 400, headers: ["x-amzn-query-error": "InvalidParameterValue;Sender"], body: #"{"__type":"InvalidParameterValue"}"#)
        }
        defer { server.stop() }
        let client = try Self.client(server, .json, maxAttempts: 5)
        defer { client.shutdown() }
        let error = await #expect(throws: SQSError.self) { try await client.getQueueURL(name: "q") }
        #expect(error?.isRetryable == false)
        #expect(server.requests.count == 1)
    }

    @Test("SQS refusing the caller (AccessDenied, InvalidClientTokenId, a bare 403) is notAuthorized and not retried",
          arguments: [
            (403, "AccessDenied"), (403, "InvalidClientTokenId"), (400, "AccessDeniedException"), (403, nil),
          ] as [(Int, String?)])
    func refusedCallerIsNotAuthorized(_ status: Int, _ awsCode: String?) async throws {
        let server = try StubHTTPServer { _, _ in
            if let awsCode {
                return .init(status: status, headers: ["x-amzn-query-error": "\(awsCode);Sender"], body: #"{"__type":"\#(awsCode)"}"#)
            }
            return .init(status: status, body: "")
        }
        defer { server.stop() }
        let client = try Self.client(server, .json, maxAttempts: 5)
        defer { client.shutdown() }
        let error = await #expect(throws: SQSError.self) { try await client.getQueueURL(name: "q") }
        #expect(error?.code == .notAuthorized, "\(String(describing: error))")
        #expect(error?.isRetryable == false)
        #expect(server.requests.count == 1)
    }

    @Test func givesUpAfterMaxAttempts() async throws {
        let server = try StubHTTPServer { _, _ in .init(status: 500, body: "") }
        defer { server.stop() }
        let client = try Self.client(server, .query, maxAttempts: 4)
        defer { client.shutdown() }
        let error = await #expect(throws: SQSError.self) { try await client.getQueueURL(name: "q") }
        #expect(error?.httpStatus == 500)
        #expect(error?.isRetryable == true)
        #expect(server.requests.count == 4)
    }

    @Test func signsAndReusesOneConnection() async throws {
        let server = try StubHTTPServer { _, _ in .init(status: 200, body: #"{"QueueUrl":"http://stub/1/q"}"#) }
        defer { server.stop() }
        let client = try Self.client(server, .json)
        defer { client.shutdown() }
        for _ in 0..<20 { _ = try await client.getQueueURL(name: "q") }
        #expect(server.connections == 1)
        let request = try #require(server.requests.last)
        #expect(request.method == "POST" && request.path == "/")
        #expect(request.headers["x-amz-target"] == "AmazonSQS.GetQueueUrl")
        #expect(request.headers["x-amz-security-token"] == "stub-token")
        #expect(request.headers["host"] == "127.0.0.1:\(server.port)")
        #expect(request.headers["expect"] == nil)
        let authorization = try #require(request.headers["authorization"])
        #expect(authorization.hasPrefix("AWS4-HMAC-SHA256 Credential=AKIDSTUB/"))
        #expect(authorization.contains("/eu-west-1/sqs/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-security-token;x-amz-target;x-amzn-query-mode, Signature="))
        // The signature the server would compute from what it received.
        let date = try #require(request.headers["x-amz-date"])
        var headers: [String: String] = [:]
        for name in ["content-type", "host", "x-amz-target", "x-amzn-query-mode"] { headers[name] = request.headers[name] }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
        let expected = SigV4Signer(service: "sqs", region: "eu-west-1").sign(
            method: "POST", url: server.url, headers: headers, body: request.body, credentials: Self.credentials,
            date: try #require(formatter.date(from: date)))
        #expect(expected["Authorization"] == authorization)
    }

    @Test func concurrentRequestsAllComplete() async throws {
        // Requests in progress at the server, and the most seen at once: parallel requests
        // overlap there, serialised ones never do (no wall-clock bound: CI machines are loaded).
        let inFlight = Mutex((now: 0, peak: 0))
        let server = try StubHTTPServer { _, _ in
            inFlight.withLock { $0.now += 1; $0.peak = max($0.peak, $0.now) }
            Thread.sleep(forTimeInterval: 0.2)
            inFlight.withLock { $0.now -= 1 }
            return .init(status: 200, body: #"{"QueueUrl":"http://stub/1/q"}"#)
        }
        defer { server.stop() }
        let client = try Self.client(server, .json)
        defer { client.shutdown() }
        try await withThrowingTaskGroup(of: String.self) { group in
            for _ in 0..<16 { group.addTask { try await client.getQueueURL(name: "q") } }
            for try await url in group { #expect(url == "http://stub/1/q") }
        }
        #expect(inFlight.withLock { $0.peak } >= 4)  // parallel, not one at a time
        #expect(server.requests.count == 16)
    }

    @Test func requestTimeoutIsARetryableTimeout() async throws {
        let server = try StubHTTPServer { _, _ in
            Thread.sleep(forTimeInterval: 1.5)
            return .init(status: 200, body: #"{"QueueUrl":"u"}"#)
        }
        defer { server.stop() }
        let client = try Self.client(server, .json, maxAttempts: 1, requestTimeout: .milliseconds(300))
        defer { client.shutdown() }
        let error = await #expect(throws: SQSError.self) { try await client.getQueueURL(name: "q") }
        #expect(error?.code == .timeout)
        #expect(error?.isRetryable == true)
    }

    @Test func md5MismatchIsLoggedByIDWithoutBody() async throws {
        let secretBody = "{\"email\":\"alice@example.com\"}"
        let server = try StubHTTPServer { _, _ in
            .init(status: 200, body: """
                {"Messages":[{"MessageId":"msg-123","ReceiptHandle":"rh","MD5OfBody":"0123456789abcdef0123456789abcdef",
                "Body":"{\\"email\\":\\"alice@example.com\\"}","Attributes":{"SentTimestamp":"1","ApproximateReceiveCount":"1"}}]}
                """)
        }
        defer { server.stop() }
        let logs = LogCapture()
        let client = try Self.client(server, .json, logs: logs)
        defer { client.shutdown() }
        let messages = try await client.receiveMessages(queueURL: "http://stub/1/q", maxMessages: 10, waitTimeSeconds: 0)
        #expect(messages.count == 1 && messages[0].md5Mismatch && messages[0].body == secretBody)
        #expect(logs.lines.contains { $0.contains("MD5") && $0.contains("message_id=msg-123") })
        #expect(!logs.lines.joined().contains("alice"))
        #expect(!logs.lines.joined().contains("stub-secret"))
        #expect(!logs.lines.joined().contains("rh"))
    }

    @Test func invalidArgumentsAreRejectedLocally() async throws {
        let server = try StubHTTPServer { _, _ in .init(status: 200, body: "{}") }
        defer { server.stop() }
        let client = try Self.client(server, .json)
        defer { client.shutdown() }
        let tooMany = (0..<11).map { SQSReceiptEntry(id: "\($0)", receiptHandle: "h") }
        await #expect(throws: SQSError.self) { try await client.deleteMessageBatch(queueURL: "u", entries: tooMany) }
        await #expect(throws: SQSError.self) { try await client.receiveMessages(queueURL: "u", maxMessages: 11, waitTimeSeconds: 0) }
        #expect(try await client.deleteMessageBatch(queueURL: "u", entries: []) == SQSBatchResult())
        #expect(server.requests.isEmpty)
        #expect(throws: SQSError.self) {
            try SQSClient(configuration: SQSConfiguration(endpoint: "ftp://x", region: "r", credentials: StaticCredentialsProvider(Self.credentials)),
                          logger: Logger(label: "t"))
        }
    }
}
