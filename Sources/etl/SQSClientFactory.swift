import Logging
import Settings
import SQS

/// Builds the SQS client and resolves the queue from the settings (`etl run`, `etl demo-messages`).
enum SQSClientFactory {
    /// A client for the configured endpoint, region, protocol and credentials chain.
    static func make(settings: FetchDESettings, logger: Logger) throws -> SQSClient {
        let fixed: AWSCredentials? = settings.accessKeyID.flatMap { id in
            settings.secretAccessKey.map { AWSCredentials(accessKeyID: id, secretAccessKey: $0, sessionToken: settings.sessionToken) }
        }
        let configuration = SQSConfiguration(
            endpoint: settings.endpointURL,
            region: settings.region,
            wireProtocol: SQSWireProtocol(rawValue: settings.sqsProtocol) ?? .auto,
            credentials: AWSCredentialsChain(staticCredentials: fixed, endpoint: settings.endpointURL, region: settings.region,
                                             caBundle: settings.caBundle),
            requestTimeout: .seconds(settings.sqsRequestTimeoutSeconds + settings.waitTimeSeconds),
            // Receives, deletes and visibility changes of up to max_receive_loops loops.
            maxIdleConnections: max(8, max(settings.receiveLoops, settings.maxReceiveLoops) * 2 + 16),
            caBundle: settings.caBundle
        )
        return try SQSClient(configuration: configuration, logger: logger)
    }

    /// The queue URL: `SQS_QUEUE_URL` when set, else GetQueueUrl of the queue name (created
    /// when `createIfMissing`). With `waitForService`, an unreachable endpoint is retried with
    /// capped, jittered backoff (a long-running consumer must not crash-loop); otherwise it throws.
    static func resolveQueueURL(
        settings: FetchDESettings,
        client: SQSClient,
        logger: Logger,
        createIfMissing: Bool = false,
        waitForService: Bool = false
    ) async throws -> String {
        if let url = settings.queueURL { return url }
        var backoff = Backoff(base: .milliseconds(250), cap: .seconds(10))
        while true {
            do {
                if createIfMissing { return try await client.createQueue(name: settings.queueName) }
                return try await client.getQueueURL(name: settings.queueName)
            } catch let error as SQSError where error.isRetryable && waitForService {
                logger.warning("SQS unavailable; retrying", metadata: [LogKey.error: "\(error)"])
                try await Task.sleep(for: backoff.next())
            }
        }
    }
}
