import Foundation
import PIICrypto
import Testing
import PipelineTestSupport
import TestSupport

/// `--log-format json` as a log shipper sees it: the real `etl` binary, real messages.
@Suite("etl --log-format json (real PostgreSQL + SQS endpoint)", .enabled(if: TestServices.postgresEnabled && TestServices.sqsEnabled))
struct LogFormatTests {
    static let levels = ["trace", "debug", "info", "notice", "warning", "error", "critical"]

    /// Runs `etl run --drain ARGS` over the take-home's 100 real messages and returns its
    /// stderr lines, stdout and exit status.
    func drainSamples(_ arguments: [String], environment extra: [String: String] = [:]) async throws -> (lines: [String], stdout: String, status: Int32) {
        let fixture = try await PipelineFixture.make("logfmt")
        try await fixture.send(Samples.bodies)
        var environment = [
            "DATABASE_URL": fixture.database.url, "KEYS_DIR": fixture.keys.directory.path, "SQS_QUEUE_URL": fixture.queueURL,
        ]
        environment.merge(extra) { $1 }
        let etl = try ChildProcess.etl(["run", "--drain"] + arguments, environment: environment)
        let status = await etl.exitStatus()
        #expect(try await fixture.database.scalar("SELECT count(*) FROM user_logins") == 99)
        return (etl.stderr.split(separator: "\n", omittingEmptySubsequences: false).map(String.init).filter { !$0.isEmpty }, etl.stdout, status)
    }

