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
            [.text(VaultSQL.textArray(tokens))]
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
                .notAuthorized,
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
                [.text(VaultSQL.textArray(missing[start..<end]))]
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

/// What one entry opened to.
enum OpenedEntry: Sendable {
    case value(field: String, original: String)
    /// Failed authentication (tampered, moved, or under a DEK that failed).
    case integrity(field: String)
    /// Opened, but the original does not hash to its token: planted by a writer.
    case mismatch(field: String)

    var field: String {
        switch self {
        case .value(let field, _), .integrity(let field), .mismatch(let field): field
        }
    }
}

/// Decrypts fetched batches on background threads (in any order: batches are independent),
/// so the connection fetches the next batch meanwhile; ``finish()`` waits and returns every
/// opened entry by token.
final class RevealPipeline: Sendable {
    private let queue = DispatchQueue(label: "fetchde.vault.reveal", attributes: .concurrent)
    private let group = DispatchGroup()
    private let opened = Mutex<[String: [OpenedEntry]]>([:])

    init(expected: Int) {
        opened.withLock { $0.reserveCapacity(expected) }
    }

    func decrypt(_ batch: FetchedBatch) {
        queue.async(group: group) { [self] in
            let part = Self.decrypt(batch)
            opened.withLock { all in
                for (token, entries) in part { all[token, default: []] += entries }
            }
        }
    }

    func finish() -> [String: [OpenedEntry]] {
        group.wait()
        return opened.withLock { $0 }
    }

    /// Opens every entry of a batch with the AAD naming its (field, token, DEK id).
    static func decrypt(_ batch: FetchedBatch) -> [String: [OpenedEntry]] {
        var out: [String: [OpenedEntry]] = [:]
        out.reserveCapacity(batch.entries.count)
        for row in batch.entries.rows {
            guard let token = row[0].string else { continue }
            let field = row[1].string ?? ""
            let entry: OpenedEntry
            if let value = open(token: token, field: field, dekID: row[2].int, ciphertext: row[3].bytes, keys: batch.dataKeys) {
                let tokenizer = row[4].int.flatMap { batch.tokenizers[Int($0)] }
                if let kind = PIIField(rawValue: field), tokenizer?.token(value, field: kind) == token {
                    entry = .value(field: field, original: value)
                } else {
                    entry = .mismatch(field: field)
                }
            } else {
                entry = .integrity(field: field)
            }
            out[token, default: []].append(entry)
        }
        return out
    }

    private static func open(token: String, field name: String, dekID: Int64?, ciphertext: [UInt8]?, keys: [Int64: SecureBytes]) -> String? {
        guard let field = PIIField(rawValue: name), let dekID, let ciphertext, let key = keys[dekID] else { return nil }
        let aad = VaultFormat.entryAAD(field: field, token: token, dekID: dekID)
        guard let plaintext = try? AES256GCM.open(ciphertext, key: key, aad: aad) else { return nil }
        return String(decoding: plaintext, as: UTF8.self)
    }
}

extension RevealResult {
    /// The result in request order: each token's values (by field), or why it has none.
    init(tokens: [String], opened: [String: [OpenedEntry]], forgotten: Set<String>) {
        self.init(values: [], problems: [])
        values.reserveCapacity(tokens.count)
        for token in tokens {
            guard var entries = opened[token] else {
                if forgotten.contains(token) {
                    problems.append(RevealProblem(kind: .forgotten, token: token, message: "token \(token) was forgotten (vault forget): its original is gone"))
                } else {
                    problems.append(RevealProblem(kind: .unknown, token: token, message: "unknown token \(token)"))
                }
                continue
            }
            if entries.count > 1 { entries.sort { $0.field < $1.field } }
            for entry in entries {
                switch entry {
                case .value(let field, let original):
                    values.append(RevealedValue(token: token, field: field, original: original))
                case .integrity(let field):
                    problems.append(RevealProblem(kind: .integrity, token: token, message: "integrity error: the \(field) entry of token \(token) failed authentication (tampered or moved); not revealed"))
                case .mismatch(let field):
                    problems.append(RevealProblem(kind: .integrity, token: token, message: "integrity error: the \(field) entry of token \(token) holds an original that does not hash to the token (planted by a writer); not revealed"))
                }
            }
        }
    }
}
