import Dispatch
import PIICrypto
import VaultCrypto
import Postgres
import Synchronization
import VaultFormat

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
