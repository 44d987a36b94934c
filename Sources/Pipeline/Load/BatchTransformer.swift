import PIICrypto
import Postgres
import SQS

/// Message → rows: validates, tokenizes, encrypts the originals of new values and the bodies
/// of invalid messages. Pure CPU work; the caller owns the DEK and the seen-values cache.
public struct BatchTransformer: Sendable {
    /// The date stored in `create_date` for messages without an SQS `SentTimestamp`.
    public let fallbackDate: String

    /// `fallbackDate` defaults to today (UTC).
    public init(fallbackDate: String? = nil) {
        self.fallbackDate = fallbackDate ?? CivilDate.today()
    }

    /// Transforms `messages` with `keys` and `dataKey`. `alreadyStored` answers whether this
    /// process has already committed a vault entry for a (field, token).
    public func transform(
        _ messages: [IncomingMessage],
        keys: ActiveKeys,
        dataKey: DataKey,
        alreadyStored: (VaultKey) -> Bool
    ) throws -> PreparedBatch {
        var batch = PreparedBatch(tokenKeyVersion: keys.tokenKeyVersion)
        batch.subjectKeyCheck = keys.subjectHasher?.keyCheck
        batch.messageCount = messages.count
        batch.logins.reserveCapacity(messages.count)
        var batchKeys = Set<VaultKey>()
        let tokenVersion = PostgresValue.int(Int64(keys.tokenKeyVersion))
        let dekID = PostgresValue.int(dataKey.id)

        for message in messages {
            // A body over SQS's maximum is not parsed: it cannot be a login message, and the
            // parser's work should be bounded by what SQS can deliver.
            let parsed: Result<LoginMessage, InvalidMessage> =
                message.quarantineReason != nil
                ? .failure(InvalidMessage(reason: .notJSON))
                : message.body.count > IncomingMessage.maxBodyBytes
                ? .failure(InvalidMessage(reason: .tooLarge))
                : message.body.withUnsafeBufferPointer { LoginMessageParser.parse(utf8: $0) }
            switch parsed {
            case .success(let login):
                let ipToken = keys.tokenizer.token(login.ip, field: .ip)
                let deviceToken = keys.tokenizer.token(login.deviceID, field: .deviceID)
                let date = message.sentTimestampMilliseconds.map(CivilDate.utcDate(milliseconds:)) ?? fallbackDate
                batch.loginMessageIDs.append(message.messageID)
                if let hasher = keys.subjectHasher { batch.loginSubjects.append(hasher.digest(login.userID)) }
                batch.loginSentMilliseconds.append(message.sentTimestampMilliseconds)
                batch.logins.append([
                    .text(message.messageID), .text(login.userID), .optional(login.deviceType),
                    .text(ipToken), .text(deviceToken), .optional(login.locale),
                    login.appVersion.map { .int(Int64($0)) } ?? .null, .optional(login.appVersionRaw),
                    .text(date), tokenVersion,
                ])
                for (field, token, original) in [(PIIField.ip, ipToken, login.ip), (.deviceID, deviceToken, login.deviceID)] {
                    let key = VaultKey(field: field, token: token)
                    guard !alreadyStored(key), batchKeys.insert(key).inserted else { continue }
                    let ciphertext = try dataKey.sealEntry(Array(original.utf8), field: field, token: token)
                    batch.vaultKeys.append(key)
                    batch.vaultEntries.append([.text(field.rawValue), .text(token), tokenVersion, dekID, .bytea(ciphertext)])
                }
            case .failure(let invalid):
                let reason = message.quarantineReason ?? invalid.description
                let ciphertext = try dataKey.sealQuarantined(message.body, messageID: message.messageID)
                batch.quarantined.append([
                    .text(message.messageID), .text(reason), dekID, .bytea(ciphertext),
                    message.sentTimestampMilliseconds.map { .text(Self.timestamp(milliseconds: $0)) } ?? .null,
                    message.receiveCount.map { .int(Int64($0)) } ?? .null,
                ])
            }
        }
        return batch
    }

    /// A `timestamptz` literal (`YYYY-MM-DD HH:MM:SS.mmm+00`) for epoch milliseconds.
    static func timestamp(milliseconds: Int64) -> String {
        let whole = Int64((Double(milliseconds) / 1000).rounded(.down))
        let millis = milliseconds - whole * 1000
        let secondsOfDay = ((whole % 86_400) + 86_400) % 86_400
        let h = secondsOfDay / 3600, m = (secondsOfDay % 3600) / 60, s = secondsOfDay % 60
        func pad(_ v: Int64, _ width: Int) -> String {
            let digits = String(v)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        let date = CivilDate.utcDate(milliseconds: milliseconds)
        return "\(date) \(pad(h, 2)):\(pad(m, 2)):\(pad(s, 2)).\(pad(millis, 3))+00"
    }
}
