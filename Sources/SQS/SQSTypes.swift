/// One message received from SQS.
public struct SQSMessage: Sendable, Hashable {
    /// The SQS MessageId: the idempotency key downstream.
    public var messageID: String
    /// The handle that deletes this receipt (changes on every receive).
    public var receiptHandle: String
    public var body: String
    /// The MD5 of the body as SQS computed it (hex).
    public var md5OfBody: String
    /// The `SentTimestamp` system attribute: milliseconds since the Unix epoch.
    public var sentTimestamp: Int64?
    /// The `ApproximateReceiveCount` system attribute.
    public var approximateReceiveCount: Int?
    /// True when `md5OfBody` does not match the MD5 of `body`: the message is delivered
    /// anyway (never dropped) so the caller can quarantine it.
    public var md5Mismatch: Bool

    public init(
        messageID: String, receiptHandle: String, body: String, md5OfBody: String,
        sentTimestamp: Int64? = nil, approximateReceiveCount: Int? = nil, md5Mismatch: Bool = false
    ) {
        self.messageID = messageID
        self.receiptHandle = receiptHandle
        self.body = body
        self.md5OfBody = md5OfBody
        self.sentTimestamp = sentTimestamp
        self.approximateReceiveCount = approximateReceiveCount
        self.md5Mismatch = md5Mismatch
    }
}

/// One entry of a DeleteMessageBatch request.
public struct SQSReceiptEntry: Sendable, Hashable {
    /// The batch-entry id, unique within the batch (callers use index strings).
    public var id: String
    public var receiptHandle: String
    public init(id: String, receiptHandle: String) {
        self.id = id
        self.receiptHandle = receiptHandle
    }
}

/// One entry of a ChangeMessageVisibilityBatch request.
public struct SQSVisibilityEntry: Sendable, Hashable {
    public var id: String
    public var receiptHandle: String
    /// New visibility timeout in seconds, counted from now.
    public var visibilityTimeout: Int
    public init(id: String, receiptHandle: String, visibilityTimeout: Int) {
        self.id = id
        self.receiptHandle = receiptHandle
        self.visibilityTimeout = visibilityTimeout
    }
}

/// One entry of a SendMessageBatch request.
public struct SQSSendEntry: Sendable, Hashable {
    public var id: String
    public var body: String
    public var delaySeconds: Int?
    public init(id: String, body: String, delaySeconds: Int? = nil) {
        self.id = id
        self.body = body
        self.delaySeconds = delaySeconds
    }
}

/// The per-entry outcome of a batch call: SQS reports success or failure for each entry.
///
/// The client's batch calls return a result reconciled with the request: each requested id
/// appears exactly once, in `successful` or `failed`, and no other id does (see `anomalies`).
public struct SQSBatchResult: Sendable, Hashable {
    /// Ids of the entries that succeeded.
    public var successful: [String]
    public var failed: [SQSBatchFailure]
    /// How many things in the response did not match the request (an id never sent, an entry
    /// reported twice or not at all); they are ignored or counted as failures, never trusted.
    public var anomalies: Int
    public init(successful: [String] = [], failed: [SQSBatchFailure] = [], anomalies: Int = 0) {
        self.successful = successful
        self.failed = failed
        self.anomalies = anomalies
    }
}

/// One failed entry of a batch call.
public struct SQSBatchFailure: Sendable, Hashable {
    public var id: String
    /// The AWS error code (`ReceiptHandleIsInvalid`, ...).
    public var code: String
    /// True when the request was at fault (retrying the same entry will not help).
    public var senderFault: Bool
    /// AWS's own text; it never includes message bodies.
    public var message: String
    public init(id: String, code: String, senderFault: Bool, message: String) {
        self.id = id
        self.code = code
        self.senderFault = senderFault
        self.message = message
    }
}
