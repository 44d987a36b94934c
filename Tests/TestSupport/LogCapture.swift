public import InMemoryLogging
public import Logging

/// Every log entry a test's logger wrote, kept in memory by swift-log's `InMemoryLogHandler`:
/// the one log capture of the tests ("what did we log", and "no PII in any line").
///
///     let logs = LogCapture()
///     let client = try SQSClient(configuration: configuration, logger: logs.logger())
///     #expect(!logs.lines.joined().contains("secret"))
public struct LogCapture: Sendable {
    private let handler = InMemoryLogHandler()

    public init() {}

    /// A logger writing into this capture, at `level` (trace by default: everything).
    public func logger(label: String = "capture", level: Logger.Level = .trace) -> Logger {
        var logger = Logger(label: label) { _ in handler }
        logger.logLevel = level
        return logger
    }

    /// The entries logged so far, oldest first.
    public var entries: [InMemoryLogHandler.Entry] { handler.entries }

    /// The entries as one line each: level, message, then `key=value` metadata sorted by key
    /// (and the logged error, if any).
    public var lines: [String] {
        entries.map { entry in
            var fields = ["\(entry.level)", "\(entry.message)"]
            fields += entry.metadata.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
            if let error = entry.error { fields.append("error=\(error)") }
            return fields.joined(separator: " ")
        }
    }
}
