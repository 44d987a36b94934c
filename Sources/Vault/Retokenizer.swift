import Logging
import PIICrypto
import Postgres
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
/// 1. **Entries**, a batch per transaction (keyset over `pii_vault`'s key): each old entry is
///    opened, its value tokenized with the active key and sealed under a data key of this run
///    with the associated data of its new token; the entry is updated in place and the
///    mapping old → new token is written to `token_rewrites` in the same transaction. An old
///    entry whose value is already stored (or forgotten) under its new token is dropped.
/// 2. **Rows**, a `login_id` range per transaction: `masked_ip` and `masked_device_id` follow
///    `token_rewrites`; a token that was forgotten (no original left to re-tokenize) stays as
///    it is, so its rows still group together. A row whose token has neither is left under
///    its old version (reported).
///
/// Every batch commits on its own and only ever moves data from an older version to the
/// active one, so a run killed at any point leaves a consistent database and a rerun finishes
/// the rest (the mapping survives until no row needs it). Rows `etl` committed before the
/// rotation are all there when this starts (see ``TokenKeyRotator``); the run repeats the
/// phases while a pass still finds work, and deletes the mapping once nothing of an older
/// version is left. One run at a time per database (advisory lock). Audited once per run.
public struct Retokenizer: Sendable {
    public var environment: VaultEnvironment
    /// Vault entries per transaction.
    public var entryBatchSize: Int
    /// `user_logins` ids per transaction.
    public var rowBatchSize: Int

    public init(environment: VaultEnvironment, entryBatchSize: Int = 5_000, rowBatchSize: Int = 50_000) {
        self.environment = environment
        self.entryBatchSize = max(1, entryBatchSize)
        self.rowBatchSize = max(1, rowBatchSize)
    }

    /// `progress(phase, done, total)` is called after each committed batch.
    public func retokenize(progress: (@Sendable (RetokenizePhase, Int, Int) -> Void)? = nil) async throws -> RetokenizeResult {
        let environment = self.environment
        let sizes = (entries: entryBatchSize, rows: rowBatchSize)
        let result = try await VaultDatabase.withSession(environment) { session -> RetokenizeResult in
            try VaultDatabase.requireSchema(session)
            try VaultDatabase.assumeVaultAdmin(session, action: "retokenize", reason: "", detail: "")
            do {
                var run = try RetokenizeRun(session, environment: environment, sizes: sizes, progress: progress)
                return try run.execute()
            } catch where VaultDatabase.isDenial(error) {
                AuditLog.recordDenial(session, action: "retokenize", reason: "", detail: VaultDenials.cause(error))
                throw error
            }
        }
        environment.logger.debug("retokenize finished", metadata: [
            "token_key_version": "\(result.tokenKeyVersion)", "entries": "\(result.entriesRetokenized)",
            "merged": "\(result.entriesMerged)", "rows": "\(result.rowsUpdated)", "rows_left": "\(result.rowsLeft)",
        ])
        return result
    }
}

/// One `vault retokenize` run on its session (the connection's thread).
private struct RetokenizeRun {
    static let advisoryLock: Int64 = 7_321_001
    /// Encryptions after which the run's data key is replaced (far below GCM's 2³² limit).
    static let dataKeyUses = 1 << 24

    let session: PostgresSession
    let environment: VaultEnvironment
    let sizes: (entries: Int, rows: Int)
    let progress: (@Sendable (RetokenizePhase, Int, Int) -> Void)?
    let target: Int
    let tokenizer: Tokenizer
    let vaultKeyVersion: Int
    let vaultPublicKey: X25519PublicKey

    private var keyring: VaultKeyring?
    private var openedKeys: [Int64: SecureBytes] = [:]
    private var failedKeys = Set<Int64>()
    private var dataKey: (id: Int64, key: SecureBytes, uses: Int)?
    private var entriesDone = 0, merged = 0, rowsDone = 0
    /// Entries that failed authentication ("field|token"), each counted once across passes.
    private var failedEntries = Set<String>()

