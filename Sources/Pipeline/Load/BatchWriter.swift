import CoreMetrics
import Foundation
public import Logging
import PIICrypto
public import Postgres
import Schema
import Synchronization

/// Writes batches to PostgreSQL: one transaction per batch with the logins (idempotent on
/// MessageId), the new vault entries and the quarantined messages. Owns its connection, the
/// process's current DEK and the cache of values already stored.
///
/// Callers use it from one task at a time (the batch loop); the mutex makes that safe to
/// share across tasks anyway.
public final class BatchWriter: Sendable {
    private struct State: Sendable {
        var connection: PostgresConnection?
        var dataKey: DataKey?
        var dataKeyUses = 0
        var seen = SeenValues()
        var connectedBefore = false
    }

    private let url: String?
    /// Client-side deadline of each round trip on the writer's connection (a batch's whole
    /// transaction is one).
    public let deadline: Duration
    /// Client-side deadline of a key poll on the writer's connection.
    public let pollDeadline: Duration
    private let dekMaxEncryptions: Int
    private let logger: Logger
    private let state = Mutex(State())
    private let transformer: BatchTransformer
    /// The erasure tombstones this writer's batches have read (``SubjectErasures``).
    private let erasures = SubjectErasures()

    /// - Parameters:
    ///   - url: libpq URL (nil: `PG*` variables).
    ///   - dekMaxEncryptions: encryptions after which the DEK is replaced (SPEC §4).
    ///   - fallbackDate: `create_date` for messages without a SentTimestamp (file ingest).
    ///   - deadline: client-side deadline of a batch transaction (and every other call).
    ///   - pollDeadline: client-side deadline of a key poll.
    public init(
        url: String?, dekMaxEncryptions: Int, fallbackDate: String,
        deadline: Duration = .seconds(30), pollDeadline: Duration = .seconds(10), logger: Logger
    ) {
        self.url = url
        self.deadline = deadline
        self.pollDeadline = pollDeadline
        self.dekMaxEncryptions = dekMaxEncryptions
        self.logger = logger
        self.transformer = BatchTransformer(fallbackDate: fallbackDate)
    }

    /// Opens the connection if needed: connect, `SET ROLE etl_ingest`, staging tables.
    public func connection() async throws -> PostgresConnection {
        if let existing = state.withLock({ $0.connection }), !existing.isBroken { return existing }
        let connection = try await PostgresConnection.connect(
            url: url, applicationName: "fetchde-etl", deadline: deadline, logger: logger)
        let idleLimit = deadline.components.seconds * 1000
        try await connection.withSession { session in
            try DatabaseRole.etlIngest.assume(in: session)
            // A transaction this process abandoned (its connection frozen past the deadline)
            // must not keep its locks: the server ends such a session after the same time.
            try session.executeScript("SET idle_in_transaction_session_timeout = \(idleLimit)")
            try session.executeScript(StagingSQL.createTables)
        }
        let reconnected = state.withLock { state -> Bool in
            defer { state.connectedBefore = true }
            state.connection = connection
            return state.connectedBefore
        }
        // Read the erasure tombstones now, while the first batch is still being prepared:
        // its commit then reads only those recorded since (SubjectErasures). Best effort; the
        // commit reads them all itself if this fails.
        let erasures = self.erasures
        Task { try? await connection.withSession { session in _ = try erasures.refresh(session) } }
        if reconnected { PipelineMetrics.reconnects.increment() }
        return connection
    }

    /// Drops the connection (after a connection error) so the next call reconnects.
    public func reset() async {
        let old = state.withLock { state -> PostgresConnection? in
            defer { state.connection = nil }
            return state.connection
        }
        await old?.close()
    }

    /// Transforms and commits one batch with `keys`; returns what it did. The caller deletes
    /// the messages from the queue only after this returns.
    public func write(_ messages: [IncomingMessage], keys: ActiveKeys) async throws -> BatchOutcome {
        try await commit(try await prepare(messages, keys: keys))
    }

