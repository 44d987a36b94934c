import ArgumentParser
import CommandSupport
import Settings
import Logging
import Pipeline
import PIICrypto
import ServiceLifecycle
import SQS
import UnixSignals

extension ETLCommand {
    /// `etl run [--drain]`: consume the queue until SIGTERM/SIGINT (or until it is empty).
    struct Run: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Consume the queue until SIGTERM/SIGINT; with --drain, until it is empty."
        )

        @OptionGroup var common: CommonOptions
        @OptionGroup var metrics: MetricsOptions

        @Flag(help: "Exit 0 once the queue is empty.")
        var drain = false

        func run() async throws {
            try await ErrorReporting.run(tool: "etl run") {
                let settings = try common.loadSettings()
                let logger = try common.bootstrapLogging(label: "etl", settings: settings)
                let signals = await RunSignals.trap(logger: logger)
                defer { signals.stop() }
                let health = HealthState(stallLimit: .seconds(settings.stallSeconds))
                let endpoint = try await MetricsEndpoint.start(address: metrics.address(settings), health: health, logger: logger)
                defer { endpoint?.stop() }

                let sqs = try SQSClientFactory.make(settings: settings, logger: logger)
                defer { sqs.shutdown() }
                // SQS may be down at start: a SIGTERM while etl waits for it ends the wait
                // (exit 0, nothing consumed) instead of killing etl by the default action.
                guard let queueURL = try await signals.startup({
                    try await SQSClientFactory.resolveQueueURL(settings: settings, client: sqs, logger: logger, waitForService: true)
                }) else { return }
                let writer = BatchWriter(settings: settings, logger: logger)
                let watcher = ActiveKeysWatcher(
                    loader: ActiveKeysLoader(keys: KeyDirectory(path: settings.keysDirectory)),
                    writer: writer, health: health, logger: logger
                )
                let consumer = SQSConsumer(
                    configuration: ConsumerConfiguration(settings: settings, queueURL: queueURL, drain: drain),
                    sqs: sqs, writer: writer, watcher: watcher, health: health, logger: logger
                )
                let gauges = BacklogGauges(writer: writer, sqs: sqs, queueURL: queueURL, health: health, logger: logger)
                // SIGTERM and SIGINT are RunSignals', trapped since start-up.
                let group = RunServices.group(consumer: consumer, reporters: [gauges], logger: logger)
                try await signals.run(group)
                await writer.close()
                if drain {
                    let s = consumer.summary
                    print("drained: \(s.received) received, \(s.outcome.inserted) rows inserted, \(s.outcome.duplicates) duplicates skipped, \(s.outcome.quarantined) quarantined, \(s.deleted) deleted, \(s.deleteFailures) delete failures")
                }
            }
        }
    }
}
