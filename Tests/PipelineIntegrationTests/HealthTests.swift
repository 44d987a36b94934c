import Foundation
import PIICrypto
import Pipeline
import Postgres
import Testing
import PipelineTestSupport
import TestSupport

/// `/healthz`, `/readyz` and the one-shot exit of `etl run --drain` mean what they say
/// (SPEC §4, §8).
@Suite("health (real PostgreSQL + SQS endpoint)", .serialized, .enabled(if: TestServices.postgresEnabled && TestServices.sqsEnabled))
struct HealthTests {
    /// Holds an EXCLUSIVE lock on user_logins for `seconds` from its own session: batches
    /// wait behind it, reads (the key poll) do not.
    func holdLock(_ database: TestDatabase, seconds: Int) async throws -> (PostgresConnection, Task<Void, any Error>) {
        let lock = try await database.connect()
        let held = Task {
            try await lock.withSession { session in
                try session.transaction {
                    try session.execute("LOCK TABLE user_logins IN EXCLUSIVE MODE")
                    try session.execute("SELECT pg_sleep(\(seconds))")
                }
            }
        }
        try await Task.sleep(for: .milliseconds(300))
        return (lock, held)
    }

    /// Polls `path` until it answers `status` (true) or `timeout` passes (false).
    func await(_ path: String, port: Int, status: Int, timeout: Duration) async throws -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if await httpGet(port: port, path: path)?.0 == status { return true }
            try await Task.sleep(for: .milliseconds(100))
        }
        return false
    }

    @Test("a wedged batch loop (a lock held past the stall limit) fails /healthz; progress heals it")
    func wedgedLoopFailsHealthz() async throws {
        let rig = try await FaultTests().rig("wedged", messages: 100)
        let metricsPort = try freePort()
        // The lock is held until /healthz has failed (however slowly a loaded machine starts etl),
        // then released by cancelling the holder's sleep.
        let (lock, held) = try await holdLock(rig.fixture.database, seconds: 120)
        let run = try ChildProcess.etl(
            ["run", "--drain", "--metrics-address", "127.0.0.1:\(metricsPort)"],
            environment: rig.environment.merging(["METRICS_STALL_SECONDS": "2"]) { $1 })
        #expect(try await self.await("/healthz", port: metricsPort, status: 503, timeout: .seconds(60)), "/healthz never failed while wedged")
        _ = try await rig.fixture.database.scalar(
            "SELECT count(pg_cancel_backend(pid)) FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(120)' AND pid <> pg_backend_pid()"
        )
        _ = try? await held.value
        await lock.close()
        #expect(try await self.await("/healthz", port: metricsPort, status: 200, timeout: .seconds(10)), "/healthz did not recover")
        #expect(await run.exitStatus() == 0)
        try await rig.expectExactlyOnce()
    }

    @Test("/readyz is 503 right after SIGTERM while a batch is still finishing; the batch then commits")
    func notReadyFromShutdown() async throws {
        let rig = try await FaultTests().rig("readyterm", messages: 60)
        let metricsPort = try freePort()
        let run = try ChildProcess.etl(["run", "--metrics-address", "127.0.0.1:\(metricsPort)"], environment: rig.environment)
        #expect(try await self.await("/readyz", port: metricsPort, status: 200, timeout: .seconds(20)), "never ready")
        try await rig.waitForRows(atLeast: 1)
        let (lock, held) = try await holdLock(rig.fixture.database, seconds: 4)
        try await rig.fixture.send(DemoData(count: 20, malformedEvery: 0, seed: 5).bodies())
        try await Task.sleep(for: .seconds(1))  // a batch is now waiting behind the lock
        run.signal(SIGTERM)
        try await Task.sleep(for: .milliseconds(300))
        #expect(run.isRunning, "etl should still be finishing its batch")
        let ready = await httpGet(port: metricsPort, path: "/readyz")
        #expect(ready?.0 == 503, "/readyz said \(String(describing: ready)) during shutdown")
        #expect(ready?.1.contains("stopping") == true)
        try await held.value
        await lock.close()
        #expect(await run.exitStatus() == 0)
        #expect(try await rig.rows() > 0)
    }

    @Test("`etl run --drain` with a token key file others can read exits 77 with one line")
    func drainWithLooseKeyExits77() async throws {
        let rig = try await FaultTests().rig("loosekey", messages: 10)
        let path = rig.fixture.keys.directory.tokenKeyPath(version: 1)
        #expect(chmod(path, 0o644) == 0)
        let run = try ChildProcess.etl(["run", "--drain"], environment: rig.environment)
        #expect(await run.exitStatus(timeout: .seconds(30)) == 77)
        let lines = run.stderr.split(separator: "\n")
        #expect(lines.count == 1, "\(run.stderr)")
        #expect(lines.first?.hasPrefix("etl run: ") == true)
        #expect(try await rig.rows() == 0)
    }
}
