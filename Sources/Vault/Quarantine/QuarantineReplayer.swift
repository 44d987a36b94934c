import Foundation
import VaultFormat
import Logging
import Pipeline
import Postgres

/// What `vault quarantine replay` did.
public struct QuarantineReplayResult: Sendable, Equatable {
    /// Quarantined messages the run looked at.
    public var selected = 0
    /// Loaded into `user_logins` now (and gone from the quarantine).
    public var loaded = 0
    /// Already in `user_logins` (an `etl` stored the same message id): gone from the
    /// quarantine, nothing written twice.
    public var alreadyStored = 0
    /// Still invalid (the pipeline's validation, or the database rejecting them as data): they
    /// stay, with their new reason.
    public var stillInvalid = 0
    /// Logins of a subject erased (`vault subject forget`) after they were sent: dropped,
    /// never stored, and gone from the quarantine.
    public var erasedDropped = 0
    /// Bodies that failed authentication: they stay as they are.
    public var failed = 0
    /// One line each: unknown ids, failed bodies (never a body).
    public var problems: [String] = []
}

/// `vault quarantine replay` (SPEC §5): runs quarantined bodies through the pipeline's own
/// validation, tokenization and loader (`BatchTransformer`, `BatchWriter.commit`: the active
/// token key, originals sealed under a data key sealed to the active vault key, `create_date`
/// from the original SentTimestamp, the original message id as the idempotency key, forgotten
/// values never stored again, a token-key rotation followed). One transaction: a body that
/// loads leaves the quarantine with its row, one still invalid keeps its place with its new
/// reason, and the audit row (counts, never a body) commits with them — a killed run changed
/// nothing, a second run finds nothing more to do.
public struct QuarantineReplayer: Sendable {
    public var environment: VaultEnvironment
    /// Messages per step (a progress update and one loader call each).
    public var batchSize: Int
    /// Encryptions after which the run makes a new data key (tests lower it).
    var dataKeyEncryptions = DataKeyLimit.encryptions

    public init(environment: VaultEnvironment, batchSize: Int = 5000) {
        self.environment = environment
        self.batchSize = max(1, batchSize)
    }

    /// Replays `ids` (every quarantined message when nil). `progress(done, total)` after each step.
    public func replay(
        ids: [Int64]?, reason rawReason: String?, progress: (@Sendable (Int, Int) -> Void)? = nil
    ) async throws -> QuarantineReplayResult {
        let detail = ids.map { $0.map(String.init).joined(separator: ",") } ?? "all"
        let reason = try await VaultDatabase.requireReason(rawReason, environment, action: "quarantine-replay", detail: "\(detail)")
        let environment = self.environment
        let batchSize = self.batchSize
        let dataKeyEncryptions = self.dataKeyEncryptions
        let result = try await VaultDatabase.audited(environment, action: "quarantine-replay", reason: reason, detail: detail) { session in
            let keyring = try VaultKeyring.load(session, environment: environment)
            let loader = ActiveKeysLoader(keys: environment.keys)
            let keys = try loader.load(try loader.readVersions(session))
            try BatchWriter.prepare(session: session)
            return try session.transaction {
                var result = QuarantineReplayResult()
                var cursor = try QuarantineCursor(session, ids: ids, keyring: keyring, chunkSize: batchSize)
                var dataKey = try DataKey.create(in: session, keys: keys)
                var dataKeyUses = 0
                let transformer = BatchTransformer()
                let erasures = SubjectErasures()
                // While step N is written, step N+1 is read (the connection's next command) and
                // opened and transformed (parsed, tokenized, sealed) on another thread: the
                // CPU half and the database half overlap.
                let prepare = { (chunk: QuarantineCursor.Chunk) throws in
                    // At most two entries per message, or its body when still invalid.
                    let uses = 2 * chunk.rows.count
                    if dataKeyUses + uses > dataKeyEncryptions {
                        dataKey = try DataKey.create(in: session, keys: keys)
                        dataKeyUses = 0
                    }
                    dataKeyUses += uses
                    let stepKey = dataKey
                    return BackgroundWork { try ReplayStep(chunk.opened(), transformer: transformer, keys: keys, dataKey: stepKey) }
                }
                var found = Set<Int64>()
                var chunk = try cursor.next()
                var next = try chunk.map(prepare)
                while let work = next, let current = chunk {
                    found.formUnion(current.ids)
                    chunk = try cursor.next()
                    next = try chunk.map(prepare)
                    let step = try work.value()
                    try Self.load(step, session: session, transformer: transformer, keys: keys, erasures: erasures, into: &result)
                    result.selected += current.rows.count
                    progress?(result.selected, max(cursor.expected, result.selected))
                }
                if let ids {
                    for id in QuarantineSQL.unknown(ids, found: found) {
                        result.problems.append("no quarantined message \(id)")
                    }
                }
                try AuditLog.append(
                    session, action: "quarantine-replay", outcome: "replayed", reason: reason,
                    detail: "loaded \(result.loaded), already stored \(result.alreadyStored), erased subject \(result.erasedDropped), still invalid \(result.stillInvalid), failed \(result.failed) of \(result.selected); ids \(detail)"
                )
                return result
            }
        }
        environment.logger.debug("quarantine replay committed", metadata: [
            LogKey.selected: "\(result.selected)", LogKey.loaded: "\(result.loaded)", LogKey.stillInvalid: "\(result.stillInvalid)",
        ])
        return result
    }

