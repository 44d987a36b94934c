#if canImport(Glibc)
import Glibc
#endif
public import Foundation
public import Logging

/// Who writes the log lines: the OpenTelemetry resource attributes every JSON line carries.
public struct LogResource: Sendable, Equatable {
    public var serviceName: String
    public var serviceVersion: String
    public var hostName: String

    public init(serviceName: String, serviceVersion: String, hostName: String) {
        self.serviceName = serviceName
        self.serviceVersion = serviceVersion
        self.hostName = hostName
    }

    /// This process: `serviceName` (the logger label, `etl` or `vault`), the product version
    /// and the kernel's host name.
    public static func current(serviceName: String) -> LogResource {
        var buffer = [CChar](repeating: 0, count: 256)
        let host = gethostname(&buffer, buffer.count - 1) == 0
            ? String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self) : ""
        return LogResource(serviceName: serviceName, serviceVersion: FetchDEVersion.current, hostName: host)
    }
}

/// One log record → one line, in either format.
///
/// JSON (the OpenTelemetry log data model's field names, as Vector, the OpenTelemetry
/// Collector's filelog receiver and Loki's json stage read them):
/// `{"timestamp":"2025-01-01T12:00:00.123Z","severity_text":"INFO","severity_number":9,
/// "body":"…","attributes":{"messages":12,…},"resource":{"service.name":"etl",…}}`.
/// Attribute values are typed: integers, decimals and booleans are JSON numbers and booleans
/// (swift-log metadata are strings, so a string that is exactly a number becomes one), except
/// identifiers (keys `id`, `token`, `*_id`, `*_token`, `*code`, `*sqlstate`), which stay strings whatever they look like.
/// Keys are snake_case in both formats (``attributeKey(_:)``), whoever logged them.
///
/// Text is logfmt: `time=… level=info logger=etl msg="batch committed" messages=12 …`, keys
/// sorted, a value quoted (with `\"` and ``TerminalText`` escapes) whenever it is not one plain
/// word, so no value can forge a field or a line.
public struct LogRecordEncoder: Sendable {
    public let format: LogBootstrap.Format
    public let resource: LogResource

    public init(format: LogBootstrap.Format, resource: LogResource) {
        self.format = format
        self.resource = resource
    }

    /// The line for one record, newline included.
    public func line(level: Logger.Level, message: String, attributes: Logger.Metadata, at date: Date) -> String {
        let time = date.formatted(Self.timestampStyle)
        switch format {
        case .json: return json(time: time, level: level, message: message, attributes: attributes)
        case .text: return logfmt(time: time, level: level, message: message, attributes: attributes)
        }
    }

    /// RFC 3339, UTC, milliseconds: `2025-01-01T12:00:00.123Z`.
    static let timestampStyle = Date.ISO8601FormatStyle(includingFractionalSeconds: true, timeZone: .gmt)

    /// OpenTelemetry's severity text and number for a swift-log level (notice is INFO2).
    public static func severity(_ level: Logger.Level) -> (text: String, number: Int) {
        switch level {
        case .trace: ("TRACE", 1)
        case .debug: ("DEBUG", 5)
        case .info: ("INFO", 9)
        case .notice: ("NOTICE", 10)
        case .warning: ("WARN", 13)
        case .error: ("ERROR", 17)
        case .critical: ("FATAL", 21)
        }
    }

    // MARK: JSON

    private func json(time: String, level: Logger.Level, message: String, attributes: Logger.Metadata) -> String {
        let severity = Self.severity(level)
        var out = "{\"timestamp\":"
        Self.appendJSONString(time, to: &out)
        out += ",\"severity_text\":"
        Self.appendJSONString(severity.text, to: &out)
        out += ",\"severity_number\":\(severity.number),\"body\":"
        Self.appendJSONString(message, to: &out)
        out += ",\"attributes\":"
        Self.appendJSONObject(attributes, to: &out)
        out += ",\"resource\":{\"service.name\":"
        Self.appendJSONString(resource.serviceName, to: &out)
        out += ",\"service.version\":"
        Self.appendJSONString(resource.serviceVersion, to: &out)
        out += ",\"host.name\":"
        Self.appendJSONString(resource.hostName, to: &out)
        out += "}}\n"
        return out
    }

    private static func appendJSONObject(_ metadata: Logger.Metadata, to out: inout String) {
        out += "{"
        for (index, key) in metadata.keys.sorted().enumerated() {
            if index > 0 { out += "," }
            let name = attributeKey(key)
            appendJSONString(name, to: &out)
            out += ":"
            appendJSONValue(metadata[key]!, key: name, to: &out)
        }
        out += "}"
    }

