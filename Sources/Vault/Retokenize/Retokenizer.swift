import Logging
import PIICrypto
import Postgres
import Synchronization
import VaultFormat

/// What `vault retokenize` did.
public struct RetokenizeResult: Sendable, Equatable {
    /// The token key version everything was moved to (the active one).
    public let tokenKeyVersion: Int
    /// Vault entries re-tokenized by this run (re-encrypted under their new token).
    public let entriesRetokenized: Int
    /// Old vault entries dropped because their value already had an entry under the new key
    /// (stored by `etl` after the rotation, or under two old versions) or was forgotten
    /// under it.
    public let entriesMerged: Int
    /// `user_logins` rows moved to the new tokens by this run.
    public let rowsUpdated: Int
    /// Vault entries that failed authentication: left as they are, and so are their rows.
    public let failedEntries: Int
    /// Rows still under an older key afterwards (a token without a readable vault entry).
    public let rowsLeft: Int
    /// Older token key versions nothing uses any more (their key file may be deleted).
    public let retirable: [Int]
}

/// Which phase a progress report is about.
public enum RetokenizePhase: String, Sendable {
    case entries = "vault entries"
    case rows = "user_logins rows"
}

/// `vault retokenize` (SPEC §5): after `vault rotate --tokens`, recomputes every token of an
/// older key version from the vault's originals, in resumable batches, while `etl` keeps
/// ingesting with the new key.
///
/// 1. **Entries** (`jobs` workers over ranges of tokens, a batch per transaction): each old
///    entry is opened, its value tokenized with the active key and sealed under a data key of
///    the worker with the associated data of its new token; the new entry goes into a copy of
///    `pii_vault` (or replaces the old one in place) and the mapping old → new token is written
///    to `token_rewrites` in the same transaction. An old entry whose value is already stored
///    (or forgotten) under its new token keeps only its mapping.
/// 2. **Rows** (`jobs` workers over `login_id` ranges, a range per transaction): `masked_ip`
///    and `masked_device_id` follow `token_rewrites`, into a copy of `user_logins` (or in
///    place); a token that was forgotten (no original left to re-tokenize) stays as it is, so
///    its rows still group together. A row whose token has neither is left under its old
///    version (reported).
///
/// How each table moves is ``method`` (see ``RetokenizeMethod`` and ``TableRebuild``): a copy
/// is swapped in under a short lock once complete, after the changes made meanwhile.
///
/// Every batch commits on its own and only ever moves data from an older version to the
/// active one, so a run killed at any point leaves a consistent database and a rerun finishes
/// the rest (the mapping survives until no row needs it). Rows `etl` committed before the
/// rotation are all there when this starts (see ``TokenKeyRotator``); the run repeats the
/// phases while a pass still finds work, and deletes the mapping once nothing of an older
/// version is left. One run at a time per database (`fetchde.take_lease`, held while the run's
/// main session lives; no other login can take it). Audited once per run.
public struct Retokenizer: Sendable {
    public var environment: VaultEnvironment
    /// Vault entries per transaction.
    public var entryBatchSize: Int
    /// `user_logins` ids per transaction.
    public var rowBatchSize: Int
    /// Worker connections at once (each phase).
    public var jobs: Int
    /// How entries and rows move.
    public var method: RetokenizeMethod

    public init(
        environment: VaultEnvironment, entryBatchSize: Int = 10_000, rowBatchSize: Int = 500_000, jobs: Int = 2,
        method: RetokenizeMethod = .auto
    ) {
        self.environment = environment
        self.entryBatchSize = max(1, entryBatchSize)
        self.rowBatchSize = max(1, rowBatchSize)
        self.jobs = max(1, jobs)
        self.method = method
    }

    /// `progress(phase, done, total)` is called after each committed batch.
    public func retokenize(progress: (@Sendable (RetokenizePhase, Int, Int) -> Void)? = nil) async throws -> RetokenizeResult {
        // Closing the main connection also lets the run's lease lapse.
        let result = try await VaultDatabase.connect(environment).closing { main in try await run(main, progress: progress) }
        environment.logger.debug("retokenize finished", metadata: [
            LogKey.tokenKeyVersion: "\(result.tokenKeyVersion)", LogKey.entries: "\(result.entriesRetokenized)",
            LogKey.merged: "\(result.entriesMerged)", LogKey.rows: "\(result.rowsUpdated)", LogKey.rowsLeft: "\(result.rowsLeft)",
        ])
        return result
    }

