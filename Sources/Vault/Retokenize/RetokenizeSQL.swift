/// The statements of `vault retokenize` (see ``Retokenizer``). `$1` is always the target
/// (active) token key version.
enum RetokenizeSQL {
    /// Settings of an entry worker's session. Each statement joins a batch (thousands of
    /// entries) to tables of up to millions by their primary keys: index probes, whose cost
    /// grows with the batch. Left alone, the planner may hash the whole big table for every
    /// batch, and a run would grow with the square of the vault. JIT only adds compile time
    /// to these short statements.
    static let entryWorkerSettings = "SET enable_hashjoin = off; SET enable_mergejoin = off; SET jit = off"

    /// Settings of a row worker's session: a range of rows needs a mapping row for nearly
    /// every token, so hashing the mapping once per range beats two index probes per row,
    /// given the memory to hash it without spilling (else the planner probes).
    static let rowWorkerSettings = "SET work_mem = '256MB'; SET jit = off"

    /// One batch of re-tokenized entries; emptied at every commit.
    static let createBatchTable = """
        CREATE TEMP TABLE IF NOT EXISTS vault_retokenize_batch (
            field varchar(16) NOT NULL, old_token varchar(64) NOT NULL, new_token varchar(64) NOT NULL,
            ciphertext bytea NOT NULL, keep boolean NOT NULL, old_ctid tid NOT NULL
        ) ON COMMIT DELETE ROWS
        """

    /// Work left: entries and rows under an older version.
    static let countEntries = "SELECT count(*) FROM public.pii_vault WHERE token_key_version < $1"
    static let countRows = "SELECT count(*) FROM public.user_logins WHERE token_key_version < $1"
    static let rowBounds = "SELECT min(login_id), max(login_id) FROM public.user_logins WHERE token_key_version < $1"

    /// The next entries of field $2 under an older version from token $3 (exclusive, or
    /// inclusive when it is a range's lower bound: a bare hex digit is no token) below $5. Not locked: the
    /// statements below name each entry by its old token, so one that a concurrent `vault
    /// forget` deleted meanwhile is neither moved nor mapped (its rows keep the forgotten
    /// token).
    /// Columns (by position, as ``EntryWorker`` reads them): token, dek_id, ciphertext, ctid,
    /// created_at, mapped, token_key_version.
    static let selectEntries = """
        SELECT token, dek_id, ciphertext, ctid, created_at, false AS mapped, token_key_version FROM public.pii_vault
        WHERE field = $2 AND token >= $3 AND token < $5 AND token <> $3 AND token_key_version < $1
        ORDER BY token LIMIT $4
        """

    /// The same, for a rebuild: old entries stay until the swap, so each says whether it is
    /// mapped already (by an interrupted run; then it is skipped). A probe per entry, not a
    /// filter: the scan stays in token order from where the last batch ended.
    static let selectEntriesWithMapping = """
        SELECT token, dek_id, ciphertext, ctid, created_at,
            EXISTS (SELECT 1 FROM public.token_rewrites r WHERE r.field = p.field AND r.old_token = p.token) AS mapped,
            token_key_version
        FROM public.pii_vault p
        WHERE field = $2 AND token >= $3 AND token < $5 AND token <> $3 AND token_key_version < $1
        ORDER BY token LIMIT $4
        """

    /// A rebuild's re-tokenized entries, and every mapping (see ``EntryWorker``).
    static let copyIntoRebuild = "COPY public.pii_vault_retokenized (field, token, token_key_version, dek_id, ciphertext, created_at) FROM STDIN"
    static let copyRewrites = "COPY public.token_rewrites (field, old_token, new_token, target_version) FROM STDIN"

    static let copyBatch = "COPY vault_retokenize_batch (field, old_token, new_token, ciphertext, keep, old_ctid) FROM STDIN"

