import Logging
import VaultFormat
import PIICrypto
import Postgres

/// One login of a data subject with the originals of its tokens (`vault subject export`).
public struct SubjectLogin: Sendable, Equatable, Codable {
    public let userID: String
    public let loginID: Int64
    public let messageID: String?
    public let createDate: String?
    public let ingestedAt: String?
    public let deviceType: String?
    public let locale: String?
    public let appVersion: String?
    public let maskedIP: String?
    public let maskedDeviceID: String?
    /// The original `ip` (nil when it is not available: see `ipStatus`).
    public let ip: String?
    public let deviceID: String?
    /// `revealed`, `forgotten` (crypto-shredded), `unknown` (no entry) or `integrity-error`.
    public let ipStatus: String
    public let deviceIDStatus: String
}

/// What an export produced.
public struct SubjectExportResult: Sendable {
    public var logins: [SubjectLogin]
    /// Requested subjects without any login.
    public var subjectsWithoutLogins: Int
    /// Entries that failed authentication or do not hash to their token (never printed).
    public var integrityProblems: [RevealProblem]
}

/// `vault subject export` (SPEC §5, an access request): every login of the subjects with the
/// originals of its `ip` and `device_id`, in one transaction with the audit row first
/// (subject hashes and tokens, never a user id or an original), every original checked
/// against its token as in a reveal.
public struct SubjectExporter: Sendable {
    public var environment: VaultEnvironment

    public init(environment: VaultEnvironment) { self.environment = environment }

    public func export(userIDs raw: [String], reason rawReason: String?) async throws -> SubjectExportResult {
        let reason = try await VaultDatabase.requireReason(rawReason, environment, action: "subject-export", detail: "\(raw.count) subjects")
        let ids = try SubjectKeys.userIDs(raw)
        let environment = self.environment
        let result = try await VaultDatabase.audited(environment, action: "subject-export", reason: reason, detail: "\(ids.count) subjects") { session -> SubjectExportResult in
            let keyring = try VaultKeyring.load(session, environment: environment)
            let hasher = try SubjectKeys.hasher(session, environment: environment)
            return try session.transaction {
                let rows = try session.execute(
                    """
                    SELECT user_id, login_id, message_id, create_date::text AS create_date,
                           to_char(ingested_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS ingested_at,
                           device_type, locale, app_version_raw, masked_ip, masked_device_id
                    FROM public.user_logins WHERE user_id = ANY($1::text[])
                    ORDER BY user_id, create_date, login_id
                    """,
                    [.text(SubjectKeys.quotedArray(ids))]
                ).rows
                var tokens: [String] = []
                var seen = Set<String>()
                for row in rows {
                    for column in ["masked_ip", "masked_device_id"] {
                        if let token = row[column].string.flatMap(VaultToken.normalize), seen.insert(token).inserted {
                            tokens.append(token)
                        }
                    }
                }
                let subjects = ids.map(hasher.hash).joined(separator: ",")
                try AuditLog.append(
                    session, action: "subject-export", outcome: "granted", reason: reason,
                    detail: "subjects \(subjects); logins \(rows.count); tokens \(tokens.joined(separator: ","))"
                )
                var fetcher = RevealFetcher(keyring: keyring, tokenKeys: environment.keys, batchSize: 10_000)
                let pipeline = RevealPipeline(expected: tokens.count)
                if !tokens.isEmpty {
                    try fetcher.open(session, tokens: tokens)
                    while let batch = try fetcher.next(session) { pipeline.decrypt(batch) }
                }
                let opened = pipeline.finish()
                let forgotten = try fetcher.forgotten(session, among: tokens.filter { !fetcher.found.contains($0) })
                let revealed = RevealResult(tokens: tokens, opened: opened, forgotten: forgotten)
                var originals: [String: String] = [:]
                for value in revealed.values { originals[value.field + "\u{0}" + value.token] = value.original }
                var status: [String: String] = [:]
                for problem in revealed.problems {
                    guard let token = problem.token else { continue }
                    status[token] = problem.kind == .integrity ? "integrity-error" : problem.kind.rawValue
                }
                func lookup(_ field: PIIField, _ token: String?) -> (String?, String) {
                    guard let token else { return (nil, "unknown") }
                    if let original = originals[field.rawValue + "\u{0}" + token] { return (original, "revealed") }
                    return (nil, status[token] ?? "unknown")
                }
                let broken = revealed.problems.filter { $0.kind == .integrity }
                if !broken.isEmpty {
                    try AuditLog.append(
                        session, action: "subject-export", outcome: "integrity-error", reason: reason,
                        detail: broken.compactMap(\.token).joined(separator: ",")
                    )
                }
                var found = Set<String>()
                let logins = rows.map { row -> SubjectLogin in
                    let userID = row["user_id"].string ?? ""
                    found.insert(userID)
                    let ip = lookup(.ip, row["masked_ip"].string)
                    let device = lookup(.deviceID, row["masked_device_id"].string)
                    return SubjectLogin(
                        userID: userID, loginID: row["login_id"].int ?? 0, messageID: row["message_id"].string,
                        createDate: row["create_date"].string, ingestedAt: row["ingested_at"].string,
                        deviceType: row["device_type"].string, locale: row["locale"].string,
                        appVersion: row["app_version_raw"].string, maskedIP: row["masked_ip"].string,
                        maskedDeviceID: row["masked_device_id"].string, ip: ip.0, deviceID: device.0,
                        ipStatus: ip.1, deviceIDStatus: device.1
                    )
                }
                return SubjectExportResult(
                    logins: logins, subjectsWithoutLogins: ids.count - found.count, integrityProblems: broken
                )
            }
        }
        environment.logger.debug("subject export committed", metadata: [LogKey.subjects: "\(ids.count)", LogKey.logins: "\(result.logins.count)"])
        return result
    }
}
