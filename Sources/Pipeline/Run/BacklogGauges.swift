public import Logging
public import ServiceLifecycle
import CoreMetrics
import Postgres
public import SQS

/// Refreshes the backlog gauges at start and then every `interval`: the quarantine's size by
/// reason (`etl_quarantine_messages{reason}`, on the writer's connection, so a growing
/// quarantine shows whichever process wrote it) and the queue's approximate depth
/// (`etl_queue_messages{state="visible"|"not_visible"}`). A failed refresh keeps the last
/// values; the batch loop deals with the services being down. Nothing is refreshed before the
/// process is first ready (a process that exits at start, e.g. on a loose key file, makes no
/// extra call and logs nothing more).
public struct BacklogGauges: Service, CustomStringConvertible {
    public var description: String { "BacklogGauges" }

    static let countByReason = "SELECT reason, count(*) FROM public.etl_quarantine GROUP BY reason"

    private let writer: BatchWriter
    private let sqs: SQSClient
    private let queueURL: String
    private let health: HealthState
    private let interval: Duration
    private let logger: Logger

    public init(writer: BatchWriter, sqs: SQSClient, queueURL: String, health: HealthState, interval: Duration = .seconds(60), logger: Logger) {
        self.health = health
        self.writer = writer
        self.sqs = sqs
        self.queueURL = queueURL
        self.interval = interval
        self.logger = logger
    }

    public func run() async {
        let interval = self.interval
        var wasReady = false
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            wasReady = wasReady || health.isReady
            guard wasReady else {
                _ = await cancelWhenGracefulShutdown { try? await Task.sleep(for: .milliseconds(250)) }
                continue
            }
            await refreshQuarantine()
            await refreshQueue()
            _ = await cancelWhenGracefulShutdown { try? await Task.sleep(for: interval) }
        }
    }

    /// Counts per stored reason, summed by reason label.
    func refreshQuarantine() async {
        do {
            let connection = try await writer.connection()
            let rows = try await connection.withSession(deadline: writer.pollDeadline) { session in
                try session.execute(Self.countByReason).rows.map { (try $0[0].requireString(), try $0[1].requireInt()) }
            }
            var counts: [String: Int] = [:]
            for (reason, count) in rows { counts[QuarantineReason.label(of: reason), default: 0] += Int(count) }
            PipelineMetrics.recordQuarantineSize(counts)
        } catch {
            logger.debug("quarantine size not refreshed", metadata: [LogKey.error: "\(error)"])
        }
    }

    func refreshQueue() async {
        do {
            let attributes = try await sqs.getQueueAttributes(
                queueURL: queueURL, names: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])
            if let visible = attributes["ApproximateNumberOfMessages"].flatMap(Int.init) {
                PipelineMetrics.queueMessages(state: "visible").record(visible)
            }
            if let notVisible = attributes["ApproximateNumberOfMessagesNotVisible"].flatMap(Int.init) {
                PipelineMetrics.queueMessages(state: "not_visible").record(notVisible)
            }
        } catch {
            logger.debug("queue depth not refreshed", metadata: [LogKey.error: "\(error)"])
        }
    }
}
