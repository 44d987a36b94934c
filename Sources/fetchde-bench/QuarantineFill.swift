import ArgumentParser
import Foundation
import Logging
import PIICrypto
import Pipeline

extension Bench {
    /// Fills `etl_quarantine` for `scripts/bench-quarantine.sh` with the rows `etl ingest FILE`
    /// writes when the database rejects every line as data, in batches instead of one
    /// transaction per message: each line gets the message id `etl ingest` gives it and the
    /// reason the caller read from a real rejection, and goes through the pipeline's own
    /// writer (sealed under a data key of the active vault key, as `etl` seals a poison
    /// message). Only the fill is faster; the replay measured is the real command.
    struct QuarantineFill: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "quarantine-fill",
            abstract: "Quarantine every line of a JSONL file as etl ingest would after a database rejection (benchmarks only)."
        )

        @Argument(help: "A JSONL file (the lines etl ingest would read).")
        var file: String

        @Option(help: "The quarantine reason (as a real rejection recorded it).")
        var reason: String

        @Option(help: "Skip the first N lines (already quarantined by a real etl ingest).")
        var skip = 0

        @Option(help: "Messages per batch transaction.")
        var batch = 5000

        func run() async throws {
            let environment = ProcessInfo.processInfo.environment
            let logger = Logger(label: "fetchde-bench")
            let writer = BatchWriter(
                url: environment["DATABASE_URL"], dekMaxEncryptions: 1_000_000, fallbackDate: "1970-01-01", logger: logger)
            let loader = ActiveKeysLoader(keys: KeyDirectory(path: environment["KEYS_DIR"] ?? "keys"))
            let keys = try await loader.loadActive(using: writer)
            let data = try [UInt8](Data(contentsOf: URL(fileURLWithPath: file)))
            var messages: [IncomingMessage] = []
            var quarantined = 0
            // Numbered like etl ingest's reader: 1-based, blank lines counted and skipped.
            for (index, line) in data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).enumerated() {
                let number = index + 1
                guard number > skip, !line.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) else { continue }
                messages.append(IncomingMessage(
                    messageID: FileIngest.messageID(line: number, bytes: line), body: Array(line), quarantineReason: reason))
                if messages.count == batch {
                    quarantined += try await writer.write(messages, keys: keys).quarantined
                    messages.removeAll(keepingCapacity: true)
                }
            }
            if !messages.isEmpty { quarantined += try await writer.write(messages, keys: keys).quarantined }
            await writer.close()
            print("quarantined \(quarantined)")
        }
    }
}
