import Foundation
import Logging
import SQS
import Testing
import TestSupport

@Suite(.enabled(if: TestServices.sqsEnabled), .serialized)
struct SQSClientIntegrationTests {
    @Test(arguments: [SQSWireProtocol.json, .query])
    func sendThousandReceiveAndDeleteAll(_ wireProtocol: SQSWireProtocol) async throws {
        let client = try SQSTestClient.make(wireProtocol)
        defer { client.shutdown() }
        try await SQSTestClient.withQueue(client, prefix: "sqs_thousand_\(wireProtocol.rawValue)") { queue in
            var sentIDs = Set<String>()
            var deletedIDs = Set<String>()
            var bodies: [String: String] = [:]
            // 1,000 messages in chunks of 100 (ten batches of 10), draining as we go: moto slows
            // down with deep queues.
            for chunk in 0..<10 {
                for batch in 0..<10 {
                    let entries = (0..<10).map { i in
                        let n = chunk * 100 + batch * 10 + i
                        return SQSSendEntry(id: String(i), body: "{\"n\":\(n),\"text\":\"<héllo & 世界 👋>\\r\\n\"}")
                    }
                    let result = try await client.sendMessageBatch(queueURL: queue, entries: entries)
                    #expect(result.failed.isEmpty)
                    #expect(result.successful.count == 10)
                    for entry in entries { bodies[entry.body] = entry.id }
                }
                sentIDs.formUnion((0..<100).map { "\(chunk)-\($0)" })
                var received = 0
                let clock = ContinuousClock()
                let end = clock.now + .seconds(120)  // moto slows down on a loaded machine
                while received < 100, clock.now < end {
                    let messages = try await client.receiveMessages(queueURL: queue, maxMessages: 10, waitTimeSeconds: 1)
                    for message in messages {
                        #expect(!message.md5Mismatch)
                        #expect(bodies[message.body] != nil)
                        #expect(message.sentTimestamp != nil)
                        #expect((message.approximateReceiveCount ?? 0) >= 1)
                    }
                    if messages.isEmpty { continue }
                    let entries = messages.enumerated().map { SQSReceiptEntry(id: String($0.offset), receiptHandle: $0.element.receiptHandle) }
                    let result = try await client.deleteMessageBatch(queueURL: queue, entries: entries)
                    #expect(result.failed.isEmpty)
                    for id in result.successful where deletedIDs.insert(messages[Int(id)!].messageID).inserted { received += 1 }
                }
                #expect(received == 100)
            }
            #expect(deletedIDs.count == sentIDs.count)
            let attributes = try await client.getQueueAttributes(queueURL: queue, names: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])
            #expect(attributes["ApproximateNumberOfMessages"] == "0")
            #expect(attributes["ApproximateNumberOfMessagesNotVisible"] == "0")
        }
    }

    @Test(arguments: [SQSWireProtocol.json, .query])
    func redeliveryAfterVisibilityTimeout(_ wireProtocol: SQSWireProtocol) async throws {
        let client = try SQSTestClient.make(wireProtocol)
        defer { client.shutdown() }
        // Four seconds of visibility: with one, a loaded machine (the whole suite on two cores)
        // took longer than that between the first receive and the check that it is hidden.
        try await SQSTestClient.withQueue(client, prefix: "sqs_redeliver", attributes: ["VisibilityTimeout": "4"]) { queue in
            _ = try await client.sendMessageBatch(queueURL: queue, entries: [SQSSendEntry(id: "a", body: "again")])
            let first = try await client.receiveMessages(queueURL: queue, maxMessages: 1, waitTimeSeconds: 2)
            #expect(first.count == 1)
            #expect(first.first?.approximateReceiveCount == 1)
            #expect(try await client.receiveMessages(queueURL: queue, maxMessages: 1, waitTimeSeconds: 0).isEmpty)
            try await Task.sleep(for: .milliseconds(4500))
            let second = try await client.receiveMessages(queueURL: queue, maxMessages: 1, waitTimeSeconds: 5)
            #expect(second.first?.messageID == first.first?.messageID)
            #expect(second.first?.approximateReceiveCount == 2)
            #expect(second.first?.receiptHandle != first.first?.receiptHandle)
            let result = try await client.deleteMessageBatch(queueURL: queue, entries: [SQSReceiptEntry(id: "0", receiptHandle: second[0].receiptHandle)])
            #expect(result.successful == ["0"])
        }
    }

    @Test(arguments: [SQSWireProtocol.json, .query])
    func changeVisibility(_ wireProtocol: SQSWireProtocol) async throws {
        let client = try SQSTestClient.make(wireProtocol)
        defer { client.shutdown() }
        try await SQSTestClient.withQueue(client, prefix: "sqs_visibility", attributes: ["VisibilityTimeout": "30"]) { queue in
            _ = try await client.sendMessageBatch(queueURL: queue, entries: [SQSSendEntry(id: "a", body: "x"), SQSSendEntry(id: "b", body: "y")])
            var messages: [SQSMessage] = []
            for _ in 0..<5 where messages.count < 2 {
                messages += try await client.receiveMessages(queueURL: queue, maxMessages: 2, waitTimeSeconds: 1)
            }
            #expect(messages.count == 2)
            // Make them visible again right away.
            let result = try await client.changeMessageVisibilityBatch(queueURL: queue, entries: messages.enumerated().map {
                SQSVisibilityEntry(id: "v\($0.offset)", receiptHandle: $0.element.receiptHandle, visibilityTimeout: 0)
            })
            #expect(Set(result.successful) == ["v0", "v1"])
            #expect(result.failed.isEmpty)
            let deleted = try await SQSTestClient.drain(client, queueURL: queue, expected: 2, deadline: .seconds(20))
            #expect(deleted == Set(messages.map(\.messageID)))
        }
    }

    @Test(arguments: [SQSWireProtocol.json, .query])
    func deleteBatchWithOneBadReceiptHandle(_ wireProtocol: SQSWireProtocol) async throws {
        let client = try SQSTestClient.make(wireProtocol)
        defer { client.shutdown() }
        try await SQSTestClient.withQueue(client, prefix: "sqs_badhandle") { queue in
            _ = try await client.sendMessageBatch(queueURL: queue, entries: (0..<3).map { SQSSendEntry(id: "\($0)", body: "m\($0)") })
            var messages: [SQSMessage] = []
            for _ in 0..<10 where messages.count < 3 {
                messages += try await client.receiveMessages(queueURL: queue, maxMessages: 10, waitTimeSeconds: 1)
            }
            #expect(messages.count == 3)
            var entries = messages.enumerated().map { SQSReceiptEntry(id: String($0.offset), receiptHandle: $0.element.receiptHandle) }
            entries.insert(SQSReceiptEntry(id: "garbage", receiptHandle: "not-a-real-receipt-handle"), at: 1)
            let result = try await client.deleteMessageBatch(queueURL: queue, entries: entries)
            #expect(Set(result.successful) == ["0", "1", "2"])
            #expect(result.failed.count == 1)
            #expect(result.failed.first?.id == "garbage")
            #expect(result.failed.first?.code == "ReceiptHandleIsInvalid")
            #expect(result.failed.first?.senderFault == true)
        }
    }

    @Test(arguments: [SQSWireProtocol.json, .query])
    func queueLifecycleAttributesAndErrors(_ wireProtocol: SQSWireProtocol) async throws {
        let client = try SQSTestClient.make(wireProtocol)
        defer { client.shutdown() }
        let name = TestServices.uniqueName("sqs_attrs")
        let queue = try await client.createQueue(name: name, attributes: ["VisibilityTimeout": "45"])
        #expect(try await client.getQueueURL(name: name) == queue)
        _ = try await client.sendMessageBatch(queueURL: queue, entries: (0..<4).map { SQSSendEntry(id: "\($0)", body: "b\($0)") })
        let attributes = try await client.getQueueAttributes(queueURL: queue, names: ["ApproximateNumberOfMessages", "VisibilityTimeout"])
        #expect(attributes["VisibilityTimeout"] == "45")
        #expect(attributes["ApproximateNumberOfMessages"] == "4")
        try await client.purgeQueue(queueURL: queue)
        #expect(try await client.getQueueAttributes(queueURL: queue, names: ["ApproximateNumberOfMessages"])["ApproximateNumberOfMessages"] == "0")
        try await client.deleteQueue(queueURL: queue)

        let error = await #expect(throws: SQSError.self) { try await client.getQueueURL(name: TestServices.uniqueName("sqs_missing")) }
        #expect(error?.awsCode == "AWS.SimpleQueueService.NonExistentQueue")
        #expect(error?.httpStatus == 400)
        #expect(error?.isRetryable == false)
    }

    @Test func autoProtocolPicksAWorkingOne() async throws {
        let client = try SQSTestClient.make(.auto)
        defer { client.shutdown() }
        #expect(client.wireProtocol == .auto)
        try await SQSTestClient.withQueue(client, prefix: "sqs_auto") { queue in
            #expect(client.wireProtocol != .auto)
            _ = try await client.sendMessageBatch(queueURL: queue, entries: [SQSSendEntry(id: "0", body: "auto")])
            let deleted = try await SQSTestClient.drain(client, queueURL: queue, expected: 1, deadline: .seconds(20))
            #expect(deleted.count == 1)
        }
    }

    @Test func concurrentLongPollsShareOneClient() async throws {
        let client = try SQSTestClient.make(.json)
        defer { client.shutdown() }
        try await SQSTestClient.withQueue(client, prefix: "sqs_longpoll") { queue in
            let clock = ContinuousClock()
            let start = clock.now
            // 8 long polls at once on an empty queue; then one message arrives.
            let ids = try await withThrowingTaskGroup(of: [String].self) { group in
                for _ in 0..<8 {
                    group.addTask { try await client.receiveMessages(queueURL: queue, maxMessages: 10, waitTimeSeconds: 3).map(\.messageID) }
                }
                try await Task.sleep(for: .milliseconds(500))
                _ = try await client.sendMessageBatch(queueURL: queue, entries: [SQSSendEntry(id: "0", body: "wake")])
                var all: [String] = []
                for try await ids in group { all += ids }
                return all
            }
            let elapsed = clock.now - start
            #expect(Set(ids).count == 1)
            #expect(elapsed < .seconds(8))  // concurrent, not 8 × 3 s one after another
        }
    }

    @Test func cancellationAbortsALongPoll() async throws {
        let client = try SQSTestClient.make(.json)
        defer { client.shutdown() }
        try await SQSTestClient.withQueue(client, prefix: "sqs_cancel") { queue in
            let clock = ContinuousClock()
            let start = clock.now
            let task = Task { try await client.receiveMessages(queueURL: queue, maxMessages: 1, waitTimeSeconds: 20) }
            try await Task.sleep(for: .milliseconds(300))
            task.cancel()
            await #expect(throws: CancellationError.self) { try await task.value }
            #expect(clock.now - start < .seconds(5))
        }
    }

    @Test func shutdownFailsLaterCallsAndIsIdempotent() async throws {
        let client = try SQSTestClient.make(.json)
        client.shutdown()
        client.shutdown()
        let error = await #expect(throws: SQSError.self) { try await client.getQueueURL(name: "x") }
        #expect(error?.code == .shutdown)
    }

    @Test func unreachableEndpointIsARetryableTransportError() async throws {
        let configuration = SQSConfiguration(
            endpoint: "http://127.0.0.1:9", region: "us-east-1", wireProtocol: .json,
            credentials: StaticCredentialsProvider(AWSCredentials(accessKeyID: "test", secretAccessKey: "test")),
            connectTimeout: .seconds(1), maxAttempts: 2, retryBaseDelay: .milliseconds(10))
        let client = try SQSClient(configuration: configuration, logger: .init(label: "test"))
        defer { client.shutdown() }
        let error = await #expect(throws: SQSError.self) { try await client.getQueueURL(name: "x") }
        #expect(error?.code == .transport)
        #expect(error?.isRetryable == true)
    }
}
