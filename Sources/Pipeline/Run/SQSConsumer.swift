import CoreMetrics
public import Logging
import Postgres
public import ServiceLifecycle
public import SQS
import Synchronization

/// `etl run`: receive loops (`receive_loops` always, up to `max_receive_loops` while receives
/// come back full: see ``ReceiveConcurrency``) feed a bounded buffer; one batch loop commits
/// batches formed by count and time, then deletes exactly what was committed; an extender
/// keeps the visibility of long-held messages; a watcher follows key rotations. Graceful shutdown stops receiving,
/// finishes what is held (commit, delete) and returns.
///
/// The loops wait on one ``ChangeSignal`` (messages added or finished, room in the budget, a
/// stop, keys loaded, a receive loop idle or ended), never by polling; they sleep only for
/// time itself: a batch's maximum wait, retry backoff, the key poll, visibility extension.
public final class SQSConsumer: Service, Sendable {
    private let configuration: ConsumerConfiguration
    private let sqs: SQSClient
    private let writer: BatchWriter
    private let watcher: ActiveKeysWatcher
    private let health: HealthState
    private let logger: Logger
    private let buffer: MessageBuffer
    /// Announces every change a loop may be waiting for (the buffer's own included).
    private let changes = ChangeSignal()
    private let stopping = Atomic<Bool>(false)
    private let activeReceivers = Atomic<Int>(0)
    private let concurrency: ReceiveConcurrency
    private let idleLoops: Mutex<[Bool]>
    private let totals = Mutex(RunSummary())
    /// Why `--drain` must stop: the keys cannot be used (thrown by ``run()``).
    private let fatal = Mutex<(any Error & Sendable)?>(nil)

    public init(
        configuration: ConsumerConfiguration,
        sqs: SQSClient,
        writer: BatchWriter,
        watcher: ActiveKeysWatcher,
        health: HealthState,
        logger: Logger
    ) {
        self.configuration = configuration
        self.sqs = sqs
        self.writer = writer
        self.watcher = watcher
        self.health = health
        self.logger = logger
        self.buffer = MessageBuffer(
            maxInFlight: configuration.maxInFlight, maxInFlightBytes: configuration.maxInFlightBytes, changes: changes
        )
        self.idleLoops = Mutex(Array(repeating: false, count: configuration.receiveLoops))
        self.concurrency = ReceiveConcurrency(minimum: configuration.receiveLoops, maximum: configuration.maxReceiveLoops)
    }

    /// What the run did so far.
    public var summary: RunSummary {
        var done = totals.withLock { $0 }
        done.peakReceiveLoops = concurrency.peak
        return done
    }

    /// Asks the consumer to stop receiving and finish what it holds.
    public func requestStop() {
        stopping.store(true, ordering: .relaxed)
        changes.notify()
    }

