import Foundation
import PIICrypto
import Testing
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
        let etl = try ETLProcess(["run", "--drain"] + arguments, environment: environment)
        let status = try await etl.wait()
        #expect(try await fixture.database.scalar("SELECT count(*) FROM user_logins") == 99)
        return (etl.stderr.split(separator: "\n", omittingEmptySubsequences: false).map(String.init).filter { !$0.isEmpty }, etl.stdout, status)
    }

    /// Each line decoded as one JSON object whose values are all strings, or an issue.
    func objects(_ lines: [String]) -> [[String: String]] {
        lines.compactMap { line in
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                  let strings = object as? [String: String] else {
                Issue.record("not one JSON object of strings: \(line.prefix(300))")
                return nil
            }
            return strings
        }
    }

    @Test("every stderr line is one JSON object: time, level, label, message, metadata as fields; no PII even at trace")
    func jsonLines() async throws {
        let run = try await drainSamples(["--log-format", "json", "--log-level", "trace"])
        #expect(run.status == 0)
        #expect(run.stdout.hasPrefix("drained: ") && run.stdout.contains(" 99 rows inserted"))  // the summary stays on stdout, as text
        let records = objects(run.lines)
        #expect(records.count == run.lines.count)
        #expect(records.count > 10)
        for record in records {
            #expect(record["label"] == "etl", "\(record)")
            #expect(Self.levels.contains(record["level"] ?? ""), "\(record)")
            #expect(!(record["message"] ?? "").isEmpty, "\(record)")
            let time = record["time"] ?? ""
            #expect(time.wholeMatch(of: /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z/) != nil, "time \(time)")
        }
        // trace and debug records are there; metadata are top-level string fields.
        #expect(records.contains { $0["level"] == "trace" })
        let committed = records.filter { $0["message"] == "batch committed" }
        #expect(!committed.isEmpty && committed.allSatisfy { $0["level"] == "debug" && Int($0["messages"] ?? "") != nil })
        let stopped = try #require(records.first { $0["message"] == "consumer stopped" })
        #expect(stopped["level"] == "notice")
        // SQS may deliver a message twice (moto does under concurrent receives): counts, not equality.
        #expect(Int(stopped["received"] ?? "") ?? 0 >= 100 && stopped["deleted"] == stopped["received"])
        #expect(stopped["inserted"] == "99" && stopped["quarantined"] == "1")

        let secrets = Samples.records.flatMap { [$0["ip"] as! String, $0["device_id"] as! String] } + Samples.bodies + ["oops_wrong_msg_type"]
        for line in run.lines {
            for secret in secrets where line.contains(secret) {
                Issue.record("a log line carries PII: \(line.prefix(300))")
            }
        }
    }

    @Test("--log-level filters (and wins over LOG_LEVEL); LOG_FORMAT=json works like the flag")
    func levelFilter() async throws {
        let run = try await drainSamples(["--log-level", "notice"], environment: ["LOG_FORMAT": "json", "LOG_LEVEL": "debug"])
        #expect(run.status == 0)
        let records = objects(run.lines)
        #expect(records.count == run.lines.count)
        let allowed = Set(["notice", "warning", "error", "critical"])
        for record in records {
            #expect(allowed.contains(record["level"] ?? ""), "below --log-level notice: \(record)")
        }
        #expect(records.contains { $0["message"] == "consumer stopped" })
        #expect(!records.contains { $0["message"] == "queue drained" })  // info
    }

}

/// Usage errors need no services: they are reported before anything connects.
@Suite("etl --log-format usage errors")
struct LogFormatUsageTests {
    @Test("a bad --log-format (flag or LOG_FORMAT) exits 64 with one line on stderr")
    func badFormat() async throws {
        for (arguments, environment) in [(["run", "--log-format", "xml"], [:]), (["run"], ["LOG_FORMAT": "xml"]), (["ingest", "-", "--log-format", "JSON"], [:])] {
            let etl = try ETLProcess(arguments, environment: environment.merging(["DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none"]) { $1 })
            let status = try await etl.wait(timeout: .seconds(30))
            #expect(status == 64, "\(arguments) \(environment)")
            let lines = etl.stderr.split(separator: "\n")
            #expect(lines.count == 1, "\(arguments): \(etl.stderr)")
            #expect(etl.stderr.contains("format must be text or json"), "\(etl.stderr)")
        }
    }
}
