import Metrics
import Postgres

/// The pipeline's metrics (SPEC §8), through swift-metrics: the `etl` executable bootstraps
/// a Prometheus backend; tests and library users get no-ops unless they bootstrap one.
enum PipelineMetrics {
    static let received = Counter(label: "etl_messages_received_total")
    static let inserted = Counter(label: "etl_rows_inserted_total")
    static let duplicates = Counter(label: "etl_duplicates_skipped_total")
    static let quarantined = Counter(label: "etl_messages_quarantined_total")
    static let deleted = Counter(label: "etl_messages_deleted_total")
    static let deleteFailures = Counter(label: "etl_delete_failures_total")
    static let deleteRetries = Counter(label: "etl_delete_retries_total")
    static let visibilityExtended = Counter(label: "etl_visibility_extended_total")
    static let deksCreated = Counter(label: "etl_data_keys_created_total")
    static let vaultEntries = Counter(label: "etl_vault_entries_inserted_total")
    static let batchLatency = Timer(label: "etl_batch_duration_seconds")
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
        quarantined.increment(by: outcome.quarantined)
        vaultEntries.increment(by: outcome.vaultEntries)
    }
}