    public func run() async throws {
        try await withGracefulShutdownHandler {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { await self.watchKeys() }
                group.addTask { await self.extendVisibility() }
                group.addTask { await self.superviseReceivers() }
                try await self.batchLoop()
                group.cancelAll()
            }
        } onGracefulShutdown: {
            self.health.setStopping()
            self.logger.notice("shutdown requested: finishing messages in flight")
            self.requestStop()
        }
        if let failure = fatal.withLock({ $0 }) { throw failure }
        let done = summary
        logger.notice("consumer stopped", metadata: [
            LogKey.received: "\(done.received)", LogKey.inserted: "\(done.outcome.inserted)",
            LogKey.duplicates: "\(done.outcome.duplicates)", LogKey.quarantined: "\(done.outcome.quarantined)",
            LogKey.deleted: "\(done.deleted)", LogKey.deleteFailures: "\(done.deleteFailures)",
            LogKey.peakReceiveLoops: "\(done.peakReceiveLoops)",
        ])
    }

    private var isStopping: Bool { stopping.load(ordering: .relaxed) }

    /// Refreshes the active keys and announces it (receives and batches wait for keys).
    private func refreshKeys() async throws {
        defer { changes.notify() }
        try await watcher.refresh()
    }

    // MARK: receiving

    /// Runs the `receive_loops` base loops, and one more loop each time a receive asks for it
    /// (see ``ReceiveConcurrency``).
    private func superviseReceivers() async {
        let (requests, more) = AsyncStream<Void>.makeStream()
        await withTaskGroup(of: Void.self) { group in
            for loop in 0..<concurrency.minimum {
                concurrency.startBase()
                group.addTask { await self.receiveLoop(loop, more: more) }
            }
            PipelineMetrics.receiveLoops.record(concurrency.running)
            for await _ in requests {
                group.addTask { await self.receiveLoop(nil, more: more) }
            }
        }
    }

    /// One receive loop: base loops (`index` set) run until shutdown; an added loop (`index`
    /// nil) ends when a receive brings less than half a batch, fails, or finds no room in the
    /// in-flight budget. A full receive asks for one more loop.
    private func receiveLoop(_ index: Int?, more: AsyncStream<Void>.Continuation) async {
        activeReceivers.add(1, ordering: .relaxed)
        defer {
            activeReceivers.subtract(1, ordering: .relaxed)
            concurrency.stopped()
            PipelineMetrics.receiveLoops.record(concurrency.running)
            changes.notify()
        }
        var backoff = Backoff()
        let batch = configuration.receiveBatch
        while !isStopping && !Task.isCancelled {
            let seen = changes.generation
            guard watcher.keys != nil else {
                if index == nil { return }
                await changes.wait(after: seen)  // keys loaded, or a stop
                continue
            }
            guard buffer.reserve(batch) else {
                if index == nil { return }
                await changes.wait(after: seen)  // messages finished or released, or a stop
                continue
            }
            do {
                let messages = try await sqs.receiveMessages(
                    queueURL: configuration.queueURL,
                    maxMessages: batch,
                    waitTimeSeconds: configuration.waitTimeSeconds,
                    visibilityTimeout: configuration.visibilityTimeout
                )
                buffer.add(messages, reserved: batch)
                health.setQueue(true)
                backoff.reset()
                if let index {
                    let changed = idleLoops.withLock { idle in
                        defer { idle[index] = messages.isEmpty }
                        return idle[index] != messages.isEmpty
                    }
                    if changed { changes.notify() }
                }
                logger.trace("received", metadata: [LogKey.messages: "\(messages.count)", LogKey.loop: "\(index.map(String.init) ?? "added")"])
                if !messages.isEmpty {
                    PipelineMetrics.received.increment(by: messages.count)
                    totals.withLock { $0.received += messages.count }
                }
                if messages.count == batch, !isStopping, concurrency.claimExtra() {
                    PipelineMetrics.receiveLoops.record(concurrency.running)
                    more.yield()
                } else if index == nil, messages.count * 2 < batch {
                    return
                }
            } catch {
                buffer.release(batch)
                if Task.isCancelled || index == nil { return }
                health.setQueue(false)
                let delay = backoff.next()
                logger.warning("receive failed; retrying", metadata: [
                    LogKey.error: "\(error)", LogKey.retryInMs: "\(delay.milliseconds)",
                ])
                try? await Task.sleep(for: delay)
            }
        }
    }

    // MARK: batches

    /// Batches are committed one at a time; the deletes of a committed batch run while the
    /// next batch is formed and committed (at most `maxPendingDeletes` batches' worth), so
    /// messages are not held in flight for a delete round trip they do not need. A batch's
    /// messages stay held (and extended) until their deletes finish, so the loop returns
    /// only once every delete is done.
    private func batchLoop() async throws {
        let maxPendingDeletes = 4
        try await withThrowingTaskGroup(of: Void.self) { deletes in
            var pendingDeletes = 0
            var lastDrainCheck = ContinuousClock.now - .seconds(10)
            while true {
                let seen = changes.generation
                let idle = idleLoops.withLock { $0.allSatisfy { $0 } }
                let flush = isStopping || idle
                guard let batch = buffer.takeBatch(max: configuration.batchSize, maxWait: configuration.batchMaxWait, flush: flush) else {
                    if buffer.heldCount == 0 { health.idle() }
                    // Stop once no receive can still bring messages and all held ones are done.
                    if isStopping && activeReceivers.load(ordering: .relaxed) == 0 && buffer.heldCount == 0 { break }
                    // Wake for a change, or when the waiting messages are old enough for a batch.
                    var deadline = buffer.batchDeadline(maxWait: configuration.batchMaxWait)
                    if configuration.drain && !isStopping && idle && buffer.heldCount == 0 {
                        let nextDrainCheck = lastDrainCheck + Self.drainCheckInterval
                        if ContinuousClock.now >= nextDrainCheck {
                            lastDrainCheck = ContinuousClock.now
                            if await queueIsEmpty() {
                                logger.info("queue drained")
                                requestStop()
                            }
                            continue
                        }
                        deadline = min(deadline ?? nextDrainCheck, nextDrainCheck)
                    }
                    await changes.wait(after: seen, deadline: deadline)
                    try Task.checkCancellation()
                    continue
                }
                guard let committed = await process(batch) else { continue }
                if pendingDeletes >= maxPendingDeletes {
                    try await deletes.next()
                    pendingDeletes -= 1
                }
                pendingDeletes += 1
                deletes.addTask { await self.delete(committed) }
            }
        }
    }

    /// Whether the queue holds nothing, visible or in flight anywhere.
    private func queueIsEmpty() async -> Bool {
        do {
            let attributes = try await sqs.getQueueAttributes(
                queueURL: configuration.queueURL,
                names: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
            )
            logger.debug("drain check", metadata: [
                LogKey.visible: "\(attributes["ApproximateNumberOfMessages"] ?? "?")",
                LogKey.inFlight: "\(attributes["ApproximateNumberOfMessagesNotVisible"] ?? "?")",
            ])
            return attributes["ApproximateNumberOfMessages"] == "0"
                && attributes["ApproximateNumberOfMessagesNotVisible"] == "0"
        } catch {
            logger.debug("drain check failed", metadata: [LogKey.error: "\(error)"])
            return false
        }
    }

    /// Commits the batch (retrying while the database is unreachable) and returns its
    /// messages for deletion, or nil when they were left for redelivery (shutdown without
    /// keys or database).
    private func process(_ batch: MessageBuffer.Batch) async -> [SQSMessage]? {
        let messages = batch.messages
        let incoming = messages.map(Self.incoming)
        let start = ContinuousClock.now
        var backoff = Backoff()
        var attemptsWhileStopping = 0
        health.workPending()
        defer { health.progressed() }
        while true {
            let seen = changes.generation
            guard let keys = watcher.keys else {
                // Not ready: hold the messages (their visibility is extended) until keys load;
                // at shutdown (or cancelled), leave them undeleted: SQS redelivers them.
                if isStopping || Task.isCancelled {
                    buffer.finish(messages.map(\.receiptHandle))
                    return nil
                }
                await changes.wait(after: seen)  // keys loaded, or a stop
                continue
            }
            do {
                let outcome = try await writer.writeIsolatingPoison(incoming, keys: keys)
                let end = ContinuousClock.now
                health.setDatabase(true)
                PipelineMetrics.record(outcome)
                PipelineMetrics.recordAges(incoming)
                PipelineMetrics.batchLatency.recordNanoseconds((end - start).nanoseconds)
                totals.withLock { $0.outcome.add(outcome) }
                logger.debug("batch committed", metadata: [
                    LogKey.messages: "\(messages.count)", LogKey.inserted: "\(outcome.inserted)",
                    LogKey.duplicates: "\(outcome.duplicates)", LogKey.quarantined: "\(outcome.quarantined)",
                    LogKey.waitedMs: "\((start - batch.oldestReceivedAt).milliseconds)", LogKey.commitMs: "\((end - start).milliseconds)",
                ])
                return messages
            } catch let error as PipelineError where error.code == .keysChanged {
                // A token-key rotation committed meanwhile: nothing was written. Tokenize
                // the batch again once the new key is loaded.
                logger.notice("active token key changed; re-tokenizing the batch with the new key")
                do {
                    try await refreshKeys()
                } catch {
                    try? await Task.sleep(for: .milliseconds(250))
                }
            } catch {
                health.setDatabase(false)
                await writer.reset()
                if isStopping {
                    attemptsWhileStopping += 1
                    if attemptsWhileStopping > 10 {
                        logger.error("giving up on a batch at shutdown: its messages will be redelivered", metadata: [
                            LogKey.messages: "\(messages.count)", LogKey.error: "\(error)",
                        ])
                        buffer.finish(messages.map(\.receiptHandle))
                        return nil
                    }
                }
                // Not the messages' fault (data errors were quarantined by the writer):
                // nothing is quarantined or deleted; the batch is retried on a new connection.
                let errorClass = PipelineMetrics.recordDatabaseError(error) ?? "other"
                let delay = backoff.next()
                logger.warning("database write failed; retrying", metadata: [
                    LogKey.error: "\(error)", LogKey.errorClass: "\(errorClass)", LogKey.messages: "\(messages.count)",
                    LogKey.retryInMs: "\(delay.milliseconds)",
                ])
                try? await Task.sleep(for: delay)
            }
        }
    }

    /// Deletes committed messages (DeleteMessageBatch, ten at a time, concurrently), then
    /// forgets them.
    private func delete(_ messages: [SQSMessage]) async {
        let start = ContinuousClock.now
        let chunks = stride(from: 0, to: messages.count, by: 10).map { Array(messages[$0..<min($0 + 10, messages.count)]) }
        await withTaskGroup(of: (deleted: Int, failed: Int).self) { group in
            for chunk in chunks {
                group.addTask {
                    var entries = chunk.enumerated().map { SQSReceiptEntry(id: "\($0.offset)", receiptHandle: $0.element.receiptHandle) }
                    do {
                        // Entries that failed on SQS's side (SenderFault=false, throttling) are
                        // retried a few times with backoff: a redelivery would hold the message
                        // a whole visibility timeout and process it twice.
                        var deleted = 0
                        var backoff = Backoff(base: .milliseconds(100), cap: .seconds(2))
                        for attempt in 1...Self.deleteAttempts {
                            let result = try await self.sqs.deleteMessageBatch(queueURL: self.configuration.queueURL, entries: entries)
                            deleted += result.successful.count
                            let retryable = result.failed.filter(Self.isRetryable)
                            if !retryable.isEmpty && attempt < Self.deleteAttempts {
                                PipelineMetrics.deleteRetries.increment(by: retryable.count)
                                let ids = Set(retryable.map(\.id))
                                entries = entries.filter { ids.contains($0.id) }
                                self.logger.info("delete failed on SQS's side; retrying", metadata: [
                                    LogKey.messages: "\(retryable.count)", LogKey.awsCode: "\(retryable[0].code)", LogKey.attempt: "\(attempt)",
                                ])
                                for failure in result.failed where !Self.isRetryable(failure) {
                                    self.logDeleteFailure(failure, chunk: chunk)
                                }
                                try await Task.sleep(for: backoff.next())
                                continue
                            }
                            for failure in result.failed {
                                self.logDeleteFailure(failure, chunk: chunk)
                            }
                            return (deleted, chunk.count - deleted)
                        }
                        return (deleted, chunk.count - deleted)
                    } catch {
                        self.logger.warning("delete batch failed; its messages will be redelivered and deduplicated", metadata: [
                            LogKey.messages: "\(chunk.count)", LogKey.error: "\(error)",
                        ])
                        return (0, chunk.count)
                    }
                }
            }
            for await (deleted, failed) in group {
                PipelineMetrics.deleted.increment(by: deleted)
                PipelineMetrics.deleteFailures.increment(by: failed)
                totals.withLock {
                    $0.deleted += deleted
                    $0.deleteFailures += failed
                }
            }
        }
        buffer.finish(messages.map(\.receiptHandle))
        logger.debug("batch deleted", metadata: [LogKey.messages: "\(messages.count)", LogKey.deleteMs: "\((ContinuousClock.now - start).milliseconds)"])
    }

    /// How often an idle `--drain` run asks whether the queue is empty.
    static let drainCheckInterval = Duration.milliseconds(500)

    /// ChangeMessageVisibilityBatch requests in flight at once.
    static let extendConcurrency = 16

    /// Attempts of DeleteMessageBatch per chunk, the first included.
    static let deleteAttempts = 4

    /// Whether a failed delete entry may succeed if sent again: a fault on SQS's side or throttling.
    static func isRetryable(_ failure: SQSBatchFailure) -> Bool {
        !failure.senderFault || ["ThrottlingException", "RequestThrottled", "Throttling", "ServiceUnavailable"].contains(failure.code)
    }

    private func logDeleteFailure(_ failure: SQSBatchFailure, chunk: [SQSMessage]) {
        let id = BatchEntryIDs.message(forID: failure.id, in: chunk)?.messageID ?? "unknown"
        logger.warning("delete failed for a committed message; it will be redelivered and deduplicated", metadata: [
            LogKey.messageId: "\(id)", LogKey.awsCode: "\(failure.code)",
        ])
    }

    /// The pipeline's view of a received message.
    public static func incoming(_ message: SQSMessage) -> IncomingMessage {
        IncomingMessage(
            messageID: message.messageID,
            body: Array(message.body.utf8),
            sentTimestampMilliseconds: message.sentTimestamp,
            receiveCount: message.approximateReceiveCount,
            quarantineReason: message.md5Mismatch ? "body does not match its MD5OfBody (corrupted in transit)" : nil
        )
    }

    // MARK: background duties

    private func extendVisibility() async {
        let half = Duration.seconds(configuration.visibilityTimeout) / 2
        while !Task.isCancelled {
            try? await Task.sleep(for: .milliseconds(500))
            let due = buffer.dueForExtension(olderThan: half)
            guard !due.isEmpty else { continue }
            // Ten per request, up to `extendConcurrency` requests at once: a round trip of
            // 20 ms must not make extending a large backlog take longer than its timeout.
            let chunks = stride(from: 0, to: due.count, by: 10).map { due[$0..<min($0 + 10, due.count)] }
            await withTaskGroup(of: Void.self) { group in
                for (number, chunk) in chunks.enumerated() {
                    if number >= Self.extendConcurrency { await group.next() }
                    group.addTask {
                        let entries = chunk.enumerated().map {
                            SQSVisibilityEntry(id: "\($0.offset)", receiptHandle: $0.element.receiptHandle, visibilityTimeout: self.configuration.visibilityTimeout)
                        }
                        do {
                            let result = try await self.sqs.changeMessageVisibilityBatch(queueURL: self.configuration.queueURL, entries: entries)
                            PipelineMetrics.visibilityExtended.increment(by: result.successful.count)
                        } catch {
                            self.logger.warning("visibility extension failed", metadata: [LogKey.messages: "\(entries.count)", LogKey.error: "\(error)"])
                        }
                    }
                }
            }
            logger.debug("visibility extended", metadata: [LogKey.messages: "\(due.count)"])
        }
    }

    private func watchKeys() async {
        var lastError: String?
        var lastLogged = ContinuousClock.now
        while !Task.isCancelled {
            do {
                try await refreshKeys()
                health.setDatabase(true)
                if lastError != nil { logger.notice("active keys available again") }
                lastError = nil
            } catch {
                let text = "\(error)"
                PipelineMetrics.recordDatabaseError(error)
                if (error as? PostgresError)?.failureClass == .connection {
                    health.setDatabase(false)
                    await writer.reset()
                }
                if configuration.drain && !(error is PostgresError), let failure = error as? any Error & Sendable {
                    // A one-shot run cannot wait for an operator: it exits (77 for key files).
                    fatal.withLock { $0 = failure }
                    requestStop()
                    return
                }
                // Not ready meanwhile; said again every 30 s so it is not missed.
                if text != lastError || ContinuousClock.now - lastLogged > .seconds(30) {
                    logger.error("cannot load the active keys; not consuming", metadata: [LogKey.error: "\(text)"])
                    lastLogged = ContinuousClock.now
                }
                lastError = text
            }
            try? await Task.sleep(for: watcher.keys == nil ? .seconds(1) : configuration.activePoll)
        }
    }
}

extension Duration {
    var nanoseconds: Int64 {
        components.seconds * 1_000_000_000 + components.attoseconds / 1_000_000_000
    }

    var milliseconds: Int64 { nanoseconds / 1_000_000 }
}
