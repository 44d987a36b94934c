import Foundation
import PIICrypto
import Pipeline
import Postgres
import SQS
import Testing
import TestSupport

/// `etl` as users run it: separate processes, signals, exit codes.
@Suite("etl processes (real PostgreSQL + SQS endpoint)", .enabled(if: TestServices.postgresEnabled && TestServices.sqsEnabled))
struct ETLProcessTests {
    /// Starts `etl ARGS` with the fixture's environment.
    func launch(_ arguments: [String], fixture: PipelineFixture, stdin: FileHandle? = nil) throws -> (Process, Pipe, Pipe) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try TestServices.executable("etl"))
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        environment["DATABASE_URL"] = fixture.database.url
        environment["KEYS_DIR"] = fixture.keys.directory.path
        environment["SQS_QUEUE_URL"] = fixture.queueURL
        environment["METRICS_ADDRESS"] = "off"
        environment["ETL_WAIT_TIME_SECONDS"] = "1"
        environment["ETL_BATCH_SIZE"] = "25"
        process.environment = environment
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        if let stdin { process.standardInput = stdin }
        try process.run()
        return (process, out, err)
    }

    func wait(_ process: Process, timeout: Duration = .seconds(120)) async throws {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning {
            if ContinuousClock.now > deadline {
                process.terminate()
                process.waitUntilExit()
                Issue.record("etl did not finish in time")
                return
            }
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    @Test("two `etl run --drain` processes on one queue store each valid message exactly once")
    func twoConsumers() async throws {
        let fixture = try await PipelineFixture.make("two")
        let bodies = DemoData(count: 200, malformedEvery: 20, seed: 7).bodies()
        try await fixture.send(bodies)
        let a = try launch(["run", "--drain"], fixture: fixture)
        let b = try launch(["run", "--drain"], fixture: fixture)
        try await wait(a.0)
        try await wait(b.0)
        #expect(a.0.terminationStatus == 0)
        #expect(b.0.terminationStatus == 0)
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
        run.0.terminate()  // SIGTERM
        try await wait(run.0)
        #expect(run.0.terminationReason == .exit)
        #expect(run.0.terminationStatus == 0)
        // Everything it committed was deleted; the rest is still queued: a second run finds
        // all 300 exactly once.
        let rest = try launch(["run", "--drain"], fixture: fixture)
        try await wait(rest.0)
        #expect(rest.0.terminationStatus == 0)
        #expect(try await fixture.database.scalar("SELECT count(*) FROM user_logins") == 300)
    }

    @Test("`etl ingest FILE` loads JSONL and is idempotent on re-run; a missing file is a usage error")
    func ingestFile() async throws {
        let fixture = try await PipelineFixture.make("ingest")
        let file = FileManager.default.temporaryDirectory.appendingPathComponent(TestServices.uniqueName("samples") + ".jsonl")
        try (Samples.bodies.joined(separator: "\n") + "\n").write(to: file, atomically: true, encoding: .utf8)
        for round in 0..<2 {
            let run = try launch(["ingest", file.path], fixture: fixture)
            try await wait(run.0)
            #expect(run.0.terminationStatus == 0)
            let out = String(decoding: run.1.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            #expect(out.contains(round == 0 ? "99 rows inserted" : "0 rows inserted"))
        }
        #expect(try await fixture.database.scalar("SELECT count(*) FROM user_logins") == 99)
        #expect(try await fixture.database.scalar("SELECT count(*) FROM etl_quarantine") == 1)

        let missing = try launch(["ingest", "/nonexistent/file.jsonl"], fixture: fixture)
        try await wait(missing.0)
        #expect(missing.0.terminationStatus == 64)
        let err = String(decoding: missing.2.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(err.split(separator: "\n").count == 1)
    }

    @Test("`etl migrate` with the database unreachable exits 69 with one line")
    func migrateUnreachable() async throws {
        let fixture = try await PipelineFixture.make("unreach")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try TestServices.executable("etl"))
        process.arguments = ["migrate"]
        var environment = ProcessInfo.processInfo.environment
        environment["DATABASE_URL"] = "postgresql://postgres@127.0.0.1:1/fetchde?connect_timeout=2"
        process.environment = environment
        let err = Pipe()
        process.standardError = err
        process.standardOutput = Pipe()
        try process.run()
        try await wait(process)
        _ = fixture
        #expect(process.terminationStatus == 69)
        let text = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(text.split(separator: "\n").count == 1)
        #expect(text.contains("database unavailable"))
    }
}
