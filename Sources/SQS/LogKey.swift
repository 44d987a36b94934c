/// The fixed metadata keys the SQS client logs with (as postgres-nio's `Logging+PSQL`): one place
/// to see what a log line can carry, which is counts, codes, versions and ids, never a value.
enum LogKey {
    static let anomalies = "anomalies"
    static let attempt = "attempt"
    static let awsCode = "aws_code"
    static let clockOffsetSeconds = "clock_offset_seconds"
    static let entries = "entries"
    static let error = "error"
    static let httpStatus = "http_status"
    static let messageId = "message_id"
    static let operation = "operation"
    static let wireProtocol = "protocol"
    static let requestId = "request_id"
    static let retryInMs = "retry_in_ms"
}
