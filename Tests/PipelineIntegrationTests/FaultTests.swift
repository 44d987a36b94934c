import Foundation
import PIICrypto
import Pipeline
import Postgres
import SQS
import Testing
import PipelineTestSupport
import TestSupport

/// What production does to the pipeline: kill -9, outages mid-run and at start, several
/// consumers, a slow database. `etl` reaches PostgreSQL and SQS through proxies the tests cut.
@Suite("faults (real PostgreSQL + SQS endpoint)", .serialized, .enabled(if: TestServices.postgresEnabled && TestServices.sqsEnabled))
struct FaultTests {
    struct Rig {
        let fixture: PipelineFixture
        let database: TCPProxy
        let queue: TCPProxy
        let valid: Int

        var environment: [String: String] {
            [
                "DATABASE_URL": replacingPort(of: fixture.database.url, with: database.port),
                "AWS_ENDPOINT_URL": "http://127.0.0.1:\(queue.port)",
                "SQS_QUEUE_URL": replacingPort(of: fixture.queueURL, with: queue.port),
                "KEYS_DIR": fixture.keys.directory.path,
            ]
        }

        func rows() async throws -> Int64 { try await fixture.database.scalar("SELECT count(*) FROM user_logins") }

        /// Every valid message exactly once, every malformed one quarantined once.
        func expectExactlyOnce() async throws {
            #expect(try await fixture.database.scalar("SELECT count(*) FROM user_logins") == Int64(valid))
            #expect(try await fixture.database.scalar("SELECT count(DISTINCT message_id) FROM user_logins") == Int64(valid))
        }

        func waitForRows(atLeast count: Int64, timeout: Duration = .seconds(120)) async throws {
            let deadline = ContinuousClock.now + timeout
            while try await rows() < count {
                guard ContinuousClock.now < deadline else {
                    Issue.record("rows did not reach \(count)")
                    return
                }
                try await Task.sleep(for: .milliseconds(50))
            }
        }
    }

    func rig(_ name: String, messages: Int, startProxies: Bool = true) async throws -> Rig {
        let fixture = try await PipelineFixture.make(name)
        let bodies = DemoData(count: messages, malformedEvery: 25, seed: UInt64(messages)).bodies()
        try await fixture.send(bodies)
        let database = try TCPProxy(target: port(of: fixture.database.url)!)
        let queue = try TCPProxy(target: port(of: try TestServices.requireSQSEndpoint())!)
        if startProxies {
            try await database.restore()
            try await queue.restore()
        }
        return Rig(fixture: fixture, database: database, queue: queue, valid: messages - messages / 25)
    }

    @Test("kill -9 at several moments, then restart: every valid message exactly once")
    func killNine() async throws {
        let rig = try await rig("kill9", messages: 250)
        // What a killed run held comes back after the visibility timeout it received with:
        // 5 s, not the default 60, so the last drain waits seconds for it.
        let shortVisibility = rig.environment.merging(["ETL_VISIBILITY_TIMEOUT": "5"]) { $1 }
        for threshold in [10, 60, 120] as [Int64] {
            let run = try ChildProcess.etl(["run"], environment: shortVisibility)
            try await rig.waitForRows(atLeast: threshold)
            await run.kill()
        }
        let rest = try ChildProcess.etl(["run", "--drain"], environment: rig.environment.merging(["ETL_VISIBILITY_TIMEOUT": "2"]) { $1 })
        // Messages held by the killed processes come back after their visibility timeout.
        #expect(await rest.exitStatus(timeout: .seconds(180)) == 0)
        try await rig.expectExactlyOnce()
    }

