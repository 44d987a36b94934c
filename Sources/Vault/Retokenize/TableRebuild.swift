import Logging
import VaultFormat
import Postgres

/// A table `vault retokenize` can replace by a copy with the new tokens (migrations 6 and 8
/// hold the SQL): `user_logins` or `pii_vault`. The copy is filled while the table stays in
/// use, triggers log what changes meanwhile, and the copy is swapped in under a short
/// exclusive lock after those changes are applied to it. Updating in place writes every row
/// and its index entries again; the copy writes each row once and sorts each index once.
struct TableRebuild: Sendable {
    let table: String
    /// Its functions in schema `fetchde` (Schema's `SQL/functions/`), written out in full.
    let beginFunction: String
    let abandonStatement: String
    let swapStatement: String

    static let rows = TableRebuild(
        table: "user_logins",
        beginFunction: "fetchde.retokenize_rebuild_begin(integer,bigint)",
        abandonStatement: "SELECT fetchde.retokenize_rebuild_abandon()",
        swapStatement: "SELECT fetchde.retokenize_rebuild_swap() AS n"
    )
    static let entries = TableRebuild(
        table: "pii_vault",
        beginFunction: "fetchde.retokenize_entries_begin(integer)",
        abandonStatement: "SELECT fetchde.retokenize_entries_abandon()",
        swapStatement: "SELECT fetchde.retokenize_entries_swap() AS n"
    )

    /// Whether `etl migrate` installed the rebuild.
    func isInstalled(_ session: PostgresSession) throws -> Bool {
        try session.execute(
            "SELECT to_regprocedure($1) IS NOT NULL AS installed", [.text(beginFunction)]
        ).rows.first?["installed"].bool == true
    }

    /// Whether an interrupted rebuild left its copy or triggers behind.
    func isPending(_ session: PostgresSession) throws -> Bool {
        try session.execute(
            """
            SELECT to_regclass($1) IS NOT NULL
                OR EXISTS (SELECT 1 FROM pg_trigger WHERE tgrelid = to_regclass($2)
                           AND tgname LIKE 'fetchde\\_retokenize\\_log\\_%') AS pending
            """,
            [.text("public." + table + "_retokenized"), .text("public." + table)]
        ).rows.first?["pending"].bool == true
    }

    /// Drops what an interrupted rebuild left (before updating in place instead).
    func abandon(_ session: PostgresSession) throws {
        guard try isInstalled(session), try isPending(session) else { return }
        try session.execute(abandonStatement)
    }

    /// The planner's estimate of the table's rows (0 before its first ANALYZE).
    func estimatedRows(_ session: PostgresSession) throws -> Int {
        let row = try session.execute(
            "SELECT greatest(reltuples, 0)::bigint AS n FROM pg_class WHERE oid = to_regclass($1)", [.text("public." + table)]
        ).rows.first
        return Int(row?["n"].int ?? 0)
    }

    /// Whether to rebuild for `method` with `pending` rows to move; if so, starts (or resumes)
    /// the rebuild with `begin`, which returns why the table cannot be replaced, if it cannot.
    /// `auto` then works in place (and says why); `rebuild` refuses.
    func start(
        _ session: PostgresSession, method: RetokenizeMethod, pending: Int, logger: Logger, begin: () throws -> String?
    ) throws -> Bool {
        guard method != .inPlace, try isInstalled(session) else {
            if method == .rebuild {
                throw VaultError(.schemaMissing, "rebuilding \(table) needs a newer schema: run etl migrate")
            }
            try abandon(session)
            return false
        }
        // A few left (a later pass, a resumed run) are cheaper to update than a copy of all.
        if method == .auto, try !isPending(session), pending * 4 < (try estimatedRows(session)) {
            return false
        }
        try session.execute("SET lock_timeout = '30s'")
        defer { _ = try? session.execute("RESET lock_timeout") }
        guard let blocker = try begin() else { return true }
        if method == .rebuild { throw VaultError(.rebuildRefused, "cannot rebuild \(table): \(blocker)") }
        // Slower than a rebuild: the operator should know why.
        logger.warning("retokenize: updating \(table) in place", metadata: [LogKey.reason: "\(blocker)"])
        return false
    }

    /// Swaps the copy in. Waits up to `lockTimeout` for the exclusive lock, `attempts` times
    /// (long transactions on the table hold it off); the copy stays for a rerun if it never
    /// gets it. With `auto`, a swap that fails for a reason the checks did not foresee (it
    /// rolled back) abandons the rebuild and returns nil: work in place instead. Returns the
    /// changes made meanwhile that were applied to the copy.
    func swap(
        _ session: PostgresSession, method: RetokenizeMethod, logger: Logger,
        lockTimeout: Duration = .seconds(10), attempts: Int = 3
    ) throws -> Int? {
        for attempt in 1...attempts {
            do {
                let applied = try session.transaction {
                    try session.execute("SET LOCAL lock_timeout = \(max(1, lockTimeout.components.seconds * 1000))")
                    return try session.execute(swapStatement).rows.first?["n"].int ?? 0
                }
                logger.debug("retokenize: \(table) swapped for its rebuilt copy", metadata: [LogKey.changesApplied: "\(applied)"])
                return Int(applied)
            } catch let error as PostgresError where error.sqlState == SQLState.lockNotAvailable {
                guard attempt < attempts else {
                    throw VaultError(
                        .busy,
                        "could not lock \(table) to swap in its rebuilt copy (long transactions on it?); rerun vault retokenize to finish"
                    )
                }
                logger.notice("retokenize: \(table) is busy, retrying the swap", metadata: [LogKey.attempt: "\(attempt)"])
            } catch let error as PostgresError where method == .auto && !error.isConnectionError {
                logger.warning("retokenize: updating \(table) in place", metadata: [LogKey.reason: "the swap failed: \(error)"])
                try abandon(session)
                return nil
            }
        }
        return nil
    }
}
