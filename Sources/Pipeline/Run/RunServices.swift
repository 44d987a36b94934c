public import Logging
public import ServiceLifecycle

/// The service group of `etl run`: the consumer and, beside it, services that only report (the
/// backlog gauges). A group shuts its services down in reverse order, one after the other, so
/// the consumer is listed last: a graceful shutdown (SIGTERM) reaches it first — it stops
/// receiving and `/readyz` says so at once, whatever a reporter is still waiting for — and the
/// reporters keep reporting while it finishes what it holds. Its own end (a drained queue, with
/// `--drain`) ends the group. No signal is trapped here: `etl run` traps them from start-up.
public enum RunServices {
    public static func group(consumer: SQSConsumer, reporters: [any Service], logger: Logger) -> ServiceGroup {
        ServiceGroup(configuration: .init(
            services: reporters.map { .init(service: $0, successTerminationBehavior: .ignore) }
                + [.init(service: consumer, successTerminationBehavior: .gracefullyShutdownGroup)],
            gracefulShutdownSignals: [],
            logger: logger
        ))
    }
}
