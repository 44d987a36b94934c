import Foundation
import PIICrypto
import Pipeline
import Postgres
import SQS
import Testing
import PipelineTestSupport
import TestSupport

/// `etl` as users run it: separate processes, signals, exit codes.
@Suite("etl processes (real PostgreSQL + SQS endpoint)", .enabled(if: TestServices.postgresEnabled && TestServices.sqsEnabled))
struct ETLProcessTests {
    /// Starts `etl ARGS` with the fixture's environment.
    func launch(_ arguments: [String], fixture: PipelineFixture) throws -> ChildProcess {
        try ChildProcess(product: "etl", arguments, environment: ChildProcess.inheritedEnvironment(merging: [
            "DATABASE_URL": fixture.database.url, "KEYS_DIR": fixture.keys.directory.path, "SQS_QUEUE_URL": fixture.queueURL,
            "METRICS_ADDRESS": "off", "ETL_WAIT_TIME_SECONDS": "1", "ETL_BATCH_SIZE": "25",
        ]))
    }

    @Test("two `etl run --drain` processes on one queue store each valid message exactly once")
    func twoConsumers() async throws {
        let fixture = try await PipelineFixture.make("two")
        let bodies = DemoData(count: 200, malformedEvery: 20, seed: 7).bodies()
        try await fixture.send(bodies)
        let a = try launch(["run", "--drain"], fixture: fixture)
        let b = try launch(["run", "--drain"], fixture: fixture)
        #expect(await a.exitStatus() == 0)
        #expect(await b.exitStatus() == 0)
        #expect(try await fixture.database.scalar("SELECT count(*) FROM user_logins") == 190)
        #expect(try await fixture.database.scalar("SELECT count(DISTINCT message_id) FROM user_logins") == 190)
        #expect(try await fixture.database.scalar("SELECT count(*) FROM etl_quarantine") == 10)
    }

    @Test("SIGTERM mid-run: exit 0, what was received is committed and deleted, nothing lost")
    func sigterm() async throws {
        let fixture = try await PipelineFixture.make("term")
        let bodies = DemoData(count: 300, malformedEvery: 0, seed: 9).bodies()
        try await fixture.send(bodies)
        let run = try launch(["run"], fixture: fixture)
        let deadline = ContinuousClock.now + .seconds(60)
        while try await fixture.database.scalar("SELECT count(*) FROM user_logins") < 30 && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(50))
        }
        run.signal(SIGTERM)
        let stopped = await run.wait()
        #expect(!stopped.signalled && !stopped.timedOut)
        #expect(stopped.status == 0, "\(stopped)")
        // Everything it committed was deleted; the rest is still queued: a second run finds
        // all 300 exactly once.
        let rest = try launch(["run", "--drain"], fixture: fixture)
        #expect(await rest.exitStatus() == 0)
        #expect(try await fixture.database.scalar("SELECT count(*) FROM user_logins") == 300)
    }

    @Test("`etl ingest FILE` loads JSONL and is idempotent on re-run; a missing file is a usage error")
    func ingestFile() async throws {
        let fixture = try await PipelineFixture.make("ingest")
        let file = FileManager.default.temporaryDirectory.appendingPathComponent(TestServices.uniqueName("samples") + ".jsonl")
        try (Samples.bodies.joined(separator: "\n") + "\n").write(to: file, atomically: true, encoding: .utf8)
        for round in 0..<2 {
            let run = try await launch(["ingest", file.path], fixture: fixture).wait()
            #expect(run.status == 0, "\(run)")
            #expect(run.stdout.contains(round == 0 ? "99 rows inserted" : "0 rows inserted"))
        }
        #expect(try await fixture.database.scalar("SELECT count(*) FROM user_logins") == 99)
        #expect(try await fixture.database.scalar("SELECT count(*) FROM etl_quarantine") == 1)

        let missing = try await launch(["ingest", "/nonexistent/file.jsonl"], fixture: fixture).wait()
        #expect(missing.status == 64)
        #expect(missing.stderrLines.count == 1, "\(missing)")
    }

    @Test("`etl migrate` with the database unreachable exits 69 with one line")
    func migrateUnreachable() async throws {
        let fixture = try await PipelineFixture.make("unreach")
        let result = try await ChildProcess.run(product: "etl", ["migrate"], environment: ChildProcess.inheritedEnvironment(merging: [
            "DATABASE_URL": "postgresql://postgres@127.0.0.1:1/fetchde?connect_timeout=2",
        ]))
        _ = fixture
        #expect(result.status == 69)
        #expect(result.stderrLines.count == 1, "\(result)")
        #expect(result.stderr.contains("database unavailable"))
    }
}