    private func run(_ main: PostgresConnection, progress: (@Sendable (RetokenizePhase, Int, Int) -> Void)?) async throws -> RetokenizeResult {
        let environment = self.environment
        let sizes = (entries: entryBatchSize, rows: rowBatchSize)
        let context = try await main.withSession { session -> RetokenizeContext in
            try VaultDatabase.administer(session, action: "retokenize") {
                try RetokenizeContext.start(session, environment: environment, sizes: sizes)
            }
        }
        let counts = RetokenizeTally()
        var entryTotal = context.pendingEntries
        var rowTotal = context.pendingRows
        while true {
            let before = counts.withLock { $0.entries + $0.merged }
            let clock = ContinuousClock()
            let entriesTime = try await clock.measure {
                try await convertEntries(main, context: context, counts: counts, total: entryTotal, progress: progress)
                try await main.withSession { session in try context.resolveChains(session) }
            }
            var rowsLeft: Int?
            let rowsTime = try await clock.measure {
                rowsLeft = try await convertRows(main, context: context, counts: counts, total: rowTotal, progress: progress)
            }
            environment.logger.debug("retokenize pass", metadata: [
                LogKey.entriesSeconds: "\(entriesTime)", LogKey.rowsSeconds: "\(rowsTime)",
            ])
            let knownRowsLeft = rowsLeft
            let left = try await main.withSession { session in
                (entries: try context.count(session, RetokenizeSQL.countEntries),
                 rows: try knownRowsLeft ?? context.count(session, RetokenizeSQL.countRows))
            }
            let now = counts.withLock { $0 }
            // A pass that moved entries may have found some only now (under an older version,
            // e.g. from an etl older than the commit-time key check): one more pass, until a
            // pass moves nothing or only entries that fail authentication are left.
            if left.entries <= now.failed.count || now.entries + now.merged == before {
                return try await main.withSession { session in
                    try context.finish(session, counts: now, leftEntries: left.entries, leftRows: left.rows)
                }
            }
            entryTotal = now.entries + now.merged + left.entries
            rowTotal = now.rows + left.rows
        }
    }
}

/// The run's totals, shared by its workers.
final class RetokenizeTally: Sendable {
    private let counts = Mutex(RetokenizeCounts())

    func withLock<T>(_ body: (inout RetokenizeCounts) -> T) -> T {
        counts.withLock { body(&$0) }
    }
}

/// Totals of a run across its workers.
struct RetokenizeCounts: Sendable {
    var entries = 0, merged = 0, rows = 0
    /// Entries that failed authentication ("field|token"), each counted once across passes.
    var failed = Set<String>()

    mutating func add(_ step: EntryWorker.Step) {
        entries += step.updated
        merged += step.merged
        failed.formUnion(step.failed)
    }
}

/// What every worker of a run shares: the target version, its tokenizer, the vault keys.
struct RetokenizeContext: Sendable {
    let target: Int
    let tokenizer: Tokenizer
    let vaultKeyVersion: Int
    let vaultPublicKey: X25519PublicKey
    /// The private keys of the data keys' versions (nil when no entry needs opening).
    let keyring: VaultKeyring?
    let entryBatchSize: Int
    let pendingEntries: Int
    let pendingRows: Int

