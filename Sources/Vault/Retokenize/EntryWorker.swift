import PIICrypto
import VaultCrypto
import Postgres
import VaultFormat

/// Phase 1 of `vault retokenize` on its own session: the old entries of a field within a range
/// of tokens, in token order, a batch per transaction (see ``Retokenizer``). A worker takes
/// several ranges one after the other, with one data key and one cache of opened DEKs.
struct EntryWorker {
    /// Where a re-tokenized entry goes.
    enum Mode: Sendable {
        /// Into `pii_vault_retokenized`, with its mapping; the old entry stays until the swap.
        case rebuild
        /// In place of the old entry, with its mapping.
        case inPlace
    }

    /// What one committed batch did.
    struct Step: Sendable {
        var last: String
        var updated = 0
        var merged = 0
        /// "field|token" of the entries that failed authentication.
        var failed: [String] = []
    }

    /// Entries of `field` with `low <= token < high` (tokens are lowercase hex).
    struct TokenRange: Sendable {
        var field: PIIField
        var low: String
        var high: String
    }

    let context: RetokenizeContext
    let mode: Mode
    private var field = PIIField.ip
    private var openedKeys: [Int64: SecureBytes] = [:]
    private var failedKeys = Set<Int64>()
    private var dataKey: (id: Int64, key: SecureBytes, uses: Int)?
    /// Whether a new token already stored has been met: from then on every batch checks first.
    private var collided = false

    init(context: RetokenizeContext, mode: Mode) {
        self.context = context
        self.mode = mode
    }

    /// `jobs` sets of ranges that split every field's tokens evenly (by leading hex digit).
    static func ranges(jobs: Int) -> [[TokenRange]] {
        let digits = Array("0123456789abcdef")
        let parts = max(1, min(jobs, digits.count))
        let bounds = (0..<parts).map { String(digits[$0 * digits.count / parts]) } + ["g"]
        return (0..<parts).map { part in
            PIIField.allCases.map { TokenRange(field: $0, low: bounds[part], high: bounds[part + 1]) }
        }
    }

    /// Converts every entry of `range` under an older version; `committed` after each batch.
    mutating func run(_ session: PostgresSession, range: TokenRange, committed: (Step) -> Void) throws {
        if mode == .inPlace { try session.executeScript(RetokenizeSQL.createBatchTable) }
        let anyForgotten = try session.execute("SELECT EXISTS (SELECT 1 FROM public.vault_forgotten) AS any").rows.first?[0].bool ?? true
        field = range.field
        var after = ""
        var conflicts = 0
        while true {
            try ensureDataKey(session, uses: context.entryBatchSize)
            let step: Step?
            do {
                step = try session.transaction { try convertBatch(session, range: range, after: after, anyForgotten: anyForgotten) }
            } catch let error as PostgresError where error.sqlState == SQLState.uniqueViolation && conflicts < 10 {
                // One of the batch's values is stored under its new token already (etl stored
                // it after the rotation, or another worker moved an older version's entry of
                // it): the batch rolled back; the retry checks first and merges.
                conflicts += 1
                collided = true
                continue
            }
            guard let step else { return }
            after = step.last
            dataKey?.uses += step.updated
            committed(step)
        }
    }

