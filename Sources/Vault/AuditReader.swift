import Postgres

/// `vault audit`: reads (and optionally verifies) the audit log as `vault_admin`.
public struct AuditReader: Sendable {
    public var environment: VaultEnvironment

    public init(environment: VaultEnvironment) { self.environment = environment }

    /// Calls `body` with the rows in `seq` order, one page (up to 2,000 rows) at a time, so a
    /// long log never has to fit in memory.
    /// With `filter`, only the rows it matches.
    public func forEachPage(filter: AuditFilter? = nil, _ body: @escaping @Sendable ([AuditRecord]) -> Void) async throws {
        try await VaultDatabase.withSession(environment) { session in
            try VaultDatabase.requireSchema(session)
            try VaultDatabase.assumeVaultAdmin(session, action: "audit", reason: "", detail: "")
            try AuditLog.fold(session)
            var after = Int64.min
            while true {
                let rows = try AuditLog.page(session, after: after, limit: 2000, filter: filter)
                if !rows.isEmpty { body(rows) }
                guard rows.count == 2000, let last = rows.last else { return }
                after = last.seq
            }
        }
    }

    /// Recomputes the hash chain over the whole log (one consistent snapshot).
    public func verify() async throws -> AuditChain.Verifier {
        return try await VaultDatabase.withSession(environment) { session in
            try VaultDatabase.requireSchema(session)
            try VaultDatabase.assumeVaultAdmin(session, action: "audit", reason: "", detail: "verify")
            try AuditLog.fold(session)
            return try session.transaction {
                try session.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                return try AuditLog.verify(session)
            }
        }
    }
}
