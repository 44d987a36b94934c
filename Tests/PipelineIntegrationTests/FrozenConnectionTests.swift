import Foundation
import Pipeline
import Testing
import PipelineTestSupport
import TestSupport

/// Connections that stay open but never answer again (a half-open TCP connection after a
/// failover, a dead NAT or pooler): the proxy between `etl` and the service freezes every
/// connection it holds; new connections work. `etl` must give up on the frozen ones within
/// its deadlines, reconnect and land every message exactly once.
@Suite("frozen connections (real PostgreSQL + SQS endpoint)", .serialized, .enabled(if: TestServices.postgresEnabled && TestServices.sqsEnabled))
struct FrozenConnectionTests {
    @Test("PostgreSQL connection frozen mid-run: abandoned at the deadline, reconnected, exactly once")
    func databaseFrozen() async throws {
        let rig = try await FaultTests().rig("pgfrozen", messages: 200)
        let environment = rig.environment.merging([
            "DATABASE_BATCH_DEADLINE_SECONDS": "3", "DATABASE_POLL_DEADLINE_SECONDS": "3",
        ]) { $1 }
        let run = try ChildProcess.etl(["run", "--drain"], environment: environment)
        try await rig.waitForRows(atLeast: 20)
        rig.database.freeze()
        let frozen = ContinuousClock.now
        try await rig.waitForRows(atLeast: Int64(rig.valid), timeout: .seconds(40))
        print("recovery: PostgreSQL connection frozen -> all rows in \(seconds(since: frozen)) s")
        #expect(await run.exitStatus(timeout: .seconds(60)) == 0)
        // Whichever call meets the frozen connection first (a batch, the key poll or the backlog
        // gauges' refresh share it) gives up at the deadline; the connection says so.
        #expect(run.stderr.contains("postgres deadline passed"), "etl never gave up on the frozen connection")
        try await rig.expectExactlyOnce()
        #expect(try await rig.fixture.database.scalar("SELECT count(*) FROM etl_quarantine") == 200 / 25)
    }

    @Test("SQS connections frozen mid-run: requests abandoned at their timeout, retried, exactly once")
    func queueFrozen() async throws {
        let rig = try await FaultTests().rig("sqsfrozen", messages: 200)
        let environment = rig.environment.merging([
            "SQS_REQUEST_TIMEOUT_SECONDS": "2", "ETL_VISIBILITY_TIMEOUT": "6",
        ]) { $1 }
        // Messages whose ReceiveMessage answer was frozen come back after the (short)
        // visibility timeout.
        let run = try ChildProcess.etl(["run", "--drain"], environment: environment)
        try await rig.waitForRows(atLeast: 20)
        rig.queue.freeze()
        let frozen = ContinuousClock.now
        try await rig.waitForRows(atLeast: Int64(rig.valid), timeout: .seconds(40))
        print("recovery: SQS connections frozen -> all rows in \(seconds(since: frozen)) s")
        #expect(await run.exitStatus(timeout: .seconds(60)) == 0)
        #expect(run.stderr.contains("SQS request failed"), "etl never abandoned a frozen SQS request")
        #expect(run.stderr.contains("timeout"))
        try await rig.expectExactlyOnce()
    }
}