    /// One batch of `range` after token `after`; nil when none is left.
    private mutating func convertBatch(_ session: PostgresSession, range: TokenRange, after: String, anyForgotten: Bool) throws -> Step? {
        guard let dataKey else { throw VaultError(.internalFailure, "retokenize: no data key") }
        let target = Int64(context.target)
        let rows = try session.execute(
            mode == .rebuild ? RetokenizeSQL.selectEntriesWithMapping : RetokenizeSQL.selectEntries,
            [.int(target), .text(field.rawValue), .text(max(after, range.low)), .int(Int64(context.entryBatchSize)), .text(range.high)]
        ).rows
        guard let last = rows.last?[0].string else { return nil }
        var step = Step(last: last)
        try openDataKeys(session, Set(rows.compactMap { $0[1].int }))
        var batch: [[PostgresValue]] = []
        batch.reserveCapacity(rows.count)
        var newTokens = Set<String>()
        var unopened: [[PostgresValue]] = []
        for row in rows where row[5].bool != true {
            guard let oldToken = row[0].string, let dekID = row[1].int, let ciphertext = row[2].bytes,
                  let position = row[3].string, let key = openedKeys[dekID],
                  let value = try? AES256GCM.openSecure(
                      ciphertext, key: key, aad: VaultFormat.entryAAD(field: field, token: oldToken, dekID: dekID)
                  )
            else {
                step.failed.append(field.rawValue + "|" + (row[0].string ?? ""))
                // A rebuild keeps it as it is (its rows stay on the old token).
                if mode == .rebuild {
                    unopened.append([
                        .text(field.rawValue), .optional(row[0].string), .optional(row[6].int), .optional(row[1].int),
                        .optional(row[2].bytes), .optional(row[4].string),
                    ])
                }
                continue
            }
            let newToken = value.withUnsafeBytes { context.tokenizer.token(String(decoding: $0, as: UTF8.self), field: field) }
            let sealed = try value.withUnsafeBytes { raw -> [UInt8] in
                var plaintext = Array(raw)
                defer { _ = plaintext.withUnsafeMutableBytes { $0.initializeMemory(as: UInt8.self, repeating: 0) } }
                return try AES256GCM.seal(
                    plaintext, key: dataKey.key, aad: VaultFormat.entryAAD(field: field, token: newToken, dekID: dataKey.id)
                )
            }
            // Two old entries of one value (from two older versions) in one batch: the first
            // becomes the new entry, the second only maps.
            let keep = newTokens.insert(newToken).inserted
            batch.append([
                .text(field.rawValue), .text(oldToken), .text(newToken), .bytea(sealed), .bool(keep), .text(position),
                row[4].string.map(PostgresValue.text) ?? .null,
            ])
        }
        if mode == .rebuild {
            // The copy takes one entry per value; every old token gets its mapping.
            let kept = batch.filter { $0[4] == .bool(true) }
            try session.copyIn(RetokenizeSQL.copyIntoRebuild) { writer in
                for row in kept { try writer.appendRow([row[0], row[2], .int(target), .int(dataKey.id), row[3], row[6]]) }
                for row in unopened { try writer.appendRow(row) }
            }
            try session.copyIn(RetokenizeSQL.copyRewrites) { writer in
                for row in batch { try writer.appendRow([row[0], row[1], row[2], .int(target)]) }
            }
            step.updated = kept.count
            step.merged = batch.count - kept.count
            return step
        }
        guard !batch.isEmpty else { return step }
        try session.copyIn(RetokenizeSQL.copyBatch) { writer in
            for row in batch { try writer.appendRow(Array(row.prefix(6))) }  // created_at stays with the entry
        }
        step.updated = try session.execute(
            RetokenizeSQL.moveEntries(unlessStored: collided, unlessForgotten: anyForgotten),
            [.int(target), .int(dataKey.id)]
        ).affectedRows
        // What did not move already has (or must never have) an entry under its new token.
        if step.updated < batch.count {
            step.merged = try session.execute(RetokenizeSQL.dropUnmoved, [.int(target)]).affectedRows
        }
        return step
    }

    /// Unseals the data keys in `ids` not opened yet (each once per worker). A key that fails
    /// authentication opens nothing: its entries count as failed.
    private mutating func openDataKeys(_ session: PostgresSession, _ ids: Set<Int64>) throws {
        let wanted = ids.subtracting(openedKeys.keys).subtracting(failedKeys)
        guard !wanted.isEmpty else { return }
        guard let keyring = context.keyring else { throw VaultError(.internalFailure, "retokenize: vault private keys were not loaded") }
        openedKeys.merge(try keyring.unsealDataKeys(session, ids: wanted).opened) { $1 }
        failedKeys.formUnion(wanted.subtracting(openedKeys.keys))
    }

    /// A data key of this worker for `uses` more encryptions: sealed to the active vault key
    /// and committed before any entry uses it.
    private mutating func ensureDataKey(_ session: PostgresSession, uses: Int) throws {
        if let key = dataKey, key.uses + uses <= DataKeyLimit.encryptions { return }
        let next = try session.execute("SELECT nextval(pg_get_serial_sequence('public.vault_data_keys', 'dek_id')) AS id")
        guard let id = next.rows.first?["id"].int else {
            throw VaultError(.schemaMissing, "vault_data_keys has no id sequence: run etl migrate")
        }
        let key = SecureBytes.random(count: 32)
        let sealed = try VaultFormat.sealDataKey(key, dekID: id, vaultKeyVersion: context.vaultKeyVersion, to: context.vaultPublicKey)
        try session.execute(
            "INSERT INTO public.vault_data_keys (dek_id, vault_key_version, encapsulated_key, sealed_key) VALUES ($1, $2, $3, $4)",
            [.int(id), .int(Int64(context.vaultKeyVersion)), .bytea(sealed.encapsulatedKey), .bytea(sealed.sealedKey)]
        )
        dataKey = (id, key, 0)
    }
}
