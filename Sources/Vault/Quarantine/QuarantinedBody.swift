import PIICrypto
import VaultCrypto
import Postgres
import VaultFormat

/// A quarantined message read back and opened: what `show` prints and `replay` loads.
struct OpenedQuarantine: Sendable {
    let id: Int64
    let messageID: String
    /// The raw body, or nil when its ciphertext or data key failed authentication.
    let body: [UInt8]?
    let sentTimestampMilliseconds: Int64?
    let receiveCount: Int?
}

extension OpenedQuarantine {
    /// Reads the rows `ids` select (all when nil) and opens each body (see ``open(_:dataKeys:)``).
    static func read(_ session: PostgresSession, ids: [Int64]?, keyring: VaultKeyring) throws -> [OpenedQuarantine] {
        let query = QuarantineSQL.select(ids: ids)
        let rows = try session.execute(query.sql, query.parameters).rows
        let dataKeys = try keyring.unsealDataKeys(session, ids: Set(rows.compactMap { $0[2].int })).opened
        return open(rows, dataKeys: dataKeys)
    }

    /// Opens each body of `rows` (``QuarantineSQL/select(ids:)``'s columns) with its data key
    /// and the associated data naming its message id and data key. CPU work only: callers
    /// may run it off the connection's thread.
    static func open(_ rows: [PostgresRow], dataKeys: [Int64: SecureBytes]) -> [OpenedQuarantine] {
        rows.map { row in
            let id = row[0].int ?? 0
            let messageID = row[1].string ?? ""
            var body: [UInt8]?
            if let dekID = row[2].int, let key = dataKeys[dekID], let sealed = row[3].bytes {
                body = try? AES256GCM.open(sealed, key: key, aad: VaultFormat.quarantineAAD(messageID: messageID, dekID: dekID))
            }
            return OpenedQuarantine(
                id: id, messageID: messageID, body: body,
                sentTimestampMilliseconds: row[4].int, receiveCount: row[5].int.map(Int.init)
            )
        }
    }
}

/// A body `vault quarantine show` printed.
public struct ShownQuarantine: Sendable, Equatable, Codable {
    public let id: Int64
    public let messageID: String
    /// The body as text (invalid UTF-8 replaced by U+FFFD).
    public let body: String
    /// The exact bytes, base64.
    public let bodyBase64: String

    enum CodingKeys: String, CodingKey {
        case id, body
        case messageID = "message_id", bodyBase64 = "body_base64"
    }
}
