import ArgumentParser
import Foundation
import Logging
import SQS
import Synchronization

extension Bench {
    /// Drain throughput of the SQS client: K concurrent receive(10) + DeleteMessageBatch loops
    /// on one client, against the endpoint of `AWS_ENDPOINT_URL(_SQS)`.
    struct SQSBench: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "sqs-drain",
            abstract: "Msgs/s draining a queue with K concurrent receive+delete loops (see scripts/bench-sqs.sh)."
        )

        @Option(help: "Messages to drain (distinct message ids deleted) before stopping.")
        var messages: Int = 2000

        @Option(help: "Concurrent receive+delete loops.")
        var loops: Int = 4

        @Option(name: .customLong("protocol"), help: "Wire protocol: json, query or auto.")
        var wireProtocol: String = "json"

        @Option(help: "Queue URL (default: SQS_QUEUE_URL, else GetQueueUrl of --queue-name).")
        var queueURL: String?

        @Option(help: "Queue name, when no URL is given.")
        var queueName: String = "fetchde-bench"

        @Option(help: "Long-poll wait per receive, seconds (0-20).")
        var waitTime: Int = 1

        @Option(help: "Give up after this many seconds.")
        var timeout: Double = 600

        @Option(help: "Stop early when nothing was deleted for this many seconds (an emulator that lost messages).")
        var idleExit: Double = 15

        @Flag(help: "Print only `msgs_per_second<TAB>value` (for scripts).")
        var tsv = false

        @Flag(help: "Log the client's retries (info level) to stderr.")
        var verbose = false

        func validate() throws {
            guard messages > 0 else { throw ValidationError("--messages must be positive") }
            guard (1...256).contains(loops) else { throw ValidationError("--loops must be in 1...256") }
            guard SQSWireProtocol(rawValue: wireProtocol) != nil else { throw ValidationError("--protocol must be json, query or auto") }
            guard (0...20).contains(waitTime) else { throw ValidationError("--wait-time must be in 0...20") }
        }

        func run() async throws {
            var logger = Logger(label: "fetchde.bench.sqs")
            logger.logLevel = verbose ? .info : .warning
            var configuration = SQSConfiguration.fromEnvironment(wireProtocol: SQSWireProtocol(rawValue: wireProtocol)!)
            configuration.maxIdleConnections = max(8, loops * 2)
            let client = try SQSClient(configuration: configuration, logger: logger)
            defer { client.shutdown() }
            let environmentURL = ProcessInfo.processInfo.environment["SQS_QUEUE_URL"].flatMap { $0.isEmpty ? nil : $0 }
            let queue: String
            if let url = queueURL ?? environmentURL { queue = url } else { queue = try await client.getQueueURL(name: queueName) }

            let target = messages
            let clock = ContinuousClock()
            let start = clock.now
            let progress = DrainProgress(start: start)
            let deadline = start + .milliseconds(Int(timeout * 1000))
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<loops {
                    group.addTask {
                        while clock.now < deadline {
                            let (count, last) = progress.state.withLock { ($0.deleted.count, $0.lastDelete) }
                            if count >= target { break }
                            if count > 0, clock.now - last > .milliseconds(Int(idleExit * 1000)) { break }
                            let batch = try await client.receiveMessages(queueURL: queue, maxMessages: 10, waitTimeSeconds: waitTime)
                            progress.state.withLock { $0.receives += 1 }
                            guard !batch.isEmpty else { continue }
                            let entries = batch.enumerated().map { SQSReceiptEntry(id: String($0.offset), receiptHandle: $0.element.receiptHandle) }
                            let result = try await client.deleteMessageBatch(queueURL: queue, entries: entries)
                            progress.state.withLock { state in
                                for id in result.successful { state.deleted.insert(batch[Int(id)!].messageID) }
                                if !result.successful.isEmpty { state.lastDelete = clock.now }
                                state.failedDeletes += result.failed.count
                            }
                        }
                    }
                }
                try await group.waitForAll()
            }
            // Up to the last successful delete: the trailing empty long polls are not work.
            let (deleted, receives, failed, last) = progress.state.withLock { ($0.deleted.count, $0.receives, $0.failedDeletes, $0.lastDelete) }
            let elapsed = last - start
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            let rate = Double(deleted) / max(seconds, 1e-9)
            if deleted < target {
                FileHandle.standardError.write(Data(
                    "sqs-drain: stopped with \(deleted) of \(target) messages deleted (receives=\(receives) failed_deletes=\(failed))\n".utf8))
            }
            if tsv {
                print("msgs_per_second\t\(String(format: "%.1f", rate))")
            } else {
                print("sqs-drain: protocol=\(client.wireProtocol.rawValue) loops=\(loops) deleted=\(deleted) receives=\(receives) failed_deletes=\(failed) seconds=\(String(format: "%.2f", seconds)) rate=\(String(format: "%.1f", rate)) msgs/s")
            }
            if deleted == 0 { throw ExitCode(1) }
        }
    }
}

/// Counters shared by the drain loops.
private final class DrainProgress: Sendable {
    struct State {
        var lastDelete: ContinuousClock.Instant
        var deleted = Set<String>()
        var receives = 0
        var failedDeletes = 0
    }
    let state: Mutex<State>
    init(start: ContinuousClock.Instant) { state = Mutex(State(lastDelete: start)) }
}
