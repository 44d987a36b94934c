import Postgres
import VaultFormat

/// `vault quarantine purge` (SPEC §5): deletes quarantined messages older than a retention
/// period; their bodies cannot be recovered afterwards. Audited (count and age, never a body)
/// in the same transaction.
public struct QuarantinePurger: Sendable {
    public var environment: VaultEnvironment

    public init(environment: VaultEnvironment) { self.environment = environment }

    /// Deletes what was quarantined more than `olderThanSeconds` ago; returns how many.
    public func purge(olderThanSeconds: Int64, reason rawReason: String?) async throws -> Int {
        let detail = "older than \(olderThanSeconds) s"
        let reason = try await VaultDatabase.requireReason(rawReason, environment, action: "quarantine-purge", detail: "\(detail)")
        return try await VaultDatabase.audited(environment, action: "quarantine-purge", reason: reason, detail: detail) { session in
            return try session.transaction {
                let purged = try session.execute(
                    "DELETE FROM public.etl_quarantine WHERE quarantined_at < now() - make_interval(secs => $1::double precision)",
                    [.int(olderThanSeconds)]
                ).affectedRows
                try AuditLog.append(session, action: "quarantine-purge", outcome: "purged", reason: reason, detail: "\(purged) messages \(detail)")
                return purged
            }
        }
    }
}