    /// Each line decoded as one JSON object, or an issue.
    func objects(_ lines: [String]) -> [[String: Any]] {
        lines.compactMap { line in
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
                Issue.record("not one JSON object: \(line.prefix(300))")
                return nil
            }
            return object
        }
    }

    static let severities: [String: Int] = ["TRACE": 1, "DEBUG": 5, "INFO": 9, "NOTICE": 10, "WARN": 13, "ERROR": 17, "FATAL": 21]

    @Test("every stderr line is one OpenTelemetry log record: timestamp, severity, body, typed attributes, resource; no PII even at trace")
    func jsonLines() async throws {
        let run = try await drainSamples(["--log-format", "json", "--log-level", "trace"])
        #expect(run.status == 0)
        #expect(run.stdout.hasPrefix("drained: ") && run.stdout.contains(" 99 rows inserted"))  // the summary stays on stdout, as text
        let records = objects(run.lines)
        #expect(records.count == run.lines.count)
        #expect(records.count > 10)
        var host = [UInt8](repeating: 0, count: 256)
        gethostname(&host, 255)
        for record in records {
            #expect(Set(record.keys) == ["timestamp", "severity_text", "severity_number", "body", "attributes", "resource"], "\(record)")
            let severity = record["severity_text"] as? String ?? ""
            #expect(Self.severities[severity] != nil && record["severity_number"] as? Int == Self.severities[severity], "\(record)")
            #expect(!(record["body"] as? String ?? "").isEmpty, "\(record)")
            let time = record["timestamp"] as? String ?? ""
            #expect(time.wholeMatch(of: /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z/) != nil, "timestamp \(time)")
            #expect(record["attributes"] is [String: Any], "\(record)")
            let resource = record["resource"] as? [String: String] ?? [:]
            #expect(resource["service.name"] == "etl" && resource["service.version"]?.isEmpty == false, "\(record)")
            #expect(resource["host.name"] == String(decoding: host.prefix { $0 != 0 }, as: UTF8.self), "\(record)")
        }
        func attributes(_ record: [String: Any]) -> [String: Any] { record["attributes"] as? [String: Any] ?? [:] }
        // trace and debug records are there; attributes are typed: counts are JSON numbers.
        #expect(records.contains { $0["severity_text"] as? String == "TRACE" })
        let committed = records.filter { $0["body"] as? String == "batch committed" }
        #expect(!committed.isEmpty)
        for record in committed {
            #expect(record["severity_text"] as? String == "DEBUG")
            let fields = attributes(record)
            #expect(fields["messages"] is Int && fields["commit_ms"] is Int, "\(fields)")
            #expect(!(fields["messages"] is String))
        }
        let stopped = try #require(records.first { $0["body"] as? String == "consumer stopped" })
        #expect(stopped["severity_text"] as? String == "NOTICE" && stopped["severity_number"] as? Int == 10)
        let counts = attributes(stopped)
        // SQS may deliver a message twice (moto does under concurrent receives): counts, not equality.
        #expect((counts["received"] as? Int ?? 0) >= 100 && counts["deleted"] as? Int == counts["received"] as? Int)
        #expect(counts["inserted"] as? Int == 99 && counts["quarantined"] as? Int == 1)
        // One spelling of each key: snake_case everywhere.
        for record in records {
            for key in attributes(record).keys {
                #expect(key.wholeMatch(of: /[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*/) != nil, "attribute key \(key) is not snake_case")
            }
        }

        let secrets = Samples.records.flatMap { [$0["ip"] as! String, $0["device_id"] as! String] } + Samples.bodies + ["oops_wrong_msg_type"]
        for line in run.lines {
            for secret in secrets where line.contains(secret) {
                Issue.record("a log line carries PII: \(line.prefix(300))")
            }
        }
    }

    @Test("text format is logfmt: time, level, logger, quoted msg, then key=value pairs")
    func logfmtLines() async throws {
        let run = try await drainSamples(["--log-level", "debug"])
        #expect(run.status == 0)
        #expect(run.lines.count > 5)
        for line in run.lines {
            #expect(line.wholeMatch(of: /time=\S+Z level=[a-z]+ logger=etl msg=("([^"\\]|\\.)*"|\S+)( [a-z_][a-z0-9_.-]*=("([^"\\]|\\.)*"|[^ "=]+))*/) != nil, "not logfmt: \(line)")
        }
        #expect(run.lines.contains { $0.contains("msg=\"batch committed\"") && $0.contains(" messages=") })
    }

    @Test("--log-level filters (and wins over LOG_LEVEL); LOG_FORMAT=json works like the flag")
    func levelFilter() async throws {
        let run = try await drainSamples(["--log-level", "notice"], environment: ["LOG_FORMAT": "json", "LOG_LEVEL": "debug"])
        #expect(run.status == 0)
        let records = objects(run.lines)
        #expect(records.count == run.lines.count)
        let allowed = Set(["NOTICE", "WARN", "ERROR", "FATAL"])
        for record in records {
            #expect(allowed.contains(record["severity_text"] as? String ?? ""), "below --log-level notice: \(record)")
        }
        #expect(records.contains { $0["body"] as? String == "consumer stopped" })
        #expect(!records.contains { $0["body"] as? String == "queue drained" })  // info
    }

}

/// Usage errors need no services: they are reported before anything connects.
@Suite("etl --log-format usage errors")
struct LogFormatUsageTests {
    @Test("a bad --log-format flag is a usage error (64), a bad LOG_FORMAT a configuration error (78); one line on stderr")
    func badFormat() async throws {
        let cases: [([String], [String: String], Int32)] = [
            (["run", "--log-format", "xml"], [:], 64), (["run"], ["LOG_FORMAT": "xml"], 78), (["ingest", "-", "--log-format", "JSON"], [:], 64),
        ]
        for (arguments, environment, expected) in cases {
            let etl = try ChildProcess.etl(arguments, environment: environment.merging(["DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none"]) { $1 })
            let status = await etl.exitStatus(timeout: .seconds(30))
            #expect(status == expected, "\(arguments) \(environment)")
            let lines = etl.stderr.split(separator: "\n")
            #expect(lines.count == 1, "\(arguments): \(etl.stderr)")
            #expect(etl.stderr.contains("format must be text or json"), "\(etl.stderr)")
        }
    }
}