    init(
        _ session: PostgresSession, environment: VaultEnvironment, sizes: (entries: Int, rows: Int),
        progress: (@Sendable (RetokenizePhase, Int, Int) -> Void)?
    ) throws {
        self.session = session
        self.environment = environment
        self.sizes = sizes
        self.progress = progress
        let active = try session.execute(
            """
            SELECT a.token_key_version, t.key_check, a.vault_key_version, k.public_key
            FROM vault_active a
            JOIN token_keys t ON t.version = a.token_key_version
            JOIN vault_keys k ON k.version = a.vault_key_version
            """
        ).rows.first
        guard let active, let target = active[0].int.map(Int.init), let check = active[1].string,
              let vaultVersion = active[2].int.map(Int.init), let publicBytes = active[3].bytes
        else { throw VaultError(.unavailable, "no keys are registered: run vault init first") }
        // The new key must be the registered one: tokens of a wrong key would join nothing.
        let rootKey = try environment.keys.readTokenKey(version: target)
        guard constantTimeEquals(Array(VaultFormat.tokenKeyCheck(rootKey).utf8), Array(check.utf8)) else {
            throw VaultError(.notAuthorized, "token key file for version \(target) does not match the registered key")
        }
        self.target = target
        tokenizer = Tokenizer(rootKey: rootKey, version: target)
        vaultKeyVersion = vaultVersion
        do {
            vaultPublicKey = try X25519PublicKey(rawRepresentation: publicBytes)
        } catch {
            throw VaultError(.failure, "the active vault public key (v\(vaultVersion)) in vault_keys is malformed")
        }
    }

    mutating func execute() throws -> RetokenizeResult {
        let locked = try session.execute("SELECT pg_try_advisory_lock($1) AS ok", [.int(Self.advisoryLock)])
        guard locked.rows.first?["ok"].bool == true else {
            throw VaultError(.failure, "another vault retokenize is running on this database")
        }
        defer { _ = try? session.execute("SELECT pg_advisory_unlock($1)", [.int(Self.advisoryLock)]) }

        let pendingEntries = try count("SELECT count(*) FROM pii_vault WHERE token_key_version < $1")
        let pendingRows = try count("SELECT count(*) FROM user_logins WHERE token_key_version < $1")
        // Private keys only when there are entries to open (asks for the passphrase once).
        if pendingEntries > 0 { keyring = try VaultKeyring.load(session, environment: environment) }
        try session.transaction {
            try AuditLog.append(
                session, action: "retokenize", outcome: "ok", reason: "",
                detail: "\(pendingEntries) vault entries and \(pendingRows) user_logins rows to token key v\(target)"
            )
        }
        try session.executeScript(RetokenizeSQL.createBatchTable)

        var entryTotal = pendingEntries
        var rowTotal = pendingRows
        while true {
            let entriesBefore = entriesDone + merged
            try convertEntries(total: entryTotal)
            try resolveChains()
            try convertRows(total: rowTotal)
            // Entries or rows found by this pass that the counts at start did not include
            // (written by an etl process that had not switched yet): one more pass.
            let leftEntries = try count("SELECT count(*) FROM pii_vault WHERE token_key_version < $1")
            let leftRows = try count("SELECT count(*) FROM user_logins WHERE token_key_version < $1")
            let progressed = entriesDone + merged > entriesBefore
            if leftEntries <= failedEntries.count || !progressed {
                return try finish(leftEntries: leftEntries, leftRows: leftRows)
            }
            entryTotal = entriesDone + merged + leftEntries
            rowTotal = rowsDone + leftRows
        }
    }

    // MARK: phase 1: vault entries

    private typealias EntryStep = (last: (String, String), updated: Int, merged: Int, failed: [String])