    /// Loads one step: as a batch when the database takes it, else message by message (each
    /// under its own savepoint), so one body the database still rejects keeps only itself back.
    static func load(
        _ step: ReplayStep, session: PostgresSession, transformer: BatchTransformer,
        keys: ActiveKeys, erasures: SubjectErasures, into result: inout QuarantineReplayResult
    ) throws {
        for id in step.failed {
            result.failed += 1
            result.problems.append("integrity error: the body of quarantined message \(id) failed authentication; left as it is")
        }
        do {
            try session.execute("SAVEPOINT fetchde_replay_step")
            try write(step.batch, invalid: step.invalid, session: session, erasures: erasures, ids: step.ids, into: &result)
            try session.execute("RELEASE SAVEPOINT fetchde_replay_step")
        } catch let error as PostgresError where error.failureClass == .data && step.messages.count > 1 {
            try session.execute("ROLLBACK TO SAVEPOINT fetchde_replay_step")
            for message in step.messages {
                try load(message, session: session, transformer: transformer, keys: keys, dataKey: step.dataKey, erasures: erasures, ids: step.ids, into: &result)
            }
        }
    }

    private static func load(
        _ message: IncomingMessage, session: PostgresSession, transformer: BatchTransformer,
        keys: ActiveKeys, dataKey: DataKey, erasures: SubjectErasures, ids: [String: Int64], into result: inout QuarantineReplayResult
    ) throws {
        try session.execute("SAVEPOINT fetchde_replay_one")
        do {
            let (batch, invalid) = try ReplayStep.transform([message], transformer: transformer, keys: keys, dataKey: dataKey, ids: ids)
            try write(batch, invalid: invalid, session: session, erasures: erasures, ids: ids, into: &result)
            try session.execute("RELEASE SAVEPOINT fetchde_replay_one")
        } catch let error as PostgresError where error.failureClass == .data {
            try session.execute("ROLLBACK TO SAVEPOINT fetchde_replay_one")
            // The same reason the pipeline records for a message the database rejects.
            let reason = "rejected by the database (SQLSTATE \(error.sqlState ?? "none"), \(error.code))"
            try keep([(ids[message.messageID] ?? 0, reason)], session: session)
            result.stillInvalid += 1
        }
    }

    /// Writes a transformed step: the valid messages load and leave the quarantine, the
    /// invalid ones stay with the reason validation gives now.
    private static func write(
        _ batch: PreparedBatch, invalid: [(Int64, String)], session: PostgresSession,
        erasures: SubjectErasures, ids: [String: Int64], into result: inout QuarantineReplayResult
    ) throws {
        let outcome = try BatchWriter.commit(batch, session: session, erasures: erasures)
        let loaded = batch.loginMessageIDs.compactMap { ids[$0] }
        if !loaded.isEmpty {
            try session.execute(
                "DELETE FROM public.etl_quarantine WHERE quarantine_id = ANY($1::bigint[])", [.int64Array(loaded)]
            )
        }
        try keep(invalid, session: session)
        result.loaded += outcome.inserted
        result.alreadyStored += outcome.duplicates
        result.erasedDropped += outcome.erasedDropped
        result.stillInvalid += invalid.count
    }

    /// Leaves `rows` (id, reason) in the quarantine with their new reasons.
    private static func keep(_ rows: [(Int64, String)], session: PostgresSession) throws {
        for (id, reason) in rows {
            try session.execute(
                "UPDATE public.etl_quarantine SET reason = left($2, 256) WHERE quarantine_id = $1 AND reason IS DISTINCT FROM left($2, 256)",
                [.int(id), .text(reason)]
            )
        }
    }
}

/// One step of a replay, transformed: the CPU half, done off the connection's thread.
struct ReplayStep: Sendable {
    /// The messages whose bodies opened, for the message-by-message fallback.
    var messages: [IncomingMessage] = []
    /// Quarantine id by message id.
    var ids: [String: Int64] = [:]
    /// Quarantine ids of the bodies that failed authentication.
    var failed: [Int64] = []
    /// The valid messages as the pipeline's batch (no quarantine rows: the invalid ones stay).
    var batch: PreparedBatch
    /// (quarantine id, new reason) of the messages still invalid.
    var invalid: [(Int64, String)]
    /// The data key the step's entries are sealed with (also the message-by-message fallback's).
    var dataKey: DataKey

    init(_ step: [OpenedQuarantine], transformer: BatchTransformer, keys: ActiveKeys, dataKey: DataKey) throws {
        var messages: [IncomingMessage] = []
        var ids: [String: Int64] = [:]
        var failed: [Int64] = []
        for entry in step {
            guard let body = entry.body else {
                failed.append(entry.id)
                continue
            }
            ids[entry.messageID] = entry.id
            messages.append(IncomingMessage(
                messageID: entry.messageID, body: body,
                sentTimestampMilliseconds: entry.sentTimestampMilliseconds, receiveCount: entry.receiveCount
            ))
        }
        (batch, invalid) = try Self.transform(messages, transformer: transformer, keys: keys, dataKey: dataKey, ids: ids)
        self.messages = messages
        self.ids = ids
        self.failed = failed
        self.dataKey = dataKey
    }

    /// The pipeline's transform of `messages`, its quarantine rows turned into (id, reason).
    static func transform(
        _ messages: [IncomingMessage], transformer: BatchTransformer, keys: ActiveKeys, dataKey: DataKey, ids: [String: Int64]
    ) throws -> (PreparedBatch, [(Int64, String)]) {
        var batch = try transformer.transform(messages, keys: keys, dataKey: dataKey) { _ in false }
        // A quarantined row is (message_id, reason, …) as the pipeline writes it.
        let invalid = batch.quarantined.map { row -> (Int64, String) in
            guard case .text(let messageID) = row[0], case .text(let reason) = row[1] else { return (0, "invalid") }
            return (ids[messageID] ?? 0, reason)
        }
        batch.quarantined = []
        return (batch, invalid)
    }
}
