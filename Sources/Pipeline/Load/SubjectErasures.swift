public import PIICrypto
import Postgres
import Synchronization

/// The erasure tombstones (`fetchde.subject_erasures`) a loader has read, kept in memory so a
/// batch reads only the ones recorded since its previous batch (usually none) instead of
/// probing the table with every hash of the batch (SPEC §5, `vault subject forget`).
///
/// Every recorded or renewed tombstone takes the next `seq` while its transaction holds the
/// table in ACCESS EXCLUSIVE mode to COMMIT (the `fetchde.subject_erasure_stamp` trigger;
/// `vault subject forget` locks it so first). A batch reads under ACCESS SHARE, so a tombstone
/// that was not yet visible to one batch's read gets a `seq` above every `seq` that read saw:
/// `seq > last seen` finds all of them. A loader that reads them here (in its batch
/// transaction) therefore knows every tombstone committed before its read, as the former
/// per-batch probe did.
///
/// Tombstones are never deleted by the commands (`vault_admin` may not); when a superuser
/// removes the newest of them, or the subject key registration changes, the cache starts
/// over. Removing older ones out of band is seen after a restart of the process (until then
/// it keeps dropping those subjects' late logins: the cache errs towards erasure).
///
/// One instance per loader (the writer of `etl`, one `vault quarantine replay` run); safe to
/// share anyway (a mutex).
public final class SubjectErasures: Sendable {
    struct State: Sendable {
        /// The key check the cached hashes were read under (nil: none read yet).
        var keyCheck: String?
        var lastSeq: Int64 = 0
        var erasedAt: [SubjectDigest: Int64] = [:]
    }

    private let state = Mutex(State())

    public init() {}

    /// What a batch's transaction read: the registered key check and the erasure times.
    struct Snapshot {
        let keyCheck: String?
        let erasedAt: [SubjectDigest: Int64]
    }

    /// Reads the tombstones recorded since the last call (all of them the first time) in the
    /// caller's transaction, whose ACCESS SHARE lock on the table stays held to COMMIT.
    func refresh(_ session: PostgresSession) throws -> Snapshot {
        if let snapshot = try read(session, since: state.withLock { $0.lastSeq }) { return snapshot }
        // Started over (another key, or tombstones removed): read them all.
        guard let snapshot = try read(session, since: 0) else {
            throw PipelineError(.keysChanged, "the subject key registration changed while the erasures were read")
        }
        return snapshot
    }

    /// The tombstones with `seq > since` merged into the cache; nil when the cache had to start over.
    private func read(_ session: PostgresSession, since: Int64) throws -> Snapshot? {
        let rows = try session.execute(StagingSQL.erasuresSince, [.int(since)]).rows
        // NULL: no subject key registered.
        let keyCheck = rows.first?[0].string
        let maxSeq = rows.first?[1].int ?? 0
        var fresh: [(SubjectDigest, Int64)] = []
        fresh.reserveCapacity(rows.count)
        for row in rows {
            // A hash that is not 64 hex characters names no subject the hasher can produce.
            guard let hex = row[2].string, let millis = row[3].int, let digest = SubjectDigest(hex: hex) else { continue }
            fresh.append((digest, millis))
        }
        return state.withLock { state -> Snapshot? in
            if since == 0 {
                // A full read replaces whatever was there.
                state = State(keyCheck: keyCheck)
                state.erasedAt.reserveCapacity(fresh.count)
            } else if state.keyCheck != keyCheck || maxSeq < state.lastSeq {
                state = State(keyCheck: keyCheck)
                return nil
            }
            for (digest, millis) in fresh {
                // A renewal moves the erasure time later; of two reads, keep the later time.
                state.erasedAt[digest] = max(millis, state.erasedAt[digest] ?? Int64.min)
            }
            state.lastSeq = max(state.lastSeq, maxSeq)
            return Snapshot(keyCheck: keyCheck, erasedAt: state.erasedAt)
        }
    }
}
