import Foundation
import Metrics
import Postgres
import Synchronization
import SQS

/// The pipeline's metrics (SPEC §8), through swift-metrics: the `etl` executable bootstraps
/// a Prometheus backend; tests and library users get no-ops unless they bootstrap one.
/// Every name is in ``PipelineMetricsCatalog`` with its `# HELP` text.
enum PipelineMetrics {
    static let received = Counter(label: "etl_messages_received_total")
    static let inserted = Counter(label: "etl_rows_inserted_total")
    static let duplicates = Counter(label: "etl_duplicates_skipped_total")
    static let deleted = Counter(label: "etl_messages_deleted_total")
    static let deleteFailures = Counter(label: "etl_delete_failures_total")
    static let deleteRetries = Counter(label: "etl_delete_retries_total")
    static let visibilityExtended = Counter(label: "etl_visibility_extended_total")
    static let deksCreated = Counter(label: "etl_data_keys_created_total")
    static let dekCreatedAt = Gauge(label: "etl_data_key_last_created_timestamp_seconds")
    static let vaultEntries = Counter(label: "etl_vault_entries_inserted_total")
    static let reconnects = Counter(label: "etl_database_reconnects_total")
    static let erasedDropped = Counter(label: "etl_erased_subject_logins_dropped_total")
    static let batchLatency = Timer(label: "etl_batch_duration_seconds")
    static let messageAge = Timer(label: "etl_message_age_seconds")
    static let inFlight = Gauge(label: "etl_messages_in_flight")
    static let tokenKeyVersion = Gauge(label: "etl_active_token_key_version")
    static let vaultKeyVersion = Gauge(label: "etl_active_vault_key_version")
    /// Receive loops running now (`receive_loops` up to `max_receive_loops`).
    static let receiveLoops = Gauge(label: "etl_receive_loops")

    /// Counts a failed database call by its SQLSTATE class (or client-side kind) and returns
    /// that label for the log line; nil for errors that are not the database's.
    @discardableResult
    static func recordDatabaseError(_ error: any Error) -> String? {
        guard let error = error as? PostgresError else { return nil }
        let label = error.errorClassLabel
        Counter(label: "etl_database_errors_total", dimensions: [("class", label)]).increment()
        return label
    }

    static func record(_ outcome: BatchOutcome) {
        inserted.increment(by: outcome.inserted)
        duplicates.increment(by: outcome.duplicates)
        for (reason, count) in outcome.quarantinedByReason {
            Counter(label: "etl_messages_quarantined_total", dimensions: [("reason", reason)]).increment(by: count)
        }
        vaultEntries.increment(by: outcome.vaultEntries)
        erasedDropped.increment(by: outcome.erasedDropped)
    }

    /// Message age at commit (now − SentTimestamp) of the messages that have one.
    static func recordAges(_ messages: [IncomingMessage], now: Date = Date()) {
        let nowMilliseconds = Int64(now.timeIntervalSince1970 * 1000)
        for sent in messages.compactMap(\.sentTimestampMilliseconds) {
            messageAge.recordNanoseconds(max(0, nowMilliseconds - sent) * 1_000_000)
        }
    }

    /// Messages held between receive and delete.
    static func recordInFlight(_ count: Int) {
        inFlight.record(count)
    }

    /// A new data key was created now.
    static func recordDataKeyCreated() {
        deksCreated.increment()
        dekCreatedAt.record(Date().timeIntervalSince1970)
    }

    /// The active key versions the process tokenizes and seals with.
    static func recordActiveKeys(tokenKeyVersion token: Int, vaultKeyVersion vault: Int) {
        tokenKeyVersion.record(token)
        vaultKeyVersion.record(vault)
    }

