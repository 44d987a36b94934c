import Logging
import VaultFormat
import Postgres

/// What `vault forget` did.
public struct ForgetResult: Sendable, Equatable {
    public let token: String
    /// The fields whose entries were deleted now (empty when it was already forgotten).
    public let fields: [String]
    public var alreadyForgotten: Bool { fields.isEmpty }
}

/// `vault forget` (SPEC §5): crypto-shredding of one token's vault entries. In one
/// transaction: a lock that orders it after every batch storing entries, the audit row, the
/// DELETE from `pii_vault`, the marker in `vault_forgotten`.
/// The token itself stays in `user_logins`, so analytics keep their joins.
public struct Forgetter: Sendable {
    public var environment: VaultEnvironment

    public init(environment: VaultEnvironment) { self.environment = environment }

    public func forget(token raw: String, reason rawReason: String?) async throws -> ForgetResult {
        let token = VaultToken.normalize(raw)
        let reason = try await VaultDatabase.requireReason(rawReason, environment, action: "forget", detail: "\(token ?? "malformed token")")
        guard let token else { throw VaultError(.invalidToken, VaultToken.describeMalformed(raw)) }

        let result = try await VaultDatabase.audited(environment, action: "forget", reason: reason, detail: token) { session -> ForgetResult in
            return try session.transaction {
                // Waits for the transactions storing entries now (an etl batch holding this
                // value, uncommitted) and holds new ones until the tombstone is committed;
                // those then drop it (fetchde.refuse_forgotten): the value cannot come back.
                try session.execute("LOCK TABLE public.pii_vault IN SHARE ROW EXCLUSIVE MODE")
                let entries = try session.execute(
                    "SELECT field FROM public.pii_vault WHERE \(VaultSQL.anyField) AND token = $1 ORDER BY field FOR UPDATE", [.text(token)]
                )
                let fields = entries.rows.compactMap { $0["field"].string }
                if fields.isEmpty {
                    let earlier = try session.execute(
                        "SELECT 1 FROM public.vault_forgotten WHERE \(VaultSQL.anyField) AND token = $1 LIMIT 1", [.text(token)]
                    )
                    guard earlier.count > 0 else { throw VaultError(.invalidToken, "unknown token \(token)") }
                    try AuditLog.append(session, action: "forget", outcome: "already-forgotten", reason: reason, detail: token)
                    return ForgetResult(token: token, fields: [])
                }
                try AuditLog.append(session, action: "forget", outcome: "forgotten", reason: reason, detail: token)
                try session.execute("DELETE FROM public.pii_vault WHERE \(VaultSQL.anyField) AND token = $1", [.text(token)])
                for field in fields {
                    try session.execute(
                        "INSERT INTO public.vault_forgotten (field, token) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                        [.text(field), .text(token)]
                    )
                }
                return ForgetResult(token: token, fields: fields)
            }
        }
        environment.logger.debug("token forgotten", metadata: [LogKey.token: "\(token)", LogKey.entries: "\(result.fields.count)"])
        return result
    }
}
