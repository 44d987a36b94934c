import PIICrypto
import Postgres

/// Drops the logins of erased subjects (`vault subject forget`, SPEC §5) from a batch inside
/// its transaction: a login whose user-id hash has a tombstone with an erasure time after the
/// message's SentTimestamp (or with no SentTimestamp: a file line) is old data of an erased
/// subject and is never stored, nor are vault entries only it needed. A login sent after the
/// erasure is new data and stays.
///
/// One statement per batch (``StagingSQL/erasuresSince``), through the loader's
/// ``SubjectErasures``: it reads the tombstones recorded since the loader's previous batch
/// (usually none) and checks the batch's hashes against their prefixes in memory; only the
/// subjects with a known prefix (usually none) are looked up, by a second statement
/// (``StagingSQL/erasureTimes``). The first also returns the registered
/// subject key's check value; when that differs from the key the batch was hashed with (a
/// subject key registered since the keys were loaded), the batch is refused with
/// `.keysChanged` and prepared again with the new keys, so no login slips past an erasure
/// unhashed. Its lock on the tombstone table, held to COMMIT, makes `vault subject forget`
/// (ACCESS EXCLUSIVE on it) wait for batches past this check — whose rows it then deletes —
/// and makes later batches wait for its COMMIT and read its tombstones.
enum SubjectErasureFilter {
    static func apply(
        to batch: PreparedBatch, session: PostgresSession, erasures: SubjectErasures, outcome: inout BatchOutcome
    ) throws -> PreparedBatch {
        let snapshot = try erasures.refresh(session)
        guard snapshot.keyCheck == batch.subjectKeyCheck else {
            throw PipelineError(.keysChanged, "the subject key changed while the batch was prepared")
        }
        guard !snapshot.prefixes.isEmpty, batch.loginSubjects.count == batch.logins.count else { return batch }
        // Usually no subject of the batch has a known prefix: then the batch goes as it is.
        let candidates = Set(batch.loginSubjects.lazy.filter { snapshot.prefixes.contains($0.prefix) })
        guard !candidates.isEmpty else { return batch }
        let erasedAt = try SubjectErasures.erasureTimes(of: candidates, session: session)
        guard batch.loginSubjects.indices.contains(where: { index in
            erasedAt[batch.loginSubjects[index]].map { (batch.loginSentMilliseconds[index] ?? Int64.min) < $0 } ?? false
        }) else { return batch }

        var kept = batch
        kept.logins = []
        kept.loginMessageIDs = []
        kept.loginSubjects = []
        kept.loginSentMilliseconds = []
        var referenced = Set<String>()
        for index in batch.logins.indices {
            if let erased = erasedAt[batch.loginSubjects[index]],
               (batch.loginSentMilliseconds[index] ?? Int64.min) < erased {
                outcome.erasedDropped += 1
                continue
            }
            let row = batch.logins[index]
            for column in [3, 4] {
                if case .text(let token) = row[column] { referenced.insert(token) }
            }
            kept.logins.append(row)
            kept.loginMessageIDs.append(batch.loginMessageIDs[index])
            kept.loginSubjects.append(batch.loginSubjects[index])
            kept.loginSentMilliseconds.append(batch.loginSentMilliseconds[index])
        }
        // Vault entries only the dropped logins needed are not stored (tokens of the two
        // fields never collide: each field has its own key).
        kept.vaultEntries = batch.vaultEntries.filter { entry in
            if case .text(let token) = entry[1] { return referenced.contains(token) }
            return true
        }
        return kept
    }
}