    /// The CPU half of `write`: validates, tokenizes and encrypts (making a DEK first when one
    /// is due). The values it encrypts count as stored from here on, so a batch prepared
    /// while the previous one commits does not encrypt them again; a failed commit forgets
    /// that (the cache is only an optimisation: ON CONFLICT keeps the vault right).
    public func prepare(_ messages: [IncomingMessage], keys: ActiveKeys) async throws -> PreparedBatch {
        let connection = try await connection()
        let dataKey = try await currentDataKey(connection: connection, keys: keys, uses: messages.count * 2)
        // Looked up under the (uncontended) lock rather than on a copy: a copy of the set that
        // is still alive at the insert below would make copy-on-write duplicate it per batch.
        let batch = try transformer.transform(messages, keys: keys, dataKey: dataKey) { key in
            state.withLock { $0.seen.contains(key) }
        }
        state.withLock { $0.seen.insert(contentsOf: batch.vaultKeys) }
        return batch
    }

    /// The database half of `write`: one transaction.
    public func commit(_ batch: PreparedBatch) async throws -> BatchOutcome {
        do {
            let connection = try await connection()
            let erasures = self.erasures
            let outcome = try await connection.withSession { session in
                try session.transaction { try Self.commit(batch, session: session, erasures: erasures) }
            }
            // Entries of dropped logins were remembered as stored at prepare: forget that.
            if outcome.erasedDropped > 0 { state.withLock { $0.seen.removeAll() } }
            return outcome
        } catch {
            state.withLock { $0.seen.removeAll() }
            throw error
        }
    }

    /// Writes the batch; if the database rejects it as data (SQLSTATE classes 22 and 23, see
    /// ``PostgresFailureClass``), writes each message alone and quarantines the ones it still
    /// rejects, so one poison message never fails the rest of its batch. Every other failure
    /// (unreachable, permission, read-only, lock or statement timeout, deadlock, …) is thrown:
    /// the content is not at fault, so nothing is quarantined and the caller retries.
    public func writeIsolatingPoison(_ messages: [IncomingMessage], keys: ActiveKeys) async throws -> BatchOutcome {
        do {
            return try await write(messages, keys: keys)
        } catch let error as PostgresError where error.failureClass == .data && messages.count > 1 {
            logger.warning("batch rejected as data; writing its messages one by one", metadata: [
                LogKey.error: "\(error)", LogKey.errorClass: "\(error.errorClassLabel)",
            ])
            var total = BatchOutcome()
            for message in messages {
                total.add(try await writeIsolatingPoison([message], keys: keys))
            }
            return total
        } catch let error as PostgresError where error.failureClass == .data {
            var poison = messages[0]
            poison.quarantineReason = "rejected by the database (SQLSTATE \(error.sqlState ?? "none"), \(error.code))"
            logger.warning("message quarantined after database rejection", metadata: [
                LogKey.messageId: "\(poison.messageID)", LogKey.errorClass: "\(error.errorClassLabel)",
            ])
            return try await write([poison], keys: keys)
        }
    }

    /// The DEK to use for the next `uses` encryptions: a new one at start, after
    /// `dekMaxEncryptions`, and when the active vault key version changed.
    private func currentDataKey(connection: PostgresConnection, keys: ActiveKeys, uses: Int) async throws -> DataKey {
        let limit = dekMaxEncryptions
        let current = state.withLock { state -> DataKey? in
            guard let key = state.dataKey, key.vaultKeyVersion == keys.vaultKeyVersion,
                  state.dataKeyUses + uses <= limit else { return nil }
            state.dataKeyUses += uses
            return key
        }
        if let current { return current }
        let fresh = try await connection.withSession { session in try DataKey.create(in: session, keys: keys) }
        state.withLock { state in
            state.dataKey = fresh
            state.dataKeyUses = uses
        }
        logger.info("data key created", metadata: [LogKey.dekId: "\(fresh.id)", LogKey.vaultKeyVersion: "\(fresh.vaultKeyVersion)"])
        PipelineMetrics.recordDataKeyCreated()
        return fresh
    }

