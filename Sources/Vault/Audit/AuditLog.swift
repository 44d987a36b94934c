public import Postgres

/// Reading and appending `vault_audit` (SPEC §4). Rows are inserted with only the
/// caller-supplied columns; the database trigger assigns seq, time and both hashes.
public enum AuditLog {
    /// Appends a row as the current session user (`fetchde.audit_append`, which folds waiting
    /// denials in first). Call it inside the transaction whose work it records, before that
    /// work is shown to anyone: if it fails, the transaction rolls back.
    public static func append(
        _ session: PostgresSession, action: String, outcome: String, reason: String, detail: String
    ) throws {
        try session.execute(
            "SELECT fetchde.audit_append($1, $2, $3, $4)",
            [.text(action), .text(outcome), .text(reason), .text(detail)]
        )
    }

    /// Records a denied attempt through `fetchde.audit_denied`, which every login may call
    /// (even one that cannot become `vault_admin`): it lands in an inbox the next audited
    /// command folds into the chain (``fold(_:)``), so recording takes no lock the chain needs.
    /// Best effort: a failure to record is returned, never thrown, so the original denial is
    /// what the operator sees.
    @discardableResult
    public static func recordDenial(
        _ session: PostgresSession, action: String, reason: String, detail: String
    ) -> (any Error)? {
        do {
            try session.execute(
                "SELECT fetchde.audit_denied($1, $2, $3)",
                [.text(action), .text(reason), .text(detail)]
            )
            return nil
        } catch {
            return error
        }
    }

    /// Moves waiting denials into the chain (as `vault_admin`), so a listing shows them.
    public static func fold(_ session: PostgresSession) throws {
        try session.execute("SELECT fetchde.audit_fold()")
    }

    /// Reads rows with `seq` greater than `after`, in `seq` order, at most `limit`.
    /// Only rows matching `filter` when one is given.
    public static func page(
        _ session: PostgresSession, after: Int64, limit: Int, filter: AuditFilter? = nil
    ) throws -> [AuditRecord] {
        let result = try filter.map { filter in
            try session.execute(
                """
                SELECT seq, at_us, actor, action, outcome, reason, detail, prev_hash, row_hash
                FROM public.vault_audit WHERE seq > $1 AND \(AuditFilter.condition) ORDER BY seq LIMIT $2
                """,
                [.int(after), .int(Int64(limit))] + filter.parameters
            )
        } ?? session.execute(
            """
            SELECT seq, at_us, actor, action, outcome, reason, detail, prev_hash, row_hash
            FROM public.vault_audit WHERE seq > $1 ORDER BY seq LIMIT $2
            """,
            [.int(after), .int(Int64(limit))]
        )
        return result.rows.map { row in
            AuditRecord(
                seq: Int64(row["seq"].int ?? 0),
                atMicros: Int64(row["at_us"].int ?? 0),
                actor: row["actor"].string ?? "",
                action: row["action"].string ?? "",
                outcome: row["outcome"].string ?? "",
                reason: row["reason"].string ?? "",
                detail: row["detail"].string ?? "",
                prevHash: row["prev_hash"].bytes ?? [],
                rowHash: row["row_hash"].bytes ?? []
            )
        }
    }

    /// Calls `body` with every row in `seq` order, a page at a time, so a long log never has
    /// to fit in memory. `body` returns false to stop early.
    public static func forEach(
        _ session: PostgresSession, pageSize: Int = 2000, _ body: (AuditRecord) throws -> Bool
    ) throws {
        var after = Int64.min
        while true {
            let rows = try page(session, after: after, limit: pageSize)
            for row in rows {
                guard try body(row) else { return }
            }
            guard rows.count == pageSize, let last = rows.last else { return }
            after = last.seq
        }
    }

    /// Verifies the whole chain; returns the verifier's final state.
    public static func verify(_ session: PostgresSession) throws -> AuditChain.Verifier {
        var verifier = AuditChain.Verifier()
        try forEach(session) { verifier.feed($0) }
        return verifier
    }
}
