import Dispatch
import PIICrypto
import Postgres
import Synchronization
import VaultFormat

/// One batch of entries fetched inside the transaction, with the data keys it needs and the
/// token keys that check each original against its token.
struct FetchedBatch: Sendable {
    /// Columns: token, field, dek_id, ciphertext, token_key_version.
    let entries: PostgresResult
    let dataKeys: [Int64: SecureBytes]
    let tokenizers: [Int: Tokenizer]
}

/// The database side of a reveal (runs on the connection's thread, inside the transaction):
/// one query over every requested token, read through a cursor a batch at a time, so the
/// planner picks one plan for the whole request (a hash join, or index lookups on a big
/// table) instead of one scan per batch; each data key is unsealed the first time a row
/// needs it.
struct RevealFetcher {
    static let cursor = "fetchde_reveal"

    let keyring: VaultKeyring
    let tokenKeys: KeyDirectory
    let batchSize: Int
    /// Token keys by version, each read once: an original must hash to its token under the
    /// entry's version, or a writer planted it (SPEC §4).
    private var tokenizers: [Int: Tokenizer] = [:]
    /// Each DEK unsealed once; DEKs that failed authentication are absent and open nothing.
    private var dataKeys: [Int64: SecureBytes] = [:]
    private var seen = Set<Int64>()
    private(set) var dataKeysUnsealed = 0
    /// Tokens that have at least one entry.
    private(set) var found = Set<String>()

    init(keyring: VaultKeyring, tokenKeys: KeyDirectory, batchSize: Int) {
        self.keyring = keyring
        self.tokenKeys = tokenKeys
        self.batchSize = batchSize
    }

    /// Declares the cursor over the entries of `tokens` (canonical, distinct).
    mutating func open(_ session: PostgresSession, tokens: [String]) throws {
        found.reserveCapacity(tokens.count)
        // Every row will be read: plan for total time, not for the first rows.
        try session.execute("SET LOCAL cursor_tuple_fraction = 1.0")
        try session.execute(
            """
            DECLARE \(Self.cursor) NO SCROLL CURSOR FOR
            SELECT p.token, p.field, p.dek_id, p.ciphertext, p.token_key_version
            FROM unnest($1::text[]) AS wanted(token) JOIN public.pii_vault p ON p.token = wanted.token AND p.\(VaultSQL.anyField)
            WHERE NOT EXISTS (SELECT 1 FROM public.vault_forgotten f WHERE f.field = p.field AND f.token = p.token)
            """,
            [.textArray(tokens)]
        )
    }

    /// The next batch of entries, or nil when the cursor is exhausted.
    mutating func next(_ session: PostgresSession) throws -> FetchedBatch? {
        let entries = try session.execute("FETCH FORWARD \(batchSize) FROM \(Self.cursor)")
        guard entries.count > 0 else {
            try session.execute("CLOSE \(Self.cursor)")
            return nil
        }
        var wanted = Set<Int64>()
        for row in entries.rows {
            guard let token = row[0].string, let dekID = row[2].int else { continue }
            found.insert(token)
            if !seen.contains(dekID) { wanted.insert(dekID) }
            if let version = row[4].int.map(Int.init), tokenizers[version] == nil {
                try loadTokenizer(version: version)
            }
        }
        try unseal(session, wanted)
        return FetchedBatch(entries: entries, dataKeys: dataKeys, tokenizers: tokenizers)
    }

    private mutating func loadTokenizer(version: Int) throws {
        guard tokenKeys.tokenKeyExists(version: version) else {
            throw VaultError(
                .keyUnavailable,
                "no token key for version \(version) (\(tokenKeys.tokenKeyPath(version: version))): reveal checks every original against its token"
            )
        }
        tokenizers[version] = Tokenizer(rootKey: try tokenKeys.readTokenKey(version: version), version: version)
    }

    /// Which of `missing` (tokens without entries) were forgotten.
    func forgotten(_ session: PostgresSession, among missing: [String]) throws -> Set<String> {
        var forgotten = Set<String>()
        var start = 0
        while start < missing.count {
            let end = min(start + batchSize, missing.count)
            let rows = try session.execute(
                "SELECT DISTINCT token FROM public.vault_forgotten WHERE \(VaultSQL.anyField) AND token = ANY($1::text[])",
                [.textArray(missing[start..<end])]
            )
            for row in rows.rows { if let token = row[0].string { forgotten.insert(token) } }
            start = end
        }
        return forgotten
    }

    /// Unseals the DEKs not seen yet, each once.
    private mutating func unseal(_ session: PostgresSession, _ wanted: Set<Int64>) throws {
        guard !wanted.isEmpty else { return }
        seen.formUnion(wanted)
        let unsealed = try keyring.unsealDataKeys(session, ids: wanted)
        dataKeysUnsealed += unsealed.found
        dataKeys.merge(unsealed.opened) { $1 }
    }
}
