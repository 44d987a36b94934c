import ArgumentParser
import CommandSupport
import Settings
import Foundation
import Pipeline
import SQS

extension ETLCommand {
    /// `etl demo-messages`: realistic sample messages for the demo, tests and benchmarks.
    struct DemoMessages: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "demo-messages",
            abstract: "Generate realistic login messages (JSONL on stdout, or --send to the queue)."
        )

        @OptionGroup var common: CommonOptions

        @Option(help: "How many messages.")
        var count = 1000

        @Option(help: "One malformed message every N (0: none).")
        var malformedEvery = 50

        @Option(help: "Random seed (same seed, same messages).")
        var seed: UInt64 = 42

        @Flag(help: "Send to the configured queue (created if missing) instead of printing.")
        var send = false

        func validate() throws {
            guard count >= 0 else { throw ValidationError("--count must be 0 or more") }
            guard malformedEvery >= 0 else { throw ValidationError("--malformed-every must be 0 or more") }
        }

        func run() async throws {
            try await ErrorReporting.run(tool: "etl demo-messages") {
                let bodies = DemoData(count: count, malformedEvery: malformedEvery, seed: seed).bodies()
                guard send else {
                    var out = ""
                    for body in bodies { out += body + "\n" }
                    FileHandle.standardOutput.write(Data(out.utf8))
                    return
                }
                let settings = try common.loadSettings()
                let logger = try common.bootstrapLogging(label: "etl", settings: settings)
                let sqs = try SQSClientFactory.make(settings: settings, logger: logger)
                defer { sqs.shutdown() }
                let queueURL = try await SQSClientFactory.resolveQueueURL(settings: settings, client: sqs, logger: logger, createIfMissing: true)
                for start in stride(from: 0, to: bodies.count, by: 10) {
                    let entries = (start..<min(start + 10, bodies.count)).map {
                        SQSSendEntry(id: "\($0 - start)", body: bodies[$0], delaySeconds: nil)
                    }
                    let result = try await sqs.sendMessageBatch(queueURL: queueURL, entries: entries)
                    guard result.failed.isEmpty else {
                        throw CommandError(.refused, "SQS refused \(result.failed.count) messages of a batch (\(result.failed[0].code))")
                    }
                }
                print("sent \(bodies.count) messages")
            }
        }
    }
}
