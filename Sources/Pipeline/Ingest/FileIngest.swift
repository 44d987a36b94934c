#if canImport(Glibc)
import CoreMetrics
import Glibc
#endif
import Foundation
public import Logging
import SQS
import PIICrypto
import Postgres

/// `etl ingest FILE|-`: the same pipeline from JSONL, for backfills. Each non-blank line is
/// one message; its idempotency key is derived from the line's number and content, so
/// re-running the same file inserts nothing twice. `create_date` is the ingest date.
///
/// The active keys are loaded at start and again whenever a commit finds that a token-key
/// rotation happened meanwhile (the batch is then tokenized again with the new key).
public struct FileIngest: Sendable {
    public let writer: BatchWriter
    public let loader: ActiveKeysLoader
    public let batchSize: Int
    public let logger: Logger
    /// How long a batch the database refuses (not as data) is retried before giving up.
    public let retryBudget: Duration

    public init(writer: BatchWriter, loader: ActiveKeysLoader, batchSize: Int, retryBudget: Duration = .seconds(60), logger: Logger) {
        self.writer = writer
        self.loader = loader
        self.batchSize = batchSize
        self.retryBudget = retryBudget
        self.logger = logger
    }

    /// The idempotency key of line `number` with `bytes`.
    public static func messageID(line number: Int, bytes: some Collection<UInt8>) -> String {
        var input = Array("\(number)\n".utf8)
        input.append(contentsOf: bytes)
        return "file:" + lowercaseHex(SHA256.hash(input).prefix(20))
    }

    /// Ingests `path` (`-` for standard input); `progress` is called after each batch.
    public func run(path: String, progress: (RunSummary) -> Void = { _ in }) async throws -> RunSummary {
        let descriptor: Int32
        if path == "-" {
            descriptor = STDIN_FILENO
        } else {
            descriptor = open(path, O_RDONLY)
            guard descriptor >= 0 else {
                throw PipelineError(.input, "cannot open \(path): \(String(cString: strerror(errno)))")
            }
        }
        defer { if descriptor != STDIN_FILENO { close(descriptor) } }
        var keys = try await loader.loadActive(using: writer)
        var reader = LineReader(descriptor: descriptor)
        var summary = RunSummary()
        var batch: [IncomingMessage] = []
        batch.reserveCapacity(batchSize)
        // Batch N+1 is read and transformed while batch N commits.
        var inFlight: (messages: [IncomingMessage], commit: Task<BatchOutcome, any Error>)?
        func finishInFlight() async throws {
            guard let (messages, commit) = inFlight else { return }
            inFlight = nil
            var outcome: BatchOutcome?
            var failure: (any Error)?
            do {
                outcome = try await commit.value
            } catch {
                failure = error
            }
            // Rejected as a whole: again, message by message when the database rejected data
            // (quarantining what fails). After a token-key rotation: first reload the keys
            // (tokens of the old key are never committed once the rotation is). Any other
            // refusal is retried with backoff on a new connection until the retry budget is
            // spent, then thrown: nothing is quarantined for it.
            var backoff = Backoff()
            var refusedSince: ContinuousClock.Instant?
            while outcome == nil {
                if (failure as? PipelineError)?.code == .keysChanged {
                    keys = try await loader.loadActive(using: writer)
                    logger.notice("active token key changed; continuing with the new key", metadata: [
                        LogKey.tokenKeyVersion: "\(keys.tokenKeyVersion)",
                    ])
                } else if let refusal = failure as? PostgresError, refusal.failureClass != .data {
                    let since = refusedSince ?? ContinuousClock.now
                    refusedSince = since
                    let errorClass = PipelineMetrics.recordDatabaseError(refusal) ?? "other"
                    await writer.reset()
                    guard ContinuousClock.now - since < retryBudget else {
                        throw PipelineError(
                            .databaseRefused,
                            "the database refused a batch for \((ContinuousClock.now - since).components.seconds) s (\(refusal)); nothing was quarantined for it, \(summary.received) lines were ingested before it: re-run to continue"
                        )
                    }
                    let delay = backoff.next()
                    logger.warning("database write failed; retrying", metadata: [
                        LogKey.error: "\(refusal)", LogKey.errorClass: "\(errorClass)", LogKey.messages: "\(messages.count)",
                        LogKey.retryInMs: "\(delay.milliseconds)",
                    ])
                    try await Task.sleep(for: min(delay, max(.milliseconds(1), retryBudget - (ContinuousClock.now - since))))
                }
                do {
                    outcome = try await writer.writeIsolatingPoison(messages, keys: keys)
                } catch let error as PipelineError where error.code == .keysChanged {
                    failure = error
                } catch let error as PostgresError where error.failureClass != .data {
                    failure = error
                }
            }
            guard let outcome else { return }
            PipelineMetrics.received.increment(by: messages.count)
            PipelineMetrics.record(outcome)
            summary.received += messages.count
            summary.outcome.add(outcome)
            progress(summary)
        }
        func submit() async throws {
            let messages = batch
            batch.removeAll(keepingCapacity: true)
            // A refused prepare (it may create a DEK) is retried like a refused commit.
            let prepared: Result<PreparedBatch, any Error>
            do {
                prepared = .success(try await writer.prepare(messages, keys: keys))
            } catch let error as PostgresError where error.failureClass != .data {
                prepared = .failure(error)
            }
            try await finishInFlight()
            let writer = self.writer
            inFlight = (messages, Task { try await writer.commit(try prepared.get()) })
        }
        while let (number, bytes) = try reader.next() {
            batch.append(IncomingMessage(messageID: Self.messageID(line: number, bytes: bytes), body: Array(bytes)))
            if batch.count == batchSize { try await submit() }
        }
        if !batch.isEmpty { try await submit() }
        try await finishInFlight()
        return summary
    }
}