    private static func appendJSONValue(_ value: Logger.MetadataValue, key: String, to out: inout String) {
        switch value {
        case .dictionary(let nested):
            appendJSONObject(nested, to: &out)
        case .array(let values):
            out += "["
            for (index, element) in values.enumerated() {
                if index > 0 { out += "," }
                appendJSONValue(element, key: key, to: &out)
            }
            out += "]"
        case .string, .stringConvertible:
            switch AttributeValue(value, key: key) {
            case .string(let text): appendJSONString(text, to: &out)
            case .literal(let literal): out += literal
            }
        }
    }

    /// A JSON string literal: quotes, backslashes and every control character escaped.
    static func appendJSONString(_ text: String, to out: inout String) {
        out += "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20 || scalar.value == 0x7f || scalar.value == 0x2028 || scalar.value == 0x2029:
                out += "\\u" + String(repeating: "0", count: 4 - String(scalar.value, radix: 16).count) + String(scalar.value, radix: 16)
            default: out.unicodeScalars.append(scalar)
            }
        }
        out += "\""
    }

    // MARK: logfmt

    private static let reserved: Set<String> = ["time", "level", "logger", "msg"]

    private func logfmt(time: String, level: Logger.Level, message: String, attributes: Logger.Metadata) -> String {
        var out = "time=\(time) level=\(level) logger=\(Self.logfmtValue(resource.serviceName)) msg=\(Self.logfmtValue(message))"
        for key in attributes.keys.sorted() {
            let name = Self.attributeKey(key)
            out += " " + (Self.reserved.contains(name) ? "attr_" + name : name) + "="
            switch attributes[key]! {
            case .string, .stringConvertible:
                switch AttributeValue(attributes[key]!, key: name) {
                case .string(let text): out += Self.logfmtValue(text)
                case .literal(let literal): out += literal
                }
            case let other: out += Self.logfmtValue("\(other)")
            }
        }
        return out + "\n"
    }

    /// A key in the one vocabulary: snake_case (`sl-cancellationSignals`, a library's key,
    /// becomes `sl_cancellation_signals`); dots separate namespaces (`postgres.sqlstate`);
    /// anything else becomes `_`.
    static func attributeKey(_ key: String) -> String {
        var word = ""
        var previousIsLower = false
        for scalar in key.unicodeScalars {
            switch scalar {
            case "A"..."Z":
                if previousIsLower { word += "_" }
                word.unicodeScalars.append(Unicode.Scalar(scalar.value + 32)!)
                previousIsLower = false
            case "a"..."z", "0"..."9":
                word.unicodeScalars.append(scalar)
                previousIsLower = true
            case ".", "_":
                word.unicodeScalars.append(scalar)
                previousIsLower = false
            default:
                word += "_"
                previousIsLower = false
            }
        }
        return word.isEmpty ? "_" : word
    }

    /// A value bare when it is one plain word, else quoted and escaped.
    static func logfmtValue(_ text: String) -> String {
        if !text.isEmpty, text.unicodeScalars.allSatisfy(isPlain) { return text }
        return "\"" + TerminalText.field(text).replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }

    private static func isPlain(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar {
        case "a"..."z", "A"..."Z", "0"..."9", "_", ".", "-", "/", ":", "@", "+": true
        default: false
        }
    }
}

/// A metadata value as an attribute: a string, or the literal of a number or boolean.
enum AttributeValue: Equatable {
    case string(String)
    case literal(String)

    init(_ value: Logger.MetadataValue, key: String) {
        switch value {
        case .stringConvertible(let convertible):
            switch convertible {
            case _ where Self.isIdentifier(key): self = .string("\(convertible)")
            case let bool as Bool: self = .literal(bool ? "true" : "false")
            case let integer as any BinaryInteger: self = .literal("\(integer)")
            case let double as Double where double.isFinite: self = .literal("\(double)")
            default: self = Self.typed("\(convertible)", key: key)
            }
        case .string(let text):
            self = Self.typed(text, key: key)
        default:
            self = .string("\(value)")
        }
    }

    /// Identifiers stay strings even when they look like numbers (a token or message id of
    /// digits must not change type from one line to the next).
    static func isIdentifier(_ key: String) -> Bool {
        key == "id" || key == "token" || key.hasSuffix("_id") || key.hasSuffix("_token") || key.hasSuffix(".id")
            || key.hasSuffix("code") || key.hasSuffix("sqlstate")
    }

    private static func typed(_ text: String, key: String) -> AttributeValue {
        guard !isIdentifier(key) else { return .string(text) }
        if text == "true" || text == "false" { return .literal(text) }
        if text.wholeMatch(of: /-?(0|[1-9][0-9]{0,17})/) != nil { return .literal(text) }
        if text.wholeMatch(of: /-?(0|[1-9][0-9]{0,15})\.[0-9]{1,15}/) != nil { return .literal(text) }
        return .string(text)
    }
}
