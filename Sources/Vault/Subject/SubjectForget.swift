import Logging
import VaultFormat
import PIICrypto
import Postgres

/// What `vault subject forget` did.
public struct SubjectForgetResult: Sendable, Equatable {
    public let subjects: Int
    /// `user_logins` rows deleted.
    public let loginsDeleted: Int
    /// Originals crypto-shredded (no remaining login references them).
    public let originalsShredded: Int
    /// Originals kept because logins of other subjects still reference them.
    public let originalsKept: Int
    /// Subjects that had no erasure recorded before this call.
    public let newlyErased: Int
}

/// `vault subject forget` (SPEC §5, an erasure request). In one transaction:
///
/// 1. `LOCK fetchde.subject_erasures IN ACCESS EXCLUSIVE MODE`: waits for the `etl` batches
///    past their erasure check (``SubjectErasureFilter`` holds ACCESS SHARE to COMMIT), whose
///    rows step 3 then deletes, and holds later batches until the tombstones are committed;
///    they then drop the subjects' old logins.
/// 2. `LOCK public.pii_vault IN SHARE ROW EXCLUSIVE MODE`, as `vault forget`: no batch stores
///    an entry meanwhile; `vault_forgotten` keeps shredded values out afterwards.
/// 3. Deletes the subjects' logins; each original they referenced that no remaining login
///    references is deleted from `pii_vault` and tombstoned in `vault_forgotten`; the others
///    are kept (other subjects' logins use them) and counted.
/// 4. Records (or renews) each subject's tombstone — the keyed hash, never the id — with the
///    erasure time, and the audit row (hashes and shredded tokens only).
///
/// Idempotent: a repeat deletes nothing new and renews the erasure time.
public struct SubjectForgetter: Sendable {
    public var environment: VaultEnvironment

    public init(environment: VaultEnvironment) { self.environment = environment }

    public func forget(userIDs raw: [String], reason rawReason: String?) async throws -> SubjectForgetResult {
        let reason = try await VaultDatabase.requireReason(rawReason, environment, action: "subject-forget", detail: "\(raw.count) subjects")
        let ids = try SubjectKeys.userIDs(raw)
        let environment = self.environment
        let result = try await VaultDatabase.audited(environment, action: "subject-forget", reason: reason, detail: "\(ids.count) subjects") { session -> SubjectForgetResult in
            let hasher = try SubjectKeys.hasher(session, environment: environment)
            let hashes = ids.map(hasher.hash)
            return try session.transaction {
                // Before the locks, in the order etl batches take theirs (vault_active,
                // then the erasures, then pii_vault): no lock cycle with a batch or a
                // rotation queued behind one.
                try Self.refuseDuringRetokenize(session)
                try session.execute("LOCK TABLE fetchde.subject_erasures IN ACCESS EXCLUSIVE MODE")
                try session.execute("LOCK TABLE public.pii_vault IN SHARE ROW EXCLUSIVE MODE")
                let deleted = try session.execute(
                    "DELETE FROM public.user_logins WHERE user_id = ANY($1::text[]) RETURNING masked_ip, masked_device_id",
                    [.text(SubjectKeys.quotedArray(ids))]
                )
                var shredded: [String] = []
                var kept = 0
                for (field, column) in [(PIIField.ip, "masked_ip"), (.deviceID, "masked_device_id")] {
                    let candidates = Array(Set(deleted.rows.compactMap { $0[column].string.flatMap(VaultToken.normalize) })).sorted()
                    guard !candidates.isEmpty else { continue }
                    let stillUsed = Set(try session.execute(
                        "SELECT DISTINCT \(column) FROM public.user_logins WHERE \(column) = ANY($1::text[])",
                        [.textArray(candidates)]
                    ).rows.compactMap { $0[0].string })
                    kept += stillUsed.count
                    let gone = candidates.filter { !stillUsed.contains($0) }
                    guard !gone.isEmpty else { continue }
                    let array = PostgresValue.textArray(gone)
                    try session.execute(
                        "DELETE FROM public.pii_vault WHERE field = '\(field.rawValue)' AND token = ANY($1::text[])", [array]
                    )
                    try session.execute(
                        """
                        INSERT INTO public.vault_forgotten (field, token)
                        SELECT '\(field.rawValue)', t FROM unnest($1::text[]) AS t ON CONFLICT DO NOTHING
                        """,
                        [array]
                    )
                    shredded += gone.map { "\(field.rawValue):\($0)" }
                }
                let erased = try session.execute(
                    """
                    INSERT INTO fetchde.subject_erasures (subject_hash, erased_at)
                    SELECT h, now() FROM unnest($1::text[]) AS h
                    ON CONFLICT (subject_hash) DO UPDATE SET erased_at = EXCLUDED.erased_at
                    RETURNING (xmax = 0) AS fresh
                    """,
                    [.textArray(hashes)]
                )
                let result = SubjectForgetResult(
                    subjects: ids.count, loginsDeleted: deleted.count, originalsShredded: shredded.count,
                    originalsKept: kept, newlyErased: erased.rows.filter { $0[0].bool == true }.count
                )
                try AuditLog.append(
                    session, action: "subject-forget",
                    outcome: result.loginsDeleted == 0 && result.newlyErased == 0 ? "already-forgotten" : "forgotten",
                    reason: reason,
                    detail: "subjects \(hashes.joined(separator: ",")); logins \(result.loginsDeleted); kept \(kept); shredded \(shredded.joined(separator: ","))"
                )
                return result
            }
        }
        environment.logger.debug("subjects forgotten", metadata: [
            LogKey.subjects: "\(result.subjects)", LogKey.logins: "\(result.loginsDeleted)",
            LogKey.shredded: "\(result.originalsShredded)", LogKey.kept: "\(result.originalsKept)",
        ])
        return result
    }

    /// While a token-key rotation is unfinished, one value has entries under two tokens, and
    /// "no other login references it" cannot be decided per token: finish `vault retokenize` first.
    static func refuseDuringRetokenize(_ session: PostgresSession) throws {
        let pending = try session.execute(
            """
            SELECT EXISTS (SELECT 1 FROM public.pii_vault p, public.vault_active a WHERE p.token_key_version <> a.token_key_version)
                OR EXISTS (SELECT 1 FROM public.token_rewrites) AS pending
            """
        ).rows.first?[0].bool
        if pending == true {
            throw VaultError(.rotationUnfinished, "a token-key rotation is unfinished: run vault retokenize first, then repeat the erasure")
        }
    }
}
