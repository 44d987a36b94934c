public import PIICrypto
public import Postgres

/// A batch turned into rows: what one database transaction writes.
public struct PreparedBatch: Sendable {
    /// `user_logins` rows, one per valid message.
    public var logins: [[PostgresValue]] = []
    /// Message ids of the valid messages, in `logins` order.
    public var loginMessageIDs: [String] = []
    /// Keyed hashes of the logins' user ids, in `logins` order (empty without a subject key).
    public var loginSubjects: [SubjectDigest] = []
    /// SQS `SentTimestamp` of each login's message (nil: file ingest), in `logins` order.
    public var loginSentMilliseconds: [Int64?] = []
    /// Check value of the subject key the hashes were made with (nil: none).
    public var subjectKeyCheck: String?
    /// New `pii_vault` entries (each distinct (field, token) of the batch this process has
    /// not stored before).
    public var vaultEntries: [[PostgresValue]] = []
    /// The (field, token) keys of `vaultEntries`, to remember once committed.
    public var vaultKeys: [VaultKey] = []
    /// `etl_quarantine` rows of the invalid messages.
    public var quarantined: [[PostgresValue]] = []
    /// Messages in the batch.
    public var messageCount = 0
    /// The token key version every token of the batch was computed with: the commit checks
    /// it is still the active one.
    public var tokenKeyVersion: Int

    public init(tokenKeyVersion: Int) {
        self.tokenKeyVersion = tokenKeyVersion
    }
}

/// The identity of a vault entry.
public struct VaultKey: Hashable, Sendable {
    public let field: PIIField
    public let token: String
}

/// What committing a batch did.
public struct BatchOutcome: Sendable, Equatable {
    /// New `user_logins` rows.
    public var inserted = 0
    /// Valid messages whose MessageId was already stored (redelivery).
    public var duplicates = 0
    /// Invalid messages written to `etl_quarantine` (a redelivered one counts once).
    public var quarantined = 0
    /// `quarantined` by reason label (``QuarantineReason/label(of:)``).
    public var quarantinedByReason: [String: Int] = [:]
    /// New vault entries.
    public var vaultEntries = 0
    /// Valid logins dropped because their subject was erased after the message was sent.
    public var erasedDropped = 0

    public init() {}

    /// Adds another outcome's counts.
    public mutating func add(_ other: BatchOutcome) {
        inserted += other.inserted
        duplicates += other.duplicates
        quarantined += other.quarantined
        quarantinedByReason.merge(other.quarantinedByReason, uniquingKeysWith: +)
        vaultEntries += other.vaultEntries
        erasedDropped += other.erasedDropped
    }
}
