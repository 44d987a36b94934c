import Logging
import Pipeline
import ServiceLifecycle
import Settings
import SQS
import Synchronization
import Testing
import PipelineTestSupport
import TestSupport

/// `SQSConsumer` in-process, in a `ServiceGroup` as `etl run` runs it, shut down gracefully
/// while messages are still queued: it must return without hanging, having committed what it
/// received and deleted exactly what it committed.
@Suite("consumer graceful shutdown in-process (real PostgreSQL + SQS endpoint)",
       .enabled(if: TestServices.postgresEnabled && TestServices.sqsEnabled))
struct ConsumerShutdownTests {
    @Test("graceful shutdown mid-stream: returns, every received message committed and deleted, the rest still queued")
    func gracefulShutdownMidStream() async throws {
        let total = 400
        let fixture = try await PipelineFixture.make("shutdown")
        try await fixture.send(DemoData(count: total, malformedEvery: 40, seed: 21).bodies())

        var settings = try fixture.settings()
        settings.receiveLoops = 1
        settings.maxReceiveLoops = 1
        settings.batchSize = 20
        // A small in-flight budget: the receive loop waits for room, so the queue is still far
        // from consumed when the shutdown comes.
        settings.maxInFlight = 40
        let logs = LogCapture()
        let logger = logs.logger(level: .info)
        let health = HealthState()
        let writer = BatchWriter(url: fixture.database.url, dekMaxEncryptions: 1_000_000, fallbackDate: "2000-01-01", logger: logger)
        let watcher = ActiveKeysWatcher(loader: ActiveKeysLoader(keys: fixture.keys.directory), writer: writer, health: health, logger: logger)
        let consumer = SQSConsumer(
            configuration: ConsumerConfiguration(settings: settings, queueURL: fixture.queueURL, drain: false),
            sqs: fixture.sqs, writer: writer, watcher: watcher, health: health, logger: logger
        )
        let group = ServiceGroup(configuration: .init(
            services: [.init(service: consumer, successTerminationBehavior: .gracefullyShutdownGroup)],
            gracefulShutdownSignals: [], logger: logger
        ))

        let returned = try await withThrowingTaskGroup(of: Bool.self) { tasks in
            tasks.addTask {
                try await group.run()
                return true
            }
            // Mid-stream: some batches committed, most of the queue still there.
            let deadline = ContinuousClock.now + .seconds(120)
            while try await fixture.database.scalar("SELECT count(*) FROM user_logins") < 40 {
                guard ContinuousClock.now < deadline else { throw FixtureTimeout("no batch committed in 120 s") }
                try await Task.sleep(for: .milliseconds(50))
            }
            await group.triggerGracefulShutdown()
            // Not a timing measure: a shutdown that finishes what it holds returns within a
            // long poll and a few commits; one that hangs never does.
            tasks.addTask {
                try await Task.sleep(for: .seconds(60))
                return false
            }
            let first = try await tasks.next()!
            tasks.cancelAll()
            return first
        }
        #expect(returned, "the consumer did not return after graceful shutdown")
        await writer.close()

        let summary = consumer.summary
        #expect(summary.received < total, "the queue was consumed before the shutdown: nothing was tested")
        // Everything received was committed (inserted or quarantined) and then deleted.
        let outcome = summary.outcome
        #expect(outcome.inserted + outcome.duplicates + outcome.quarantined == summary.received)
        #expect(summary.deleted == summary.received, "\(summary)")
        #expect(summary.deleteFailures == 0)
        let rows = try await fixture.database.scalar("SELECT count(*) FROM user_logins")
        let quarantined = try await fixture.database.scalar("SELECT count(*) FROM etl_quarantine")
        #expect(rows == Int64(outcome.inserted))
        #expect(quarantined == Int64(outcome.quarantined))
        #expect(logs.lines.contains { $0.contains("consumer stopped") })

        // Nothing is left in flight: every message received was deleted, the rest is visible.
        let attributes = try await fixture.sqs.getQueueAttributes(
            queueURL: fixture.queueURL, names: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
        )
        #expect(attributes["ApproximateNumberOfMessagesNotVisible"] == "0", "\(attributes)")
        #expect(attributes["ApproximateNumberOfMessages"] == "\(total - summary.received)", "\(attributes)")

        // A second run takes exactly the remainder and sees none of the first run's messages
        // again. One receive loop: the endpoint's concurrent receives may hand a message out
        // twice, which would be counted as a duplicate here without being the first run's.
        let rest = try await fixture.drain { settings in
            settings.receiveLoops = 1
            settings.maxReceiveLoops = 1
        }
        #expect(rest.received == total - summary.received, "\(rest)")
        #expect(rest.outcome.duplicates == 0, "a committed message came back: its delete was skipped")
        let malformed = total / 40
        #expect(try await fixture.database.scalar("SELECT count(*) FROM user_logins") == Int64(total - malformed))
        #expect(try await fixture.database.scalar("SELECT count(DISTINCT message_id) FROM user_logins") == Int64(total - malformed))
        #expect(try await fixture.database.scalar("SELECT count(*) FROM etl_quarantine") == Int64(malformed))
    }

    /// A reporter that notes, when its graceful shutdown comes, whether the consumer had
    /// already stopped (its health says "stopping" from the moment it is asked to).
    final class ShutdownProbe: Service, Sendable {
        let health: HealthState
        let started = Atomic<Bool>(false)
        let consumerStoppedFirst = Mutex<Bool?>(nil)

        init(health: HealthState) { self.health = health }

        func run() async throws {
            started.store(true, ordering: .relaxed)
            try? await gracefulShutdown()
            let stopped = health.summary.contains("stopping")
            consumerStoppedFirst.withLock { $0 = stopped }
        }
    }

    @Test("etl run's group: a graceful shutdown reaches the consumer before the reporters beside it (readiness says stopping at once)")
    func consumerStopsFirst() async throws {
        let fixture = try await PipelineFixture.make("shutdown_order")
        let settings = try fixture.settings()
        let health = HealthState()
        let writer = BatchWriter(url: fixture.database.url, dekMaxEncryptions: 1_000_000, fallbackDate: "2000-01-01", logger: .test)
        let watcher = ActiveKeysWatcher(loader: ActiveKeysLoader(keys: fixture.keys.directory), writer: writer, health: health, logger: .test)
        let consumer = SQSConsumer(
            configuration: ConsumerConfiguration(settings: settings, queueURL: fixture.queueURL, drain: false),
            sqs: fixture.sqs, writer: writer, watcher: watcher, health: health, logger: .test
        )
        let probe = ShutdownProbe(health: health)
        let group = RunServices.group(consumer: consumer, reporters: [probe], logger: .test)
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            let deadline = ContinuousClock.now + .seconds(30)
            while !probe.started.load(ordering: .relaxed) {
                guard ContinuousClock.now < deadline else { throw FixtureTimeout("the group did not start in 30 s") }
                try await Task.sleep(for: .milliseconds(20))
            }
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
        await writer.close()
        #expect(probe.consumerStoppedFirst.withLock { $0 } == true)
    }

    struct FixtureTimeout: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }
}
