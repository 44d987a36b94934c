import Logging

extension SQSClient {
    /// Receives up to `maxMessages` (1–10) messages, long-polling up to `waitTimeSeconds` (0–20).
    ///
    /// Each message carries its `SentTimestamp` and `ApproximateReceiveCount`. A body whose MD5
    /// does not match `MD5OfBody` is still returned, with `md5Mismatch` set, and logged by id.
    public func receiveMessages(queueURL: String, maxMessages: Int, waitTimeSeconds: Int, visibilityTimeout: Int? = nil) async throws -> [SQSMessage] {
        guard (1...10).contains(maxMessages), (0...20).contains(waitTimeSeconds) else {
            throw SQSError(code: .invalidRequest, isRetryable: false, operation: "ReceiveMessage",
                           reason: "maxMessages must be 1...10 and waitTimeSeconds 0...20")
        }
        let messages = try await perform(SQSOperations.receiveMessage(
            queueURL: queueURL, maxMessages: maxMessages, waitTimeSeconds: waitTimeSeconds, visibilityTimeout: visibilityTimeout))
        for message in messages where message.md5Mismatch {
            logger.warning("SQS message body does not match its MD5", metadata: [
                "operation": "ReceiveMessage", LogKey.messageId: "\(message.messageID)",
            ])
        }
        return messages
    }

    /// Deletes up to 10 received messages; the result says which entries failed (each entry
    /// exactly once, whatever the response says).
    public func deleteMessageBatch(queueURL: String, entries: [SQSReceiptEntry]) async throws -> SQSBatchResult {
        guard !entries.isEmpty else { return SQSBatchResult() }
        try checkBatch("DeleteMessageBatch", entries.count)
        let result = try await perform(SQSOperations.deleteMessageBatch(queueURL: queueURL, entries: entries))
        return reconcile(result, "DeleteMessageBatch", entries.map(\.id))
    }

    /// Changes the visibility timeout of up to 10 received messages.
    public func changeMessageVisibilityBatch(queueURL: String, entries: [SQSVisibilityEntry]) async throws -> SQSBatchResult {
        guard !entries.isEmpty else { return SQSBatchResult() }
        try checkBatch("ChangeMessageVisibilityBatch", entries.count)
        let result = try await perform(SQSOperations.changeMessageVisibilityBatch(queueURL: queueURL, entries: entries))
        return reconcile(result, "ChangeMessageVisibilityBatch", entries.map(\.id))
    }

    /// Sends up to 10 messages.
    public func sendMessageBatch(queueURL: String, entries: [SQSSendEntry]) async throws -> SQSBatchResult {
        guard !entries.isEmpty else { return SQSBatchResult() }
        try checkBatch("SendMessageBatch", entries.count)
        let result = try await perform(SQSOperations.sendMessageBatch(queueURL: queueURL, entries: entries))
        return reconcile(result, "SendMessageBatch", entries.map(\.id))
    }

    /// The URL of the queue called `name`.
    public func getQueueURL(name: String) async throws -> String {
        try await perform(SQSOperations.getQueueURL(name: name))
    }

    /// Creates the queue (or returns the existing one with the same attributes); its URL.
    public func createQueue(name: String, attributes: [String: String] = [:]) async throws -> String {
        try await perform(SQSOperations.createQueue(name: name, attributes: attributes))
    }

    /// Queue attributes by name, e.g. `ApproximateNumberOfMessages`, `VisibilityTimeout`.
    public func getQueueAttributes(queueURL: String, names: [String]) async throws -> [String: String] {
        try await perform(SQSOperations.getQueueAttributes(queueURL: queueURL, names: names))
    }

    /// Deletes every message in the queue.
    public func purgeQueue(queueURL: String) async throws {
        try await perform(SQSOperation<Void>.queueOnly("PurgeQueue", queueURL: queueURL))
    }

    /// Deletes the queue.
    public func deleteQueue(queueURL: String) async throws {
        try await perform(SQSOperation<Void>.queueOnly("DeleteQueue", queueURL: queueURL))
    }

    /// The result checked against the request's entry ids (see `SQSBatchResult.reconciled`);
    /// a mismatch is logged by count only.
    private func reconcile(_ result: SQSBatchResult, _ operation: String, _ ids: [String]) -> SQSBatchResult {
        let reconciled = result.reconciled(with: ids)
        if reconciled.anomalies > 0 {
            logger.warning("SQS batch response does not match its request; unknown entries ignored, unreported ones counted as failed", metadata: [
                LogKey.operation: "\(operation)", LogKey.anomalies: "\(reconciled.anomalies)", LogKey.entries: "\(ids.count)",
            ])
        }
        return reconciled
    }

    private func checkBatch(_ operation: String, _ count: Int) throws {
        guard count <= 10 else {
            throw SQSError(code: .invalidRequest, isRetryable: false, operation: operation, reason: "at most 10 entries per batch")
        }
    }
}
