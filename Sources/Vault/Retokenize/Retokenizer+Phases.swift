import Postgres
import Synchronization

/// The two phases of a ``Retokenizer`` pass, each by rebuilding its table or in place (see
/// ``RetokenizeMethod`` and ``TableRebuild``).
extension Retokenizer {
    /// Phase 1: every entry of an older version re-tokenized and re-encrypted, `jobs` worker
    /// connections each over its share of every field's tokens.
    func convertEntries(
        _ main: PostgresConnection, context: RetokenizeContext, counts: RetokenizeTally, total: Int,
        progress: (@Sendable (RetokenizePhase, Int, Int) -> Void)?
    ) async throws {
        guard total > 0 else { return }
        let logger = environment.logger
        let method = self.method
        let rebuilding = try await main.withSession { session in
            try TableRebuild.entries.start(session, method: method, pending: total, logger: logger) {
                try session.execute(
                    "SELECT fetchde.retokenize_entries_begin($1) AS blocker", [.int(Int64(context.target))]
                ).rows.first?["blocker"].string
            }
        }
        let before = counts.withLock { $0 }
        try await runEntryWorkers(context, mode: rebuilding ? .rebuild : .inPlace, counts: counts, total: total, progress: progress)
        guard rebuilding else { return }
        let swapped = try await main.withSession { session -> Bool in
            // Values that were stored twice (or forgotten under their new token) keep one entry (or none).
            let merged = Int(try session.execute("SELECT fetchde.retokenize_entries_finish() AS n").rows.first?["n"].int ?? 0)
            guard try TableRebuild.entries.swap(session, method: method, logger: logger) != nil else { return false }
            counts.withLock {
                $0.entries -= merged
                $0.merged += merged
            }
            return true
        }
        if !swapped {
            counts.withLock { $0 = before }
            try await runEntryWorkers(context, mode: .inPlace, counts: counts, total: total, progress: progress)
        }
    }

    /// A worker connection of the run: as vault_admin, with `settings`, closed afterwards.
    static func withWorkerSession<T: Sendable>(
        _ environment: VaultEnvironment, settings: String, _ body: @Sendable (PostgresSession) throws -> T
    ) async throws -> T {
        try await VaultDatabase.withSession(environment) { session in
            try VaultDatabase.assumeVaultAdmin(session, action: "retokenize", reason: "", detail: "worker")
            // A worker of a long, resumable run waits behind a batch's locks as long as it takes
            // (the interactive commands' 10 s lock timeout would end the run for nothing).
            try session.executeScript("SET lock_timeout = 0; " + settings)
            return try body(session)
        }
    }

    private func runEntryWorkers(
        _ context: RetokenizeContext, mode: EntryWorker.Mode, counts: RetokenizeTally, total: Int,
        progress: (@Sendable (RetokenizePhase, Int, Int) -> Void)?
    ) async throws {
        let environment = self.environment
        try await withThrowingTaskGroup(of: Void.self) { group in
            for ranges in EntryWorker.ranges(jobs: jobs) {
                group.addTask {
                    try await Self.withWorkerSession(environment, settings: RetokenizeSQL.entryWorkerSettings) { session in
                        var worker = EntryWorker(context: context, mode: mode)
                        do {
                            for range in ranges {
                                try worker.run(session, range: range) { step in
                                    let done = counts.withLock { counts -> Int in
                                        counts.add(step)
                                        return counts.entries + counts.merged + counts.failed.count
                                    }
                                    progress?(.entries, min(done, total), total)
                                }
                            }
                        } catch where VaultDatabase.isDenial(error) {
                            // e.g. a data key sealed to a vault key whose private key is absent
                            AuditLog.recordDenial(session, action: "retokenize", reason: "", detail: VaultDenials.cause(error))
                            throw error
                        }
                    }
                }
            }
            try await group.waitForAll()
        }
    }

    /// Phase 2: every row follows the mapping. Returns the rows left under an older version
    /// when it counted them.
    func convertRows(
        _ main: PostgresConnection, context: RetokenizeContext, counts: RetokenizeTally, total: Int,
        progress: (@Sendable (RetokenizePhase, Int, Int) -> Void)?
    ) async throws -> Int? {
        guard total > 0 else { return 0 }
        let rebuild = RowsRebuild(context: context, environment: environment, step: Int64(rowBatchSize), jobs: jobs)
        let logger = environment.logger
        let method = self.method
        let started = try await main.withSession { session in
            try TableRebuild.rows.start(session, method: method, pending: total, logger: logger) {
                try rebuild.begin(session)
            }
        }
        guard started else {
            try await convertRowsInPlace(main, context: context, counts: counts, total: total, progress: progress)
            return nil
        }
        // Progress counts the rows copied, of all the table's rows.
        let tableRows = try await main.withSession { session in max(total, try TableRebuild.rows.estimatedRows(session)) }
        let copied = Mutex(0)
        try await rebuild.fill(main) { rows in
            let done = copied.withLock { copied -> Int in
                copied += rows
                return copied
            }
            progress?(.rows, min(done, tableRows), tableRows)
        }
        try await rebuild.buildIndexes(main)
        let left = try await main.withSession { session -> Int? in
            guard try TableRebuild.rows.swap(session, method: method, logger: logger) != nil else { return nil }
            return try context.count(session, RetokenizeSQL.countRows)
        }
        guard let left else {
            try await convertRowsInPlace(main, context: context, counts: counts, total: total, progress: progress)
            return nil
        }
        // Rows under an older version never grow once the rotation committed (etl writes the new one).
        counts.withLock { $0.rows += max(0, total - left) }
        return left
    }

    /// Phase 2 in place: `jobs` worker connections over interleaved `login_id` ranges.
    private func convertRowsInPlace(
        _ main: PostgresConnection, context: RetokenizeContext, counts: RetokenizeTally, total: Int,
        progress: (@Sendable (RetokenizePhase, Int, Int) -> Void)?
    ) async throws {
        let bounds = try await main.withSession { session in try context.rowBounds(session) }
        guard let (low, high) = bounds else { return }
        let environment = self.environment
        let step = Int64(rowBatchSize)
        let jobs = Int64(self.jobs)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for job in 0..<jobs {
                group.addTask {
                    try await Self.withWorkerSession(environment, settings: RetokenizeSQL.rowWorkerSettings) { session in
                        var start = low + job * step
                        while start <= high {
                            let updated = try context.moveRows(session, from: start, to: start + step)
                            let done = counts.withLock { counts -> Int in
                                counts.rows += updated
                                return counts.rows
                            }
                            progress?(.rows, min(done, total), total)
                            start += jobs * step
                        }
                    }
                }
            }
            try await group.waitForAll()
        }
    }
}
