import Metrics

/// The client's metrics (swift-metrics; no-ops unless the process bootstraps a backend):
/// every attempt of an operation, and every failed one by the kind of failure. Labels are
/// the fixed operation names and ``SQSError/Code`` kinds, never a value from a response.
public enum SQSMetrics {
    /// `etl_sqs_requests_total{operation}`: attempts, retries included.
    public static let requests = "etl_sqs_requests_total"
    /// `etl_sqs_errors_total{operation,code}`: failed attempts by ``SQSError/Code``.
    public static let errors = "etl_sqs_errors_total"

    static func recordAttempt(operation: String, error: SQSError?) {
        Counter(label: requests, dimensions: [("operation", operation)]).increment()
        if let error {
            Counter(label: errors, dimensions: [("operation", operation), ("code", error.code.description)]).increment()
        }
    }
}