    /// The quarantine's size by reason label; reasons seen before and now absent read 0.
    static func recordQuarantineSize(_ counts: [String: Int]) {
        let reasons = quarantineReasonsSeen.withLock { seen in
            seen.formUnion(counts.keys)
            return seen
        }
        for reason in reasons {
            Gauge(label: "etl_quarantine_messages", dimensions: [("reason", reason)]).record(counts[reason] ?? 0)
        }
    }

    /// `etl_queue_messages{state}`: the queue's approximate depth as SQS reports it.
    static func queueMessages(state: String) -> Gauge {
        Gauge(label: "etl_queue_messages", dimensions: [("state", state)])
    }

    private static let quarantineReasonsSeen = Mutex(Set<String>())
}

/// Help texts and histogram buckets of every metric `etl` exports: the Prometheus backend
/// (in the `etl` executable) registers each family with its `# HELP` line from here.
public enum PipelineMetricsCatalog {
    public static let help: [String: String] = [
        "etl_messages_received_total": "Messages received from SQS (or read from an ingest file).",
        "etl_rows_inserted_total": "New user_logins rows committed.",
        "etl_duplicates_skipped_total": "Valid messages whose MessageId was already stored (redelivery).",
        "etl_messages_quarantined_total": "Invalid messages committed to etl_quarantine, by reason.",
        "etl_erased_subject_logins_dropped_total": "Logins dropped because their subject was erased (vault subject forget) after they were sent.",
        "etl_messages_deleted_total": "Messages deleted from SQS after their commit.",
        "etl_delete_failures_total": "Committed messages SQS refused to delete (they are redelivered and skipped as duplicates).",
        "etl_delete_retries_total": "Delete entries retried after a retryable failure.",
        "etl_visibility_extended_total": "Visibility-timeout extensions of messages held longer than half their timeout.",
        "etl_data_keys_created_total": "Data encryption keys created (one per process start and per rotation limit).",
        "etl_data_key_last_created_timestamp_seconds": "Unix time at which this process created its current data key.",
        "etl_vault_entries_inserted_total": "New pii_vault entries committed.",
        "etl_database_errors_total": "Failed database calls by SQLSTATE class (or client-side kind: connection, deadline, ...).",
        "etl_database_reconnects_total": "Database connections opened again after the previous one broke.",
        "etl_batch_duration_seconds": "Time to commit one batch, retries included.",
        "etl_message_age_seconds": "Age of a message at its commit: now minus its SQS SentTimestamp.",
        "etl_messages_in_flight": "Messages received and not yet deleted or given up on.",
        "etl_receive_loops": "SQS receive loops running now (receive_loops, more while receives come back full, up to max_receive_loops).",
        "etl_active_token_key_version": "Version of the token key the process tokenizes with.",
        "etl_active_vault_key_version": "Version of the vault public key the process seals data keys to.",
        "etl_quarantine_messages": "Rows in etl_quarantine by reason (refreshed every minute by etl run).",
        "etl_queue_messages": "Approximate messages in the queue (SQS's figures; visible = waiting, not_visible = in flight anywhere).",
        "etl_build_info": "Always 1; the version label names the running build.",
        "etl_ready": "1 while /readyz answers 200 (database, SQS and keys up, not shutting down), else 0.",
        SQSMetrics.requests: "SQS requests sent, by operation (retries included).",
        SQSMetrics.errors: "Failed SQS requests by operation and kind (transport, timeout, service, throttled, ...).",
    ]

    /// Histogram buckets by metric name (the rest use the backend's defaults).
    public static let durationBuckets: [String: [Duration]] = [
        "etl_message_age_seconds": [1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 4 * 3600, 24 * 3600].map { .seconds($0) },
    ]

    /// `etl_build_info{version} 1`.
    public static func recordBuildInfo(version: String) {
        Gauge(label: "etl_build_info", dimensions: [("version", version)]).record(1)
    }

    /// `etl_ready`, set from the health state at each scrape.
    public static func recordReady(_ ready: Bool) {
        Gauge(label: "etl_ready").record(ready ? 1 : 0)
    }
}
