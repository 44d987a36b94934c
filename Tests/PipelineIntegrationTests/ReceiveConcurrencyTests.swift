import Pipeline
import Settings
import Testing
import PipelineTestSupport
import TestSupport

/// Receive concurrency follows the backlog: loops are added while receives come back full and
/// none are while the queue is shallow.
@Suite("receive concurrency (real PostgreSQL + SQS endpoint)", .enabled(if: TestServices.postgresEnabled && TestServices.sqsEnabled))
struct ReceiveConcurrencyTests {
    @Test("a backlog: more receive loops than receive_loops run, bounded by max_receive_loops; every message lands once")
    func backlogAddsLoops() async throws {
        let fixture = try await PipelineFixture.make("loops_backlog")
        let bodies = DemoData(count: 300, malformedEvery: 0, seed: 18).bodies()
        try await fixture.send(bodies)
        let summary = try await fixture.drain {
            $0.receiveLoops = 1
            $0.maxReceiveLoops = 6
        }
        #expect(summary.peakReceiveLoops > 1)
        #expect(summary.peakReceiveLoops <= 6)
        #expect(summary.outcome.inserted == 300)
        #expect(summary.deleted == summary.received)
        #expect(try await fixture.database.scalar("SELECT count(DISTINCT message_id) FROM user_logins") == 300)
    }

    @Test("a shallow queue (receives come back short): only the receive_loops base loops run")
    func shallowQueueKeepsBase() async throws {
        let fixture = try await PipelineFixture.make("loops_shallow")
        try await fixture.send(DemoData(count: 3, malformedEvery: 0, seed: 19).bodies())
        let summary = try await fixture.drain {
            $0.receiveLoops = 1
            $0.maxReceiveLoops = 6
        }
        #expect(summary.peakReceiveLoops == 1)
        #expect(summary.outcome.inserted == 3)
    }
}
