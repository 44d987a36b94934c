import Foundation
import PIICrypto
import Pipeline
import Postgres
import Testing
import PipelineTestSupport
import TestSupport

/// A real failover: a primary with a synchronous streaming standby (scripts/pg-standby-pair.sh),
/// `etl` connected through a multi-host URL with `target_session_attrs=read-write`; mid-run the
/// primary crashes (`pg_ctl stop -m immediate`) and the standby is promoted.
@Suite(
    "failover (two local PostgreSQL clusters + SQS endpoint)", .serialized,
    .enabled(if: TestServices.postgresEnabled && TestServices.sqsEnabled
        && ProcessInfo.processInfo.environment["FETCHDE_PG_BIN"] != nil)
)
struct FailoverTests {
    /// Runs `scripts/pg-standby-pair.sh COMMAND DIR` and returns its standard output.
    @discardableResult
    func pair(_ command: String, _ directory: String) async throws -> String {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("scripts/pg-standby-pair.sh")
        let result = try await ChildProcess.run(path: "/usr/bin/env", ["bash", script.path, command, directory], timeout: .seconds(90))
        guard result.status == 0, !result.signalled, !result.timedOut else {
            throw MissingService(variable: "pg-standby-pair.sh \(command) (failed: \(result))")
        }
        return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The row count, or nil while no read-write node answers.
    func rows(_ database: TestDatabase) async -> Int64? {
        try? await database.scalar("SELECT count(*) FROM user_logins")
    }

    @Test("primary crashes mid-run, standby promoted: the multi-host URL follows, every message exactly once")
    func promotedStandby() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(TestServices.uniqueName("pgpair")).path
        let ports = try await pair("start", directory).split(separator: " ")
        do {
            try await failover(directory: directory, ports: ports.map(String.init))
        } catch {
            _ = try? await pair("stop", directory)
            throw error
        }
        try await pair("stop", directory)
    }

    func failover(directory: String, ports: [String]) async throws {
        let base = "postgresql://postgres@127.0.0.1:\(ports[0]),127.0.0.1:\(ports[1])/postgres?target_session_attrs=read-write&connect_timeout=2"
        let fixture = try await PipelineFixture.make("failover", databaseURL: base)
        let messages = 300
        try await fixture.send(DemoData(count: messages, malformedEvery: 25, seed: 13).bodies())
        let valid = Int64(messages - messages / 25)
        let run = try ChildProcess.etl(["run", "--drain"], environment: [
            "DATABASE_URL": fixture.database.url, "KEYS_DIR": fixture.keys.directory.path,
            "SQS_QUEUE_URL": fixture.queueURL, "DATABASE_BATCH_DEADLINE_SECONDS": "5",
            "DATABASE_POLL_DEADLINE_SECONDS": "5",
        ])
        let start = ContinuousClock.now
        while (await rows(fixture.database) ?? 0) < 30 {
            guard ContinuousClock.now - start < .seconds(60) else {
                Issue.record("etl did not start writing; stderr:\n\(run.stderr.suffix(3000))")
                return
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        try await pair("stop-primary", directory)
        let crashed = ContinuousClock.now
        try await pair("promote", directory)
        while (await rows(fixture.database) ?? 0) < valid {
            guard ContinuousClock.now - crashed < .seconds(60) else {
                Issue.record("rows did not reach \(valid) after the failover; stderr:\n\(run.stderr.suffix(3000))")
                break
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        let elapsed = ContinuousClock.now - crashed
        print("recovery: primary crashed, standby promoted -> all rows in \(elapsed.components.seconds).\(elapsed.components.attoseconds / 100_000_000_000_000_000) s")
        #expect(await run.exitStatus(timeout: .seconds(60)) == 0)
        #expect(try await fixture.database.scalar("SELECT count(*) FROM user_logins") == valid)
        #expect(try await fixture.database.scalar("SELECT count(DISTINCT message_id) FROM user_logins") == valid)
        #expect(try await fixture.database.scalar("SELECT count(*) FROM etl_quarantine") == Int64(messages / 25))
    }
}
