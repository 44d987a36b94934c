import Foundation
import Logging
import SQS
import TestSupport

/// Clients and queues for the integration suites, against `AWS_ENDPOINT_URL(_SQS)`.
enum SQSTestClient {
    static func make(_ wireProtocol: SQSWireProtocol, maxAttempts: Int = 5) throws -> SQSClient {
        let endpoint = try TestServices.requireSQSEndpoint()
        var configuration = SQSConfiguration.fromEnvironment(endpoint: endpoint, wireProtocol: wireProtocol)
        configuration.maxAttempts = maxAttempts
        var logger = Logger(label: "fetchde.sqs.tests")
        logger.logLevel = .notice
        return try SQSClient(configuration: configuration, logger: logger)
    }

    /// Runs `body` with a fresh queue, deleted afterwards.
    static func withQueue<T>(
        _ client: SQSClient, prefix: String, attributes: [String: String] = [:],
        _ body: (String) async throws -> T
    ) async throws -> T {
        let url = try await client.createQueue(name: TestServices.uniqueName(prefix), attributes: attributes)
        do {
            let result = try await body(url)
            try? await client.deleteQueue(queueURL: url)
            return result
        } catch {
            try? await client.deleteQueue(queueURL: url)
            throw error
        }
    }

    /// Receives and deletes until `expected` distinct ids were deleted (or `deadline` passes).
    static func drain(_ client: SQSClient, queueURL: String, expected: Int, deadline: Duration = .seconds(120)) async throws -> Set<String> {
        var deleted = Set<String>()
        let clock = ContinuousClock()
        let end = clock.now + deadline
        while deleted.count < expected, clock.now < end {
            let messages = try await client.receiveMessages(queueURL: queueURL, maxMessages: 10, waitTimeSeconds: 1)
            guard !messages.isEmpty else { continue }
            let entries = messages.enumerated().map { SQSReceiptEntry(id: String($0.offset), receiptHandle: $0.element.receiptHandle) }
            let result = try await client.deleteMessageBatch(queueURL: queueURL, entries: entries)
            for id in result.successful { deleted.insert(messages[Int(id)!].messageID) }
        }
        return deleted
    }
}
