import Logging
import Postgres

/// Phase 2 of `vault retokenize` by rebuilding `user_logins` (migration 6 holds the SQL): the
/// rows are copied with their new tokens into `user_logins_retokenized` in ranges of ids (each
/// range once, in its own transaction, so a killed run resumes where it stopped), the copy's
/// indexes are built in bulk, and the copy replaces the table under a short exclusive lock,
/// after the rows changed meanwhile (logged by triggers) are copied again. Readers and `etl`
/// keep working on the old table until that moment; `etl` then waits for the lock, well under a
/// second for a million rows.
///
/// Updating a row in place writes a new version of it and of its four index entries; on a
/// 2-core machine that is the whole cost of a token rotation. The copy writes each row once and
/// sorts each index once.
struct RowsRebuild {
    let context: RetokenizeContext
    let environment: VaultEnvironment
    /// Ids per range (the unit of resumption).
    let step: Int64
    let jobs: Int

    /// Settings of a rebuild session: the mapping hashed once per range, indexes sorted in memory.
    static let sessionSettings = RetokenizeSQL.rowWorkerSettings + "; SET maintenance_work_mem = '512MB'"

    /// Starts the rebuild, or resumes one towards the same version with the same ranges.
    /// Returns why `user_logins` cannot be replaced by a copy (nothing is left behind then).
    func begin(_ session: PostgresSession) throws -> String? {
        try session.execute(
            "SELECT fetchde.retokenize_rebuild_begin($1, $2) AS blocker", [.int(Int64(context.target)), .int(step)]
        ).rows.first?["blocker"].string
    }

    /// Copies the ranges not copied yet, `jobs` at once; `copied(rows)` after each range.
    func fill(_ main: PostgresConnection, copied: @escaping @Sendable (Int) -> Void) async throws {
        let ranges = try await main.withSession { session in
            try session.execute("SELECT r FROM fetchde.retokenize_rebuild_ranges() r").rows.compactMap { $0[0].int }
        }
        try await inWorkers(ranges) { session, low in
            let rows = try session.execute("SELECT fetchde.retokenize_rebuild_fill($1) AS n", [.int(low)]).rows.first?["n"].int
            copied(Int(rows ?? 0))
        }
    }

    /// Builds the copy's indexes not built yet, `jobs` at once, then gathers its statistics
    /// (ANALYZE waits for index builds anyway), so analysts' plans need not wait for
    /// autovacuum once it is swapped in.
    func buildIndexes(_ main: PostgresConnection) async throws {
        let names = try await main.withSession { session in
            try session.execute("SELECT i FROM fetchde.retokenize_rebuild_indexes() i").rows.compactMap { $0[0].string }
        }
        try await inWorkers(names) { session, name in
            try session.execute("SELECT fetchde.retokenize_rebuild_index($1)", [.text(name)])
        }
        try await main.withSession { session in
            try session.execute("SELECT fetchde.retokenize_rebuild_analyze()")
        }
    }

    /// Runs `work` on each item from `jobs` worker sessions (as vault_admin, rebuild settings).
    private func inWorkers<Item: Sendable>(
        _ items: [Item], _ work: @escaping @Sendable (PostgresSession, Item) throws -> Void
    ) async throws {
        guard !items.isEmpty else { return }
        let environment = self.environment
        let workers = min(jobs, items.count)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for worker in 0..<workers {
                group.addTask {
                    try await Retokenizer.withWorkerSession(environment, settings: Self.sessionSettings) { session in
                        for item in stride(from: worker, to: items.count, by: workers).map({ items[$0] }) {
                            try work(session, item)
                        }
                    }
                }
            }
            try await group.waitForAll()
        }
    }
}
