/// One message as the pipeline sees it, from SQS or from a JSONL line.
public struct IncomingMessage: Sendable {
    /// The largest body SQS delivers (256 KiB). A larger body is quarantined unparsed.
    public static let maxBodyBytes = 262_144

    /// The idempotency key: the SQS MessageId, or a stable id derived from a file line.
    public var messageID: String
    /// The raw body (never logged; encrypted if quarantined).
    public var body: [UInt8]
    /// SQS `SentTimestamp` in milliseconds since the epoch (nil for file ingest).
    public var sentTimestampMilliseconds: Int64?
    /// SQS `ApproximateReceiveCount`.
    public var receiveCount: Int?
    /// Set when the message must be quarantined whatever its body says: its MD5 did not
    /// match, or the database rejected it on its own.
    public var quarantineReason: String?

    public init(
        messageID: String,
        body: [UInt8],
        sentTimestampMilliseconds: Int64? = nil,
        receiveCount: Int? = nil,
        quarantineReason: String? = nil
    ) {
        self.messageID = messageID
        self.body = body
        self.sentTimestampMilliseconds = sentTimestampMilliseconds
        self.receiveCount = receiveCount
        self.quarantineReason = quarantineReason
    }
}
