public import Settings

/// How `etl run` consumes the queue (from `[etl]` settings; see `config/config.ini`).
public struct ConsumerConfiguration: Sendable {
    public var queueURL: String
    public var receiveBatch: Int
    /// Receive loops that always run; up to `maxReceiveLoops` while receives come back full.
    public var receiveLoops: Int
    public var maxReceiveLoops: Int
    public var waitTimeSeconds: Int
    public var visibilityTimeout: Int
    public var batchSize: Int
    public var batchMaxWait: Duration
    public var maxInFlight: Int
    /// Bytes of held messages (bodies, ids, receipt handles), reservations for receives in
    /// progress counted at the worst case; at least one full receive.
    public var maxInFlightBytes: Int
    public var activePoll: Duration
    /// Exit once the queue is empty (`etl run --drain`).
    public var drain: Bool

    public init(settings: FetchDESettings, queueURL: String, drain: Bool) {
        self.queueURL = queueURL
        receiveBatch = settings.receiveBatch
        receiveLoops = settings.receiveLoops
        maxReceiveLoops = max(settings.receiveLoops, settings.maxReceiveLoops)
        waitTimeSeconds = settings.waitTimeSeconds
        visibilityTimeout = settings.visibilityTimeout
        batchSize = settings.batchSize
        batchMaxWait = .milliseconds(settings.batchMaxWaitMilliseconds)
        maxInFlight = max(settings.maxInFlight, settings.receiveBatch * settings.receiveLoops)
        maxInFlightBytes = max(settings.maxInFlightBytes, settings.receiveBatch * MessageBuffer.worstCaseMessageBytes)
        activePoll = .seconds(settings.activePollSeconds)
        self.drain = drain
    }
}

/// Totals of a run, printed by `etl run --drain` and `etl ingest`.
public struct RunSummary: Sendable, Equatable {
    public var received = 0
    public var outcome = BatchOutcome()
    public var deleted = 0
    public var deleteFailures = 0
    /// The most receive loops that ran at once.
    public var peakReceiveLoops = 0
    public init() {}
}
