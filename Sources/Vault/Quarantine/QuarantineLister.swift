import Postgres

/// One quarantined message as `vault quarantine list` shows it: never its body.
public struct QuarantinedMessage: Sendable, Equatable, Codable {
    public let id: Int64
    /// When it was first quarantined (RFC 3339, UTC).
    public let quarantinedAt: String
    public let messageID: String
    public let reason: String
    /// The body's size in bytes (the ciphertext less nonce and tag).
    public let bodyBytes: Int
    /// How often the pipeline quarantined it (SQS redelivered it meanwhile).
    public let timesSeen: Int

    enum CodingKeys: String, CodingKey {
        case id, reason
        case quarantinedAt = "quarantined_at", messageID = "message_id", bodyBytes = "body_bytes", timesSeen = "times_seen"
    }
}

/// What `vault quarantine list` found: the messages in id order and their count by reason.
public struct QuarantineListing: Sendable, Codable {
    public var messages: [QuarantinedMessage]
    public var countsByReason: [String: Int]

    enum CodingKeys: String, CodingKey {
        case messages
        case countsByReason = "counts_by_reason"
    }
}

/// `vault quarantine list` (SPEC §5): what waits in `etl_quarantine`, read as `vault_admin`;
/// nothing is decrypted, so nothing is audited.
public struct QuarantineLister: Sendable {
    public var environment: VaultEnvironment

    public init(environment: VaultEnvironment) { self.environment = environment }

    /// - Parameters:
    ///   - since: only messages quarantined at or after this time (a timestamp PostgreSQL reads).
    ///   - reasonMatches: only reasons containing this text, ignoring case.
    public func list(since: String?, reasonMatches: String?) async throws -> QuarantineListing {
        try await VaultDatabase.withSession(environment) { session in
            try VaultDatabase.requireSchema(session)
            try VaultDatabase.assumeVaultAdmin(session, action: "quarantine-list", reason: "", detail: "")
            let rows = try session.execute(
                """
                SELECT quarantine_id, to_char(quarantined_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS at,
                       message_id, reason, greatest(octet_length(body_ciphertext) - \(QuarantineSQL.sealingOverhead), 0) AS bytes,
                       seen_count
                FROM public.etl_quarantine
                WHERE ($1::timestamptz IS NULL OR quarantined_at >= $1::timestamptz)
                  AND ($2::text IS NULL OR strpos(lower(reason), lower($2::text)) > 0)
                ORDER BY quarantine_id
                """,
                [.optional(since), .optional(reasonMatches)]
            ).rows
            var listing = QuarantineListing(messages: [], countsByReason: [:])
            listing.messages.reserveCapacity(rows.count)
            for row in rows {
                let message = QuarantinedMessage(
                    id: row[0].int ?? 0, quarantinedAt: row[1].string ?? "", messageID: row[2].string ?? "",
                    reason: row[3].string ?? "", bodyBytes: Int(row[4].int ?? 0), timesSeen: Int(row[5].int ?? 1)
                )
                listing.messages.append(message)
                listing.countsByReason[message.reason, default: 0] += 1
            }
            return listing
        }
    }
}

/// SQL shared by the quarantine commands.
enum QuarantineSQL {
    /// AES-256-GCM's nonce and tag around a sealed body (`VaultFormat`: nonce ‖ ciphertext ‖ tag).
    static let sealingOverhead = 28

    /// The rows `ids` select (or every row when nil), oldest first. Not locked: locking every
    /// row of a large replay costs a write per row, and two replays of one message still make
    /// one row (the loader is idempotent on the message id).
    static func select(ids: [Int64]?) -> (sql: String, parameters: [PostgresValue]) {
        let columns = """
            SELECT quarantine_id, message_id, dek_id, body_ciphertext,
                   (extract(epoch FROM sent_at) * 1000)::bigint AS sent_ms, receive_count
            FROM public.etl_quarantine
            """
        guard let ids else { return (columns + " ORDER BY quarantine_id", []) }
        return (columns + " WHERE quarantine_id = ANY($1::bigint[]) ORDER BY quarantine_id", [.int64Array(ids)])
    }

    /// How many rows ``select(ids:)`` selects.
    static func count(ids: [Int64]?) -> (sql: String, parameters: [PostgresValue]) {
        let query = select(ids: ids)
        return ("SELECT count(*) FROM (\(query.sql)) AS selected", query.parameters)
    }

    /// The ids among `ids` that name no quarantined message.
    static func unknown(_ ids: [Int64], found: Set<Int64>) -> [Int64] {
        ids.filter { !found.contains($0) }
    }
}