    /// Old entries become the new ones in place ($2: the worker's data key); each moved
    /// entry's mapping is recorded in the same statement. Counts the entries moved. Each entry
    /// is found by the position the batch read it from (no index probe), and only if it still
    /// holds the same token there.
    /// - `unlessStored`: not if `etl` already stored the value under its new token after the
    ///   rotation (or an older version's entry of the same value took it). Without it, such
    ///   an entry makes the statement fail with a unique violation (and the batch is redone
    ///   with it): a probe per entry saved while nothing collides.
    /// - `unlessForgotten`: not if the value was forgotten under its new token.
    static func moveEntries(unlessStored: Bool, unlessForgotten: Bool) -> String {
        """
        WITH moved AS (
            UPDATE public.pii_vault p
            SET token = b.new_token, token_key_version = $1, dek_id = $2, ciphertext = b.ciphertext
            FROM vault_retokenize_batch b
            WHERE p.ctid = b.old_ctid AND p.field = b.field AND p.token = b.old_token AND b.keep
              \(unlessStored ? "AND NOT EXISTS (SELECT 1 FROM public.pii_vault q WHERE q.field = b.field AND q.token = b.new_token)" : "")
              \(unlessForgotten ? "AND NOT EXISTS (SELECT 1 FROM public.vault_forgotten f WHERE f.field = b.field AND f.token = b.new_token)" : "")
            RETURNING b.field, b.old_token, b.new_token
        )
        \(recordRewrites("moved"))
        """
    }

    /// The old entries that did not move: their value needs no entry of its own (it has or
    /// must never have one under its new token); their mapping is recorded all the same.
    static let dropUnmoved = """
        WITH dropped AS (
            DELETE FROM public.pii_vault p USING vault_retokenize_batch b
            WHERE p.field = b.field AND p.token = b.old_token
            RETURNING b.field, b.old_token, b.new_token
        )
        \(recordRewrites("dropped"))
        """

    /// Mapping rows from `source`; a rerun after a crash overwrites what it wrote before.
    private static func recordRewrites(_ source: String) -> String {
        """
        INSERT INTO public.token_rewrites (field, old_token, new_token, target_version)
        SELECT field, old_token, new_token, $1 FROM \(source)
        ON CONFLICT (field, old_token)
        DO UPDATE SET new_token = EXCLUDED.new_token, target_version = EXCLUDED.target_version
        """
    }

    /// Whether a mapping of an earlier, unfinished retokenize points to a token that is old now.
    static let hasOlderRewrites = "SELECT EXISTS (SELECT 1 FROM public.token_rewrites WHERE target_version < $1)"

    /// One hop of such chains (old → older target → this target); repeated until nothing changes.
    static let resolveChains = """
        UPDATE public.token_rewrites r SET new_token = n.new_token, target_version = n.target_version
        FROM public.token_rewrites n
        WHERE n.field = r.field AND n.old_token = r.new_token AND n.target_version > r.target_version
        """

    /// Rows with ids in [$2, $3) under an older version take their tokens' new values. A token
    /// without a mapping stays only if it was forgotten (its original is gone); otherwise the
    /// row waits for its entry to be re-tokenized.
    static let moveRows = """
        WITH b AS (
            SELECT u.login_id,
                coalesce(ri.new_token, u.masked_ip) AS ip,
                coalesce(rd.new_token, u.masked_device_id) AS device
            FROM public.user_logins u
            LEFT JOIN public.token_rewrites ri ON ri.field = 'ip' AND ri.old_token = u.masked_ip
            LEFT JOIN public.token_rewrites rd ON rd.field = 'device_id' AND rd.old_token = u.masked_device_id
            WHERE u.login_id >= $2 AND u.login_id < $3 AND u.token_key_version < $1
              AND (u.masked_ip IS NULL OR ri.new_token IS NOT NULL
                   OR EXISTS (SELECT 1 FROM public.vault_forgotten f WHERE f.field = 'ip' AND f.token = u.masked_ip))
              AND (u.masked_device_id IS NULL OR rd.new_token IS NOT NULL
                   OR EXISTS (SELECT 1 FROM public.vault_forgotten f WHERE f.field = 'device_id' AND f.token = u.masked_device_id))
        )
        UPDATE public.user_logins u SET masked_ip = b.ip, masked_device_id = b.device, token_key_version = $1
        FROM b WHERE u.login_id = b.login_id
        """
}
