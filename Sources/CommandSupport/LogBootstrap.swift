import Foundation
public import Logging
import Synchronization

/// Process-wide logging set-up: logfmt or OpenTelemetry JSON lines on stderr. Libraries only
/// take a `Logger`.
public enum LogBootstrap {
    public enum Format: Sendable { case text, json }

    private static let done = Mutex(false)

    /// Bootstraps swift-log once; later calls are ignored (tests, repeated commands).
    public static func bootstrap(format: Format, level: Logger.Level) {
        let first = done.withLock { done -> Bool in
            defer { done = true }
            return !done
        }
        guard first else { return }
        LoggingSystem.bootstrap { label in
            var handler = LineLogHandler(label: label, format: format)
            handler.logLevel = level
            return handler
        }
    }
}

/// Writes one line per record to stderr: logfmt (`time=… level=… logger=… msg="…" key=value`)
/// or one JSON object in the OpenTelemetry log data model's terms (``LogRecordEncoder``).
public struct LineLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .info
    let encoder: LogRecordEncoder

    public init(label: String, format: LogBootstrap.Format) {
        self.encoder = LogRecordEncoder(format: format, resource: .current(serviceName: label))
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var all = metadata
        if let extra = event.metadata { all.merge(extra) { $1 } }
        let line = encoder.line(level: event.level, message: "\(event.message)", attributes: all, at: Date())
        FileHandle.standardError.write(Data(line.utf8))
    }
}