    private mutating func convertEntries(total: Int) throws {
        var after = (field: "", token: "")
        var conflicts = 0
        while true {
            try ensureDataKey(uses: sizes.entries)
            let step: EntryStep?
            do {
                step = try convertEntryBatch(after: after)
            } catch let error as PostgresError where error.sqlState == SQLState.uniqueViolation && conflicts < 10 {
                // An etl process stored one of the batch's values under its new token between
                // the merge and the move: the batch rolled back; the merge catches it now.
                conflicts += 1
                continue
            }
            guard let step else { return }
            after = (step.last.0, step.last.1)
            self.dataKey?.uses += step.updated
            entriesDone += step.updated
            merged += step.merged
            failedEntries.formUnion(step.failed)
            progress?(.entries, min(entriesDone + merged + failedEntries.count, total), total)
        }
    }

    /// One batch of entries after `after`, in one transaction; nil when none is left.
    private mutating func convertEntryBatch(after: (field: String, token: String)) throws -> EntryStep? {
        guard let dataKey else { throw VaultError(.failure, "retokenize: no data key") }
        return try session.transaction { () -> EntryStep? in
                let rows = try session.execute(
                    RetokenizeSQL.selectEntries,
                    [.int(Int64(target)), .text(after.field), .text(after.token), .int(Int64(sizes.entries))]
                ).rows
                guard let lastRow = rows.last, let lastField = lastRow[0].string, let lastToken = lastRow[1].string else { return nil }
                try openDataKeys(Set(rows.compactMap { $0[2].int }))
                var batch: [[PostgresValue]] = []
                batch.reserveCapacity(rows.count)
                var newTokens = Set<String>()
                var failedHere: [String] = []
                for row in rows {
                    guard let name = row[0].string, let field = PIIField(rawValue: name), let oldToken = row[1].string,
                          let dekID = row[2].int, let ciphertext = row[3].bytes, let key = openedKeys[dekID],
                          let value = try? AES256GCM.openSecure(
                              ciphertext, key: key, aad: VaultFormat.entryAAD(field: field, token: oldToken, dekID: dekID)
                          )
                    else {
                        failedHere.append((row[0].string ?? "") + "|" + (row[1].string ?? ""))
                        continue
                    }
                    let newToken = value.withUnsafeBytes { tokenizer.token(String(decoding: $0, as: UTF8.self), field: field) }
                    let sealed = try value.withUnsafeBytes { raw -> [UInt8] in
                        var plaintext = Array(raw)
                        defer { plaintext.withUnsafeMutableBytes { $0.initializeMemory(as: UInt8.self, repeating: 0) } }
                        return try AES256GCM.seal(
                            plaintext, key: dataKey.key, aad: VaultFormat.entryAAD(field: field, token: newToken, dekID: dataKey.id)
                        )
                    }
                    // Two old entries of one value (from two older versions) in one batch:
                    // the first becomes the new entry, the second only maps.
                    let keep = newTokens.insert(name + "|" + newToken).inserted
                    batch.append([.text(name), .text(oldToken), .text(newToken), .bytea(sealed), .bool(keep)])
                }
                var updated = 0, mergedHere = 0
                if !batch.isEmpty {
                    try session.copyIn(RetokenizeSQL.copyBatch) { writer in
                        for row in batch { try writer.appendRow(row) }
                    }
                    try session.execute("ANALYZE vault_retokenize_batch")
                    try session.execute(RetokenizeSQL.recordRewrites, [.int(Int64(target))])
                    mergedHere = try session.execute(RetokenizeSQL.dropMerged).affectedRows
                    updated = try session.execute(
                        RetokenizeSQL.moveEntries, [.int(Int64(target)), .int(dataKey.id)]
                    ).affectedRows
                }
                return ((lastField, lastToken), updated, mergedHere, failedHere)
        }
    }

