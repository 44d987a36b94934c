public import PIICrypto
import Postgres
import Synchronization

/// The erasure tombstones (`fetchde.subject_erasures`) a loader knows of, kept in memory as
/// the first 8 bytes of each subject hash, so a batch reads only the tombstones recorded
/// since its previous batch (usually none) and asks the table only about the batch's subjects
/// whose prefix is known — usually none — instead of probing it with every hash of the batch
/// (SPEC §5, `vault subject forget`).
///
/// Every recorded or renewed tombstone takes the next `seq` while its transaction holds the
/// table in ACCESS EXCLUSIVE mode to COMMIT (the `fetchde.subject_erasure_stamp` trigger;
/// `vault subject forget` locks it so first). A batch reads under ACCESS SHARE, so a tombstone
/// that was not yet visible to one batch's read gets a `seq` above every `seq` that read saw:
/// `seq > last seen` finds all of them. A loader that reads them here (in its batch
/// transaction) therefore knows the prefix of every tombstone committed before its read, and
/// the exact hashes and erasure times it then reads for the matching subjects
/// (``erasureTimes(of:session:)``, same transaction) are those of the table at that point.
///
/// Tombstones are never deleted by the commands (`vault_admin` may not); when a superuser
/// removes the newest of them, or the subject key registration changes, the cache starts
/// over. A prefix left of a tombstone removed otherwise costs a lookup that finds nothing.
///
/// One instance per loader (the writer of `etl`, one `vault quarantine replay` run); safe to
/// share anyway (a mutex).
public final class SubjectErasures: Sendable {
    struct State: Sendable {
        /// The key check the cached prefixes were read under (nil: none read yet).
        var keyCheck: String?
        var lastSeq: Int64 = 0
        var prefixes: Set<UInt64> = []
    }

    private let state = Mutex(State())

    public init() {}

    /// What a batch's transaction read: the registered key check and the known prefixes.
    struct Snapshot {
        let keyCheck: String?
        let prefixes: Set<UInt64>
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

    /// The erasure times (epoch milliseconds) of those of `subjects` that have a tombstone,
    /// read in the caller's transaction (after ``refresh(_:)``).
    static func erasureTimes(of subjects: Set<SubjectDigest>, session: PostgresSession) throws -> [SubjectDigest: Int64] {
        guard !subjects.isEmpty else { return [:] }
        let rows = try session.execute(StagingSQL.erasureTimes, [.textArray(subjects.map(\.hex))]).rows
        var times: [SubjectDigest: Int64] = [:]
        for row in rows {
            guard let hex = row[0].string, let millis = row[1].int, let digest = SubjectDigest(hex: hex) else { continue }
            times[digest] = millis
        }
        return times
    }

    /// The tombstones with `seq > since` merged into the cache; nil when the cache had to start over.
    private func read(_ session: PostgresSession, since: Int64) throws -> Snapshot? {
        let rows = try session.execute(StagingSQL.erasuresSince, [.int(since)]).rows
        // NULL: no subject key registered.
        let keyCheck = rows.first?[0].string
        let maxSeq = rows.first?[1].int ?? 0
        var fresh: [UInt64] = []
        for row in rows {
            guard var prefixes = row[2].string else { continue }
            prefixes.withUTF8 { Self.parse(UnsafeRawBufferPointer($0), into: &fresh) }
        }
        return state.withLock { state -> Snapshot? in
            if since == 0 {
                // A full read replaces whatever was there.
                state = State(keyCheck: keyCheck)
                state.prefixes.reserveCapacity(fresh.count)
            } else if state.keyCheck != keyCheck || maxSeq < state.lastSeq {
                state = State(keyCheck: keyCheck)
                return nil
            }
            if !fresh.isEmpty { state.prefixes.formUnion(fresh) }
            state.lastSeq = max(state.lastSeq, maxSeq)
            return Snapshot(keyCheck: keyCheck, prefixes: state.prefixes)
        }
    }

    /// Appends the prefixes of a comma-separated list of 16-hex-digit prefixes; a piece that
    /// is not one (a `subject_hash` no hasher produced) is skipped.
    static func parse(_ list: UnsafeRawBufferPointer, into prefixes: inout [UInt64]) {
        var start = 0
        while start < list.count {
            var end = start
            while end < list.count, list[end] != UInt8(ascii: ",") { end += 1 }
            if let prefix = SubjectDigest.prefix(hex: UnsafeRawBufferPointer(rebasing: list[start..<end])) {
                prefixes.append(prefix)
            }
            start = end + 1
        }
    }
}