    @Test("PostgreSQL unreachable mid-run: retries with a log line, not ready meanwhile, recovers, exactly once")
    func databaseOutage() async throws {
        let rig = try await rig("pgdown", messages: 200)
        let metricsPort = try freePort()
        let run = try ChildProcess.etl(["run", "--drain", "--metrics-address", "127.0.0.1:\(metricsPort)"], environment: rig.environment)
        try await rig.waitForRows(atLeast: 20)
        await rig.database.cut()
        try await Task.sleep(for: .seconds(4))
        let ready = await httpGet(port: metricsPort, path: "/readyz")
        #expect(ready?.0 == 503, "not ready while the database is unreachable")
        #expect(await httpGet(port: metricsPort, path: "/healthz")?.0 == 200)
        try await rig.database.restore()
        #expect(await run.exitStatus() == 0)
        #expect(run.stderr.contains("database write failed; retrying") || run.stderr.contains("cannot load the active keys"))
        try await rig.expectExactlyOnce()
    }

    @Test("SQS endpoint unreachable mid-run: retries with a log line, recovers, exactly once")
    func queueOutage() async throws {
        let rig = try await rig("sqsdown", messages: 200)
        // Messages whose receive answer the cut lost stay invisible for the visibility timeout
        // before the drain can take them again: 5 s instead of the default 60 keeps the test
        // to seconds (with 60 it took 65–128 s, past its 120 s limit on a loaded machine).
        let run = try ChildProcess.etl(["run", "--drain"], environment: rig.environment.merging(["ETL_VISIBILITY_TIMEOUT": "5"]) { $1 })
        try await rig.waitForRows(atLeast: 20)
        await rig.queue.cut()
        try await Task.sleep(for: .seconds(4))
        try await rig.queue.restore()
        #expect(await run.exitStatus() == 0)
        #expect(run.stderr.contains("receive failed; retrying"))
        try await rig.expectExactlyOnce()
    }

    @Test("both services down at start: etl waits (no crash loop) and starts when they appear")
    func downAtStart() async throws {
        let rig = try await rig("downstart", messages: 100, startProxies: false)
        let run = try ChildProcess.etl(["run", "--drain"], environment: rig.environment)
        try await Task.sleep(for: .seconds(3))
        #expect(run.isRunning)
        try await rig.database.restore()
        try await rig.queue.restore()
        #expect(await run.exitStatus() == 0)
        try await rig.expectExactlyOnce()
    }

    @Test("three `etl run --drain` processes on one queue: exactly once")
    func threeConsumers() async throws {
        let rig = try await rig("three", messages: 300)
        let runs = try (0..<3).map { _ in try ChildProcess.etl(["run", "--drain"], environment: rig.environment) }
        for run in runs { #expect(await run.exitStatus() == 0) }
        try await rig.expectExactlyOnce()
    }

    @Test("a batch held up by a slow database gets its visibility extended instead of redelivered")
    func visibilityExtension() async throws {
        let rig = try await rig("slowdb", messages: 50)
        let metricsPort = try freePort()
        // Hold an exclusive lock on user_logins for longer than the whole visibility timeout
        // (inside one session: a transaction cannot outlive its session closure).
        let lock = try await rig.fixture.database.connect()
        async let held: Void = lock.withSession { session in
            try session.transaction {
                try session.execute("LOCK TABLE user_logins IN EXCLUSIVE MODE")
                try session.execute("SELECT pg_sleep(8)")
            }
        }
        try await Task.sleep(for: .milliseconds(300))
        let run = try ChildProcess.etl(
            ["run", "--drain", "--metrics-address", "127.0.0.1:\(metricsPort)"],
            environment: rig.environment.merging(["ETL_VISIBILITY_TIMEOUT": "4"]) { $1 }
        )
        var extended = false
        let deadline = ContinuousClock.now + .seconds(8)
        while ContinuousClock.now < deadline {
            if let (_, body) = await httpGet(port: metricsPort, path: "/metrics"),
               let line = body.split(separator: "\n").first(where: { $0.hasPrefix("etl_visibility_extended_total") }),
               let value = Double(line.split(separator: " ").last ?? ""), value > 0 {
                extended = true
            }
            try await Task.sleep(for: .milliseconds(250))
        }
        try await held
        await lock.close()
        #expect(await run.exitStatus() == 0)
        #expect(extended, "etl_visibility_extended_total stayed 0")
        try await rig.expectExactlyOnce()
    }
}
