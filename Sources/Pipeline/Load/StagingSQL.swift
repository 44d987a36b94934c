/// The SQL of one batch transaction: COPY into session-local staging tables, then one
/// set-based INSERT … ON CONFLICT DO NOTHING per target table (never a statement per row).
enum StagingSQL {
    /// Created once per connection (after `SET ROLE`); emptied at every commit.
    static let createTables = """
        CREATE TEMP TABLE IF NOT EXISTS pg_temp.etl_stage_logins (
            message_id varchar(128), user_id varchar(128), device_type varchar(32),
            masked_ip varchar(256), masked_device_id varchar(256), locale varchar(32),
            app_version integer, app_version_raw varchar(64), create_date date, token_key_version integer
        ) ON COMMIT DELETE ROWS;
        CREATE TEMP TABLE IF NOT EXISTS pg_temp.etl_stage_vault (
            field varchar(16), token varchar(64), token_key_version integer, dek_id bigint, ciphertext bytea
        ) ON COMMIT DELETE ROWS;
        CREATE TEMP TABLE IF NOT EXISTS pg_temp.etl_stage_quarantine (
            message_id varchar(128), reason varchar(256), dek_id bigint, body_ciphertext bytea,
            sent_at timestamptz, receive_count integer
        ) ON COMMIT DELETE ROWS;
        """

    static let copyLogins = """
        COPY pg_temp.etl_stage_logins (message_id, user_id, device_type, masked_ip, masked_device_id, locale,
            app_version, app_version_raw, create_date, token_key_version) FROM STDIN
        """
    /// The fast path: straight into the table. Fails as a whole (23505) when any MessageId
    /// is already there, and the batch then takes the staging path.
    static let copyLoginsDirect = """
        COPY public.user_logins (message_id, user_id, device_type, masked_ip, masked_device_id, locale,
            app_version, app_version_raw, create_date, token_key_version) FROM STDIN
        """
    static let insertLogins = """
        INSERT INTO public.user_logins (message_id, user_id, device_type, masked_ip, masked_device_id, locale,
            app_version, app_version_raw, create_date, token_key_version)
        SELECT message_id, user_id, device_type, masked_ip, masked_device_id, locale,
            app_version, app_version_raw, create_date, token_key_version
        FROM pg_temp.etl_stage_logins
        ON CONFLICT (message_id) DO NOTHING
        """
    /// The registered subject key's check value (no row: no subject erased yet).
    static let subjectKeyCheck = "SELECT key_check FROM fetchde.subject_key"
    /// The registered subject key's check value (NULL: none registered), the highest erasure
    /// `seq`, and the erasures recorded after `seq` $1 (see ``SubjectErasures``) as
    /// comma-separated lists of the first 16 hex digits of their hashes, one list per range of
    /// 16,384 `seq` values (a first read of 100,000 tombstones is seven rows, not 100,000),
    /// each range read by the `seq` index in order (no sort); one row with a NULL list when
    /// nothing was erased since the previous batch. Its ACCESS SHARE lock, held to COMMIT,
    /// orders the batch before or after a `vault subject forget` (which locks the table
    /// exclusively): see ``SubjectErasureFilter``. (The key check is a scalar subquery, not a
    /// join: the planner's guess for an unanalyzed `subject_key` times every tombstone made
    /// the first, full read JIT-compile.)
    static let erasuresSince = """
        SELECT (SELECT k.key_check FROM fetchde.subject_key k) AS key_check, m.max_seq, g.prefixes
        FROM (SELECT max(s.seq) AS max_seq FROM fetchde.subject_erasures s) AS m
        LEFT JOIN LATERAL generate_series($1::bigint, m.max_seq - 1, 16384) AS chunk (after_seq) ON true
        LEFT JOIN LATERAL (
            SELECT string_agg(left(e.subject_hash, 16), ',') AS prefixes
            FROM fetchde.subject_erasures e WHERE e.seq > chunk.after_seq AND e.seq <= chunk.after_seq + 16384
        ) AS g ON true
        """
    /// The tombstones of the subject hashes $1 (those whose prefix a loader knows): the
    /// primary key's index, a row per erased subject.
    static let erasureTimes = """
        SELECT e.subject_hash, (extract(epoch FROM e.erased_at) * 1000)::bigint AS erased_ms
        FROM fetchde.subject_erasures e WHERE e.subject_hash = ANY ($1::varchar[])
        """
    /// The token key version batches must be tokenized with (see `BatchWriter.commit`).
    static let activeTokenKeyVersion = "SELECT token_key_version FROM public.vault_active"
    static let copyVaultDirect = "COPY public.pii_vault (field, token, token_key_version, dek_id, ciphertext) FROM STDIN"
    /// Whether any value was forgotten: then every vault insert goes through the filter.
    static let anyForgotten = "SELECT EXISTS (SELECT 1 FROM public.vault_forgotten)"
    static let copyVault = "COPY pg_temp.etl_stage_vault (field, token, token_key_version, dek_id, ciphertext) FROM STDIN"
    /// A forgotten value is never stored again (crypto-shredding is for good).
    static let insertVault = """
        INSERT INTO public.pii_vault (field, token, token_key_version, dek_id, ciphertext)
        SELECT s.field, s.token, s.token_key_version, s.dek_id, s.ciphertext
        FROM pg_temp.etl_stage_vault s
        WHERE NOT EXISTS (SELECT 1 FROM public.vault_forgotten f WHERE f.field = s.field AND f.token = s.token)
        ON CONFLICT (field, token) DO NOTHING
        """
    static let copyQuarantine = """
        COPY pg_temp.etl_stage_quarantine (message_id, reason, dek_id, body_ciphertext, sent_at, receive_count) FROM STDIN
        """
    /// A message quarantined before counts once more (`seen_count`; a message twice in one
    /// batch, once). Returns (reason, seen_count) per message: seen_count 1 is a first time.
    static let insertQuarantine = """
        INSERT INTO public.etl_quarantine AS q (message_id, reason, dek_id, body_ciphertext, sent_at, receive_count)
        SELECT DISTINCT ON (message_id) message_id, reason, dek_id, body_ciphertext, sent_at, receive_count
        FROM pg_temp.etl_stage_quarantine ORDER BY message_id
        ON CONFLICT (message_id) DO UPDATE SET seen_count = q.seen_count + 1, last_seen_at = now()
        RETURNING q.reason, q.seen_count
        """
}
