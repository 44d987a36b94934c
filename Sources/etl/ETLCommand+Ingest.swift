import ArgumentParser
import CommandSupport
import Settings
import Foundation
import Logging
import Pipeline
import PIICrypto
import Postgres

extension ETLCommand {
    /// `etl ingest FILE|-`: the same pipeline from JSONL, for backfills.
    struct Ingest: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Ingest JSONL messages from a file or standard input (-), for backfills."
        )

        @OptionGroup var common: CommonOptions
        @OptionGroup var metrics: MetricsOptions

        @Argument(help: "A JSONL file, or - for standard input.")
        var file: String

        func run() async throws {
            try await ErrorReporting.run(tool: "etl ingest") {
                let settings = try common.loadSettings()
                let logger = try common.bootstrapLogging(label: "etl", settings: settings)
                let health = HealthState(stallLimit: .seconds(settings.stallSeconds))
                // Only when asked: a backfill beside `etl run` must not fight it for the port.
                let endpoint = try await MetricsEndpoint.start(address: metrics.requestedAddress, health: health, logger: logger)
                defer { endpoint?.stop() }
                if file != "-" && !FileManager.default.isReadableFile(atPath: file) {
                    throw CommandError(.invalidArgument, "cannot read \(file)")
                }
                let writer = BatchWriter(settings: settings, logger: logger)
                let loader = ActiveKeysLoader(keys: KeyDirectory(path: settings.keysDirectory))
                let progress = Progress(enabled: isatty(STDERR_FILENO) == 1)
                let summary = try await FileIngest(
                    writer: writer, loader: loader, batchSize: settings.ingestBatchSize,
                    retryBudget: .seconds(settings.retryBudgetSeconds), logger: logger
                )
                    .run(path: file) { progress.update($0) }
                progress.finish()
                await writer.close()
                print("ingested: \(summary.received) lines, \(summary.outcome.inserted) rows inserted, \(summary.outcome.duplicates) duplicates skipped, \(summary.outcome.quarantined) quarantined")
            }
        }
    }
}

/// A one-line progress display on a terminal (stderr), quiet otherwise.
final class Progress {
    private let enabled: Bool
    private let start = ContinuousClock.now
    private var last = ContinuousClock.now - .seconds(1)

    init(enabled: Bool) { self.enabled = enabled }

    func update(_ summary: RunSummary) {
        guard enabled, ContinuousClock.now - last >= .milliseconds(250) else { return }
        last = ContinuousClock.now
        let elapsed = Double((ContinuousClock.now - start).components.seconds) + Double((ContinuousClock.now - start).components.attoseconds) / 1e18
        let rate = elapsed > 0 ? Int(Double(summary.received) / elapsed) : 0
        FileHandle.standardError.write(Data("\r\(summary.received) lines, \(summary.outcome.inserted) inserted, \(summary.outcome.quarantined) quarantined (\(rate)/s)   ".utf8))
    }

    func finish() {
        if enabled { FileHandle.standardError.write(Data("\n".utf8)) }
    }
}