    /// Unseals the data keys in `ids` not opened yet (each once per run). A key that fails
    /// authentication opens nothing: its entries count as failed.
    private mutating func openDataKeys(_ ids: Set<Int64>) throws {
        let wanted = ids.subtracting(openedKeys.keys).subtracting(failedKeys)
        guard !wanted.isEmpty else { return }
        guard let keyring else { throw VaultError(.failure, "retokenize: vault private keys were not loaded") }
        let rows = try session.execute(
            "SELECT dek_id, vault_key_version, encapsulated_key, sealed_key FROM vault_data_keys WHERE dek_id = ANY($1::bigint[])",
            [.text(VaultSQL.intArray(wanted.sorted()))]
        ).rows
        for row in rows {
            guard let id = row[0].int, let version = row[1].int.map(Int.init) else { continue }
            let opened = try? HPKE.open(
                encapsulatedKey: row[2].bytes ?? [], ciphertext: row[3].bytes ?? [],
                recipient: try keyring.privateKey(version: version),
                info: VaultFormat.dekInfo, aad: VaultFormat.dekAAD(dekID: id, vaultKeyVersion: version),
                aead: .aes256GCM
            )
            if let opened, opened.count == 32 { openedKeys[id] = opened } else { failedKeys.insert(id) }
        }
        failedKeys.formUnion(wanted.subtracting(openedKeys.keys))
    }

    /// A data key of this run for `uses` more encryptions: sealed to the active vault key
    /// and committed before any entry uses it.
    private mutating func ensureDataKey(uses: Int) throws {
        if let key = dataKey, key.uses + uses <= Self.dataKeyUses { return }
        let next = try session.execute("SELECT nextval(pg_get_serial_sequence('vault_data_keys', 'dek_id')) AS id")
        guard let id = next.rows.first?["id"].int else {
            throw VaultError(.unavailable, "vault_data_keys has no id sequence: run etl migrate")
        }
        let key = SecureBytes.random(count: 32)
        let sealed = try VaultFormat.sealDataKey(key, dekID: id, vaultKeyVersion: vaultKeyVersion, to: vaultPublicKey)
        try session.execute(
            "INSERT INTO vault_data_keys (dek_id, vault_key_version, encapsulated_key, sealed_key) VALUES ($1, $2, $3, $4)",
            [.int(id), .int(Int64(vaultKeyVersion)), .bytea(sealed.encapsulatedKey), .bytea(sealed.sealedKey)]
        )
        dataKey = (id, key, 0)
    }

    /// Mappings an interrupted retokenize to an older version left behind now point to
    /// tokens that were re-tokenized again: make them point to the newest.
    private func resolveChains() throws {
        let older = try session.execute(RetokenizeSQL.hasOlderRewrites, [.int(Int64(target))]).rows.first?[0].bool
        guard older == true else { return }
        while try session.execute(RetokenizeSQL.resolveChains).affectedRows > 0 {}
    }

    // MARK: phase 2: user_logins rows

    private mutating func convertRows(total: Int) throws {
        let bounds = try session.execute(
            "SELECT min(login_id), max(login_id) FROM user_logins WHERE token_key_version < $1",
            [.int(Int64(target))]
        ).rows.first
        guard let low = bounds?[0].int, let high = bounds?[1].int else { return }
        var start = low
        while start <= high {
            let end = start + Int64(sizes.rows)
            let updated = try session.transaction {
                try session.execute(
                    RetokenizeSQL.moveRows, [.int(Int64(target)), .int(start), .int(end)]
                ).affectedRows
            }
            rowsDone += updated
            start = end
            progress?(.rows, rowsDone, total)
        }
    }

    // MARK: end of run

    private func finish(leftEntries: Int, leftRows: Int) throws -> RetokenizeResult {
        var retirable: [Int] = []
        if leftEntries == 0 && leftRows == 0 {
            // Nothing refers to an old token any more: the mapping would only link tokens
            // of retired keys to current ones.
            try session.execute("DELETE FROM token_rewrites")
            retirable = try session.execute(
                "SELECT version FROM token_keys WHERE version < $1 ORDER BY version", [.int(Int64(target))]
            ).rows.compactMap { $0[0].int.map(Int.init) }
        }
        return RetokenizeResult(
            tokenKeyVersion: target, entriesRetokenized: entriesDone, entriesMerged: merged, rowsUpdated: rowsDone,
            failedEntries: failedEntries.count, rowsLeft: leftRows, retirable: retirable
        )
    }

    private func count(_ sql: String) throws -> Int {
        Int(try session.execute(sql, [.int(Int64(target))]).rows.first?[0].int ?? 0)
    }
}