    /// Makes `session` ready for ``commit(_:session:)``: its staging tables. For loaders that
    /// own their session (`vault quarantine replay`); the writer does it for its own.
    public static func prepare(session: PostgresSession) throws {
        try session.executeScript(StagingSQL.createTables)
    }

    /// The batch transaction's statements (inside BEGIN … COMMIT), on a session prepared by
    /// ``prepare(session:)`` that may insert into the pipeline's tables. `erasures` is the
    /// loader's cache of erasure tombstones (one per loader, kept across its batches).
    public static func commit(_ batch: PreparedBatch, session: PostgresSession, erasures: SubjectErasures) throws -> BatchOutcome {
        // Reading vault_active holds its ACCESS SHARE lock to COMMIT, and `vault rotate
        // --tokens` changes it under ACCESS EXCLUSIVE: a rotation waits for batches already
        // past this point, and every batch after it sees the new version here. So no row
        // of the old version is committed once the rotation is, and retokenize misses none.
        let active = try session.execute(StagingSQL.activeTokenKeyVersion).rows.first?[0].int
        guard active == Int64(batch.tokenKeyVersion) else {
            throw PipelineError(
                .keysChanged,
                "the active token key changed (v\(batch.tokenKeyVersion) -> v\(active.map(String.init) ?? "none")) while the batch was prepared"
            )
        }
        var outcome = BatchOutcome()
        let batch = try SubjectErasureFilter.apply(to: batch, session: session, erasures: erasures, outcome: &outcome)
        if !batch.logins.isEmpty {
            outcome.inserted = try copyWithFallback(
                session: session, savepoint: "fetchde_direct_logins", rows: batch.logins,
                direct: StagingSQL.copyLoginsDirect, stage: StagingSQL.copyLogins, insert: StagingSQL.insertLogins
            )
            outcome.duplicates = batch.logins.count - outcome.inserted
        }
        if !batch.vaultEntries.isEmpty {
            outcome.vaultEntries = try copyWithFallback(
                session: session, savepoint: "fetchde_direct_vault", rows: batch.vaultEntries,
                direct: StagingSQL.copyVaultDirect, stage: StagingSQL.copyVault, insert: StagingSQL.insertVault,
                directAllowed: try session.execute(StagingSQL.anyForgotten).rows.first?[0].bool == false
            )
        }
        if !batch.quarantined.isEmpty {
            try session.copyIn(StagingSQL.copyQuarantine) { writer in
                for row in batch.quarantined { try writer.appendRow(row) }
            }
            // Only a first quarantine counts (a redelivered one is counted as seen again).
            for row in try session.execute(StagingSQL.insertQuarantine).rows where row[1].int == 1 {
                outcome.quarantined += 1
                outcome.quarantinedByReason[QuarantineReason.label(of: row[0].string ?? ""), default: 0] += 1
            }
        }
        return outcome
    }

    /// Loads `rows`: redelivery and concurrent writers of one value are rare, so it first
    /// COPYs straight into the table under a savepoint (half the work of staging); only when
    /// that hits an existing key (23505) does it dedupe through the staging table. Returns
    /// the rows inserted.
    static func copyWithFallback(
        session: PostgresSession, savepoint: String, rows: [[PostgresValue]],
        direct: String, stage: String, insert: String, directAllowed: Bool = true
    ) throws -> Int {
        if directAllowed {
            try session.execute("SAVEPOINT \(savepoint)")
            do {
                try session.copyIn(direct) { writer in
                    for row in rows { try writer.appendRow(row) }
                }
                try session.execute("RELEASE SAVEPOINT \(savepoint)")
                return rows.count
            } catch let error as PostgresError where error.sqlState == SQLState.uniqueViolation {
                try session.execute("ROLLBACK TO SAVEPOINT \(savepoint)")
            }
        }
        try session.copyIn(stage) { writer in
            for row in rows { try writer.appendRow(row) }
        }
        return try session.execute(insert).affectedRows
    }

    /// Closes the connection.
    public func close() async {
        await reset()
    }
}
