import Logging
import Postgres

/// How `vault retokenize` moves `user_logins` rows to their new tokens.
public enum RowsMethod: String, Sendable, CaseIterable {
    /// Rebuild when most rows need moving and nothing bound to the table forbids it, else in place.
    case auto
    /// Fill a copy of the table with the new tokens, index it, swap it in (see ``RowsRebuild``).
    case rebuild
    /// Update the rows where they are, a range of ids per transaction.
    case inPlace = "in-place"
}

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
    static let sessionSettings = "SET work_mem = '256MB'; SET maintenance_work_mem = '512MB'; SET jit = off"

    /// Whether `etl migrate` installed the rebuild (schema version 6 or later).
    static func isInstalled(_ session: PostgresSession) throws -> Bool {
        try session.execute(
            "SELECT to_regprocedure('fetchde_retokenize_rebuild_begin(integer,bigint)') IS NOT NULL AS installed"
        ).rows.first?["installed"].bool == true
    }

    /// The planner's estimate of the rows of `user_logins` (0 before its first ANALYZE).
    static func estimatedRows(_ session: PostgresSession) throws -> Int {
        let row = try session.execute(
            "SELECT greatest(reltuples, 0)::bigint AS n FROM pg_class WHERE oid = to_regclass('user_logins')"
        ).rows.first
        return Int(row?["n"].int ?? 0)
    }

    /// Whether an interrupted rebuild left its copy or triggers behind.
    static func isPending(_ session: PostgresSession) throws -> Bool {
        try session.execute(
            """
            SELECT to_regclass('user_logins_retokenized') IS NOT NULL
                OR EXISTS (SELECT 1 FROM pg_trigger WHERE tgrelid = to_regclass('user_logins')
                           AND tgname LIKE 'fetchde\\_retokenize\\_log\\_%') AS pending
            """
        ).rows.first?["pending"].bool == true
    }

    /// Drops what an interrupted rebuild left (before rows are updated in place instead).
    static func abandon(_ session: PostgresSession) throws {
        guard try isInstalled(session), try isPending(session) else { return }
        try session.execute("SELECT fetchde_retokenize_rebuild_abandon()")
    }

    /// Starts the rebuild, or resumes one towards the same version with the same ranges.
    /// Returns why `user_logins` cannot be replaced by a copy (nothing is left behind then).
    func begin(_ session: PostgresSession) throws -> String? {
        try session.execute("SET lock_timeout = '30s'")
        defer { _ = try? session.execute("RESET lock_timeout") }
        return try session.execute(
            "SELECT fetchde_retokenize_rebuild_begin($1, $2) AS blocker", [.int(Int64(context.target)), .int(step)]
        ).rows.first?["blocker"].string
    }

    /// Copies the ranges not copied yet, `jobs` at once; `copied(rows)` after each range.
    func fill(_ main: PostgresConnection, copied: @escaping @Sendable (Int) -> Void) async throws {
        let ranges = try await main.withSession { session in
            try session.execute("SELECT r FROM fetchde_retokenize_rebuild_ranges() r").rows.compactMap { $0[0].int }
        }
        try await inWorkers(ranges) { session, low in
            let rows = try session.execute("SELECT fetchde_retokenize_rebuild_fill($1) AS n", [.int(low)]).rows.first?["n"].int
            copied(Int(rows ?? 0))
        }
    }

    /// Builds the copy's indexes not built yet, `jobs` at once, then gathers its statistics
    /// (ANALYZE waits for index builds anyway), so analysts' plans need not wait for
    /// autovacuum once it is swapped in.
    func buildIndexes(_ main: PostgresConnection) async throws {
        let names = try await main.withSession { session in
            try session.execute("SELECT i FROM fetchde_retokenize_rebuild_indexes() i").rows.compactMap { $0[0].string }
        }
        try await inWorkers(names) { session, name in
            try session.execute("SELECT fetchde_retokenize_rebuild_index($1)", [.text(name)])
        }
        try await main.withSession { session in
            try session.execute("SELECT fetchde_retokenize_rebuild_analyze()")
        }
    }

    /// Swaps the copy in. Waits up to `lockTimeout` for the exclusive lock, `attempts` times
    /// (long transactions on `user_logins` hold it off); the copy stays for a rerun if it never
    /// gets it. Returns the rows copied again because they changed meanwhile.
    func swap(_ session: PostgresSession, lockTimeout: Duration = .seconds(10), attempts: Int = 3) throws -> Int {
        for attempt in 1...attempts {
            do {
                let replayed = try session.transaction {
                    try session.execute("SET LOCAL lock_timeout = \(max(1, lockTimeout.components.seconds * 1000))")
                    return try session.execute("SELECT fetchde_retokenize_rebuild_swap() AS n").rows.first?["n"].int ?? 0
                }
                return Int(replayed)
            } catch let error as PostgresError where error.sqlState == SQLState.lockNotAvailable && attempt < attempts {
                environment.logger.notice("retokenize: user_logins is busy, retrying the swap", metadata: ["attempt": "\(attempt)"])
            } catch let error as PostgresError where error.sqlState == SQLState.lockNotAvailable {
                throw VaultError(
                    .failure,
                    "could not lock user_logins to swap in its rebuilt copy (long transactions on it?); rerun vault retokenize to finish"
                )
            }
        }
        return 0
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
                    try await VaultDatabase.withSession(environment) { session in
                        try VaultDatabase.assumeVaultAdmin(session, action: "retokenize", reason: "", detail: "worker")
                        try session.executeScript(Self.sessionSettings)
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
