import Foundation
import PIICrypto
import Pipeline
import Postgres
import Testing
import PipelineTestSupport
import TestSupport

/// What production databases say besides "unreachable" (SPEC §7): a lost grant, a read-only
/// node, a lock timeout. None of it is the messages' fault: nothing valid is quarantined,
/// nothing deleted before its row commits, and once the refusal ends every message lands
/// exactly once. `etl` runs as a process, consuming real messages through the SQS endpoint.
@Suite("database refusals (real PostgreSQL + SQS endpoint)", .serialized, .enabled(if: TestServices.postgresEnabled && TestServices.sqsEnabled))
struct DatabaseRefusalTests {
    /// Waits until `run` logged at least `count` retried database writes of SQLSTATE class
    /// `errorClass` (its log lines name the class, never the server's message).
    func waitForRetries(_ run: ChildProcess, errorClass: String, count: Int = 3) async throws {
        let deadline = ContinuousClock.now + .seconds(30)
        while retries(run, errorClass: errorClass) < count {
            guard ContinuousClock.now < deadline, run.isRunning else {
                Issue.record("etl did not retry \(count) times with error_class=\(errorClass); stderr:\n\(run.stderr.suffix(2000))")
                return
            }
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    func retries(_ run: ChildProcess, errorClass: String) -> Int {
        run.stderr.split(separator: "\n").filter {
            $0.contains("database write failed; retrying") && $0.contains("error_class=\(errorClass)")
        }.count
    }

    /// Only the malformed messages (one in 25) are in quarantine.
    func expectOnlyMalformedQuarantined(_ rig: FaultTests.Rig, messages: Int) async throws {
        #expect(try await rig.fixture.database.scalar("SELECT count(*) FROM etl_quarantine") == Int64(messages / 25))
    }

    @Test("INSERT revoked mid-run, then granted back: retried, nothing quarantined, exactly once")
    func insertRevoked() async throws {
        let rig = try await FaultTests().rig("revoked", messages: 150)
        let run = try ChildProcess.etl(["run", "--drain"], environment: rig.environment)
        try await rig.waitForRows(atLeast: 20)
        try await rig.fixture.database.query("REVOKE INSERT ON user_logins FROM etl_ingest")
        try await waitForRetries(run, errorClass: "42")
        let stuck = try await rig.rows()
        #expect(try await rig.fixture.database.scalar("SELECT count(*) FROM etl_quarantine") <= 150 / 25)
        try await rig.fixture.database.query("GRANT INSERT ON user_logins TO etl_ingest")
        let granted = ContinuousClock.now
        try await rig.waitForRows(atLeast: Int64(rig.valid))
        print("recovery: INSERT granted back -> all rows in \(seconds(since: granted)) s")
        #expect(await run.exitStatus() == 0)
        #expect(stuck < Int64(rig.valid))
        try await rig.expectExactlyOnce()
        try await expectOnlyMalformedQuarantined(rig, messages: 150)
        #expect(!run.stderr.contains("quarantined after database rejection"))
    }

    @Test("default_transaction_read_only on (sessions replaced), then off: nothing quarantined, exactly once")
    func readOnly() async throws {
        let rig = try await FaultTests().rig("readonly", messages: 150)
        let name = rig.fixture.database.name
        let run = try ChildProcess.etl(["run", "--drain"], environment: rig.environment)
        try await rig.waitForRows(atLeast: 20)
        // New sessions are read-only, as on a demoted primary; etl's sessions are ended so
        // it must reconnect and meet the change.
        try await rig.fixture.database.query("ALTER DATABASE \(name) SET default_transaction_read_only = on")
        try await rig.fixture.database.query(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND application_name = 'fetchde-etl'",
            [.text(name)])
        try await waitForRetries(run, errorClass: "25")
        let owner = try await rig.fixture.database.connect()  // read-only too, until it says otherwise
        try await owner.withSession { session in
            try session.execute("SET default_transaction_read_only = off")
            try session.execute("ALTER DATABASE \(name) SET default_transaction_read_only = off")
        }
        await owner.close()
        let writable = ContinuousClock.now
        try await rig.waitForRows(atLeast: Int64(rig.valid))
        print("recovery: database writable again -> all rows in \(seconds(since: writable)) s")
        #expect(await run.exitStatus() == 0)
        try await rig.expectExactlyOnce()
        try await expectOnlyMalformedQuarantined(rig, messages: 150)
    }

    @Test("lock_timeout behind an ACCESS EXCLUSIVE lock held by another session: retried, nothing quarantined, exactly once")
    func lockTimeout() async throws {
        let rig = try await FaultTests().rig("locktimeout", messages: 150)
        var environment = rig.environment
        let url = environment["DATABASE_URL"]!
        environment["DATABASE_URL"] = url + (url.contains("?") ? "&" : "?") + "options=-c%20lock_timeout%3D300"
        let run = try ChildProcess.etl(["run", "--drain"], environment: environment)
        try await rig.waitForRows(atLeast: 20)
        let lock = try await rig.fixture.database.connect()
        async let held: Void = lock.withSession { session in
            try session.transaction {
                try session.execute("LOCK TABLE user_logins IN ACCESS EXCLUSIVE MODE")
                try session.execute("SELECT pg_sleep(4)")
            }
        }
        try await waitForRetries(run, errorClass: "55", count: 2)
        try await held
        let released = ContinuousClock.now
        await lock.close()
        try await rig.waitForRows(atLeast: Int64(rig.valid))
        print("recovery: lock released -> all rows in \(seconds(since: released)) s")
        #expect(await run.exitStatus() == 0)
        try await rig.expectExactlyOnce()
        try await expectOnlyMalformedQuarantined(rig, messages: 150)
    }

    @Test("`etl ingest` under a revoked INSERT: retries, then exits 69 with one line; nothing quarantined; re-run completes")
    func ingestRevoked() async throws {
        let rig = try await FaultTests().rig("ingestrevoked", messages: 0, startProxies: false)
        let database = rig.fixture.database
        try await database.query("REVOKE INSERT ON user_logins FROM etl_ingest")
        let file = FileManager.default.temporaryDirectory.appendingPathComponent(TestServices.uniqueName("samples") + ".jsonl")
        try (Samples.bodies.joined(separator: "\n") + "\n").write(to: file, atomically: true, encoding: .utf8)
        let environment = [
            "DATABASE_URL": database.url, "KEYS_DIR": rig.fixture.keys.directory.path,
            "DATABASE_RETRY_BUDGET_SECONDS": "2", "LOG_LEVEL": "error",
        ]
        let refused = try ChildProcess.etl(["ingest", file.path], environment: environment)
        #expect(await refused.exitStatus(timeout: .seconds(30)) == 69)
        let lines = refused.stderr.split(separator: "\n")
        #expect(lines.count == 1, "\(refused.stderr)")
        #expect(lines.first?.contains("etl ingest: the database refused a batch") == true)
        #expect(lines.first?.contains("SQLSTATE 42501") == true)
        #expect(!refused.stdout.contains("ingested"))
        #expect(try await database.scalar("SELECT count(*) FROM etl_quarantine") == 0)
        #expect(try await database.scalar("SELECT count(*) FROM user_logins") == 0)

        try await database.query("GRANT INSERT ON user_logins TO etl_ingest")
        let again = try ChildProcess.etl(["ingest", file.path], environment: environment)
        #expect(await again.exitStatus(timeout: .seconds(60)) == 0)
        #expect(again.stdout.contains("99 rows inserted"))
        #expect(try await database.scalar("SELECT count(*) FROM user_logins") == 99)
        #expect(try await database.scalar("SELECT count(*) FROM etl_quarantine") == 1)
    }
}
