import CommandSupport
import Foundation
import Logging
import Testing

/// The two line formats, record by record (the process-level tests are in LogFormatTests).
@Suite("log record encoding")
struct LogRecordEncoderTests {
    static let resource = LogResource(serviceName: "etl", serviceVersion: "9.8.7", hostName: "host-a")
    static let date = Date(timeIntervalSince1970: 1_700_000_000.5)

    func json(_ level: Logger.Level, _ message: String, _ attributes: Logger.Metadata) throws -> [String: Any] {
        let line = LogRecordEncoder(format: .json, resource: Self.resource).line(level: level, message: message, attributes: attributes, at: Self.date)
        #expect(line.hasSuffix("\n") && line.dropLast().firstIndex(of: "\n") == nil, "one line: \(line)")
        return try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
    }

    @Test("every level is one OpenTelemetry record with its severity number")
    func everyLevel() throws {
        let expected: [(Logger.Level, String, Int)] = [
            (.trace, "TRACE", 1), (.debug, "DEBUG", 5), (.info, "INFO", 9), (.notice, "NOTICE", 10),
            (.warning, "WARN", 13), (.error, "ERROR", 17), (.critical, "FATAL", 21),
        ]
        for (level, text, number) in expected {
            let record = try json(level, "batch committed", ["messages": "12"])
            #expect(record["timestamp"] as? String == "2023-11-14T22:13:20.500Z")
            #expect(record["severity_text"] as? String == text && record["severity_number"] as? Int == number)
            #expect(record["body"] as? String == "batch committed")
            #expect(record["resource"] as? [String: String] == ["service.name": "etl", "service.version": "9.8.7", "host.name": "host-a"])
            #expect((record["attributes"] as? [String: Any])?["messages"] as? Int == 12)
        }
    }

    @Test("attributes are typed; identifiers stay strings; a `message` key cannot overwrite the body")
    func typedAttributes() throws {
        let record = try json(.info, "the body", [
            "messages": "12", "negative": "-3", "ratio": "0.25", "ok": "true", "count": .stringConvertible(7),
            "error": "timeout after 2 s", "message": "forged", "message_id": "12345", "token": "00112233",
            "sl-cancellationSignals": "[]", "requestID": "r-1", "postgres.sqlstate": "40001",
            "leading_zero": "007", "huge": "123456789012345678901234", "nested": ["inner": "5"], "list": ["1", "x"],
        ])
        #expect(record["body"] as? String == "the body")
        let attributes = try #require(record["attributes"] as? [String: Any])
        #expect(attributes["messages"] as? Int == 12 && attributes["negative"] as? Int == -3 && attributes["count"] as? Int == 7)
        #expect(attributes["ratio"] as? Double == 0.25)
        #expect(attributes["ok"] as? Bool == true)
        #expect(attributes["error"] as? String == "timeout after 2 s" && attributes["message"] as? String == "forged")
        #expect(attributes["message_id"] as? String == "12345" && attributes["token"] as? String == "00112233")
        #expect(attributes["sl_cancellation_signals"] as? String == "[]" && attributes["request_id"] as? String == "r-1")
        #expect(attributes["postgres.sqlstate"] as? String == "40001" && attributes["requestID"] == nil)
        #expect(attributes["leading_zero"] as? String == "007" && attributes["huge"] as? String == "123456789012345678901234")
        #expect((attributes["nested"] as? [String: Any])?["inner"] as? Int == 5)
        #expect((attributes["list"] as? [Any])?.count == 2)
    }

    @Test("control characters and quotes in a value stay inside one JSON string")
    func jsonEscaping() throws {
        let hostile = "a\"b\\c\nd\u{1b}[2J\u{0}e\u{2028}"
        let record = try json(.error, hostile, ["error": .string(hostile)])
        #expect(record["body"] as? String == hostile)
        #expect((record["attributes"] as? [String: Any])?["error"] as? String == hostile)
    }

    @Test("logfmt: fixed leading fields, sorted keys, values quoted when not one word, no forged field or line")
    func logfmt() {
        let encoder = LogRecordEncoder(format: .text, resource: Self.resource)
        let line = encoder.line(level: .warning, message: "delete failed; retrying", attributes: [
            "messages": "3", "error": "x level=error\nmsg=forged \"q\"", "aws_code": "InternalError", "msg": "k", "empty": "",
        ], at: Self.date)
        #expect(line == #"time=2023-11-14T22:13:20.500Z level=warning logger=etl msg="delete failed; retrying" aws_code=InternalError empty="" error="x level=error\nmsg=forged \"q\"" messages=3 attr_msg=k"# + "\n")
    }
}
