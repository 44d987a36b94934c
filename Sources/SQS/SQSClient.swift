public import Logging
import Foundation
import Synchronization

/// An SQS client over libcurl: SigV4-signed AWS JSON 1.0 or AWS Query requests, retries with
/// capped exponential backoff and full jitter, and one connection-reusing transport thread
/// shared by every concurrent call (many concurrent long polls are fine).
///
/// Logs go to the injected logger with constant messages; metadata carries the operation,
/// attempt, AWS error code, request id and HTTP status — never a body or a credential.
public final class SQSClient: Sendable {
    let configuration: SQSConfiguration
    let logger: Logger
    let transport: CurlTransport
    let signer: SigV4Signer
    let endpoint: String
    /// The endpoint as SigV4 signs it (parsed once).
    let endpointParts: SigV4URLParts
    /// `.auto` until the endpoint has shown which protocol it speaks.
    let negotiated: Mutex<SQSWireProtocol>
    /// Seconds to add to the local clock when signing: learned from the `Date` of a response
    /// that refused a signature as skewed (0 until then).
    let clockOffset = Mutex<TimeInterval>(0)

    public init(configuration: SQSConfiguration, logger: Logger) throws {
        let endpoint = configuration.resolvedEndpoint
        guard let components = URLComponents(string: endpoint), let scheme = components.scheme?.lowercased(),
            scheme == "http" || scheme == "https", components.host?.isEmpty == false else {
            throw SQSError(code: .invalidRequest, isRetryable: false, reason: "endpoint is not an http(s) URL")
        }
        guard configuration.maxAttempts >= 1 else {
            throw SQSError(code: .invalidRequest, isRetryable: false, reason: "maxAttempts must be at least 1")
        }
        self.configuration = configuration
        self.logger = logger
        self.endpoint = endpoint
        self.endpointParts = SigV4URLParts(endpoint)
        self.signer = SigV4Signer(service: "sqs", region: configuration.region)
        self.negotiated = Mutex(configuration.wireProtocol)
        self.transport = try CurlTransport(maxConnections: max(1, configuration.maxIdleConnections), threadName: "fetchde-curl-sqs")
    }

    /// The wire protocol in use: the configured one, or for `.auto` the one the endpoint
    /// accepted (`.auto` until the first call has answered).
    public var wireProtocol: SQSWireProtocol { negotiated.withLock { $0 } }

    /// Stops the transport thread; calls in flight fail with `SQSError.Code.shutdown`. Idempotent.
    public func shutdown() { transport.shutdown() }

    deinit { transport.shutdown() }
}