    /// Takes the run's lock, checks and loads the keys, and audits the run.
    static func start(_ session: PostgresSession, environment: VaultEnvironment, sizes: (entries: Int, rows: Int)) throws -> RetokenizeContext {
        let locked = try session.execute("SELECT fetchde.take_lease('retokenize') AS ok")
        guard locked.rows.first?["ok"].bool == true else {
            throw VaultError(.busy, "another vault retokenize is running on this database")
        }
        let active = try session.execute(
            """
            SELECT a.token_key_version, t.key_check, a.vault_key_version, k.public_key
            FROM public.vault_active a
            JOIN public.token_keys t ON t.version = a.token_key_version
            JOIN public.vault_keys k ON k.version = a.vault_key_version
            """
        ).rows.first
        guard let active, let target = active[0].int.map(Int.init), let check = active[1].string,
              let vaultVersion = active[2].int.map(Int.init), let publicBytes = active[3].bytes
        else { throw VaultError(.notInitialized, "no keys are registered: run vault init first") }
        // The new key must be the registered one: tokens of a wrong key would join nothing.
        let rootKey = try environment.keys.readTokenKey(version: target)
        guard constantTimeEquals(Array(VaultFormat.tokenKeyCheck(rootKey).utf8), Array(check.utf8)) else {
            throw VaultError(.keyUnavailable, "token key file for version \(target) does not match the registered key")
        }
        let publicKey: X25519PublicKey
        do {
            publicKey = try X25519PublicKey(rawRepresentation: publicBytes)
        } catch {
            throw VaultError(.malformedKey, "the active vault public key (v\(vaultVersion)) in vault_keys is malformed")
        }
        let versionParameter: [PostgresValue] = [.int(Int64(target))]
        let pendingEntries = Int(try session.execute(RetokenizeSQL.countEntries, versionParameter).rows.first?[0].int ?? 0)
        let pendingRows = Int(try session.execute(RetokenizeSQL.countRows, versionParameter).rows.first?[0].int ?? 0)
        // Private keys only when there are entries to open (asks for the passphrase once).
        let keyring = pendingEntries > 0 ? try VaultKeyring.load(session, environment: environment) : nil
        try session.transaction {
            try AuditLog.append(
                session, action: "retokenize", outcome: "ok", reason: "",
                detail: "\(pendingEntries) vault entries and \(pendingRows) user_logins rows to token key v\(target)"
            )
        }
        return RetokenizeContext(
            target: target, tokenizer: Tokenizer(rootKey: rootKey, version: target), vaultKeyVersion: vaultVersion,
            vaultPublicKey: publicKey, keyring: keyring, entryBatchSize: sizes.entries,
            pendingEntries: pendingEntries, pendingRows: pendingRows
        )
    }

    func count(_ session: PostgresSession, _ sql: String) throws -> Int {
        Int(try session.execute(sql, [.int(Int64(target))]).rows.first?[0].int ?? 0)
    }

    /// Mappings an interrupted retokenize to an older version left behind now point to
    /// tokens that were re-tokenized again: make them point to the newest.
    func resolveChains(_ session: PostgresSession) throws {
        let older = try session.execute(RetokenizeSQL.hasOlderRewrites, [.int(Int64(target))]).rows.first?[0].bool
        guard older == true else { return }
        while try session.execute(RetokenizeSQL.resolveChains).affectedRows > 0 {}
    }

    /// The `login_id` range of the rows under an older version, or nil when there are none.
    func rowBounds(_ session: PostgresSession) throws -> (Int64, Int64)? {
        let row = try session.execute(RetokenizeSQL.rowBounds, [.int(Int64(target))]).rows.first
        guard let low = row?[0].int, let high = row?[1].int else { return nil }
        return (low, high)
    }

    /// Moves the rows with ids in [start, end) in one transaction; returns how many.
    func moveRows(_ session: PostgresSession, from start: Int64, to end: Int64) throws -> Int {
        try session.transaction {
            try session.execute(RetokenizeSQL.moveRows, [.int(Int64(target)), .int(start), .int(end)]).affectedRows
        }
    }

    func finish(_ session: PostgresSession, counts: RetokenizeCounts, leftEntries: Int, leftRows: Int) throws -> RetokenizeResult {
        var retirable: [Int] = []
        if leftEntries == 0 && leftRows == 0 {
            // Nothing refers to an old token any more: the mapping would only link tokens
            // of retired keys to current ones.
            try session.execute("TRUNCATE public.token_rewrites")
            retirable = try session.execute(
                "SELECT version FROM public.token_keys WHERE version < $1 ORDER BY version", [.int(Int64(target))]
            ).rows.compactMap { $0[0].int.map(Int.init) }
        }
        return RetokenizeResult(
            tokenKeyVersion: target, entriesRetokenized: counts.entries, entriesMerged: counts.merged,
            rowsUpdated: counts.rows, failedEntries: counts.failed.count, rowsLeft: leftRows, retirable: retirable
        )
    }
}
