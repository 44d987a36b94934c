public import Foundation

/// Which SQS wire protocol to speak.
public enum SQSWireProtocol: String, Sendable, CaseIterable {
    /// AWS JSON 1.0 (`application/x-amz-json-1.0`, `X-Amz-Target`): what current SDKs use.
    case json
    /// AWS Query (form-encoded requests, XML responses): what older emulators speak.
    case query
    /// JSON first; if the endpoint rejects JSON, Query; the choice is kept per client.
    case auto
}

/// How an `SQSClient` reaches SQS. Plain values; `fromEnvironment` reads the usual variables.
public struct SQSConfiguration: Sendable {
    /// The endpoint URL (`AWS_ENDPOINT_URL_SQS` / `AWS_ENDPOINT_URL`); `nil` →
    /// `https://sqs.<region>.amazonaws.com` (`.amazonaws.com.cn` for `cn-*` regions).
    public var endpoint: String?
    public var region: String
    public var wireProtocol: SQSWireProtocol
    public var credentials: any AWSCredentialsProvider
    public var connectTimeout: Duration
    /// Whole-request timeout; long polls get their wait time on top.
    public var requestTimeout: Duration
    /// Attempts per call, the first included (retries only on throttling, 5xx and connection errors).
    public var maxAttempts: Int
    /// Backoff before retry n is uniformly random in [0, min(retryMaxDelay, retryBaseDelay · 2ⁿ⁻¹)].
    public var retryBaseDelay: Duration
    public var retryMaxDelay: Duration
    /// Idle connections kept alive for reuse (at least the number of concurrent long polls).
    public var maxIdleConnections: Int
    /// CA certificates (a PEM file) to verify the endpoint with instead of the system's (`AWS_CA_BUNDLE`).
    public var caBundle: String?

    public init(
        endpoint: String? = nil,
        region: String,
        wireProtocol: SQSWireProtocol = .auto,
        credentials: any AWSCredentialsProvider,
        connectTimeout: Duration = .seconds(5),
        requestTimeout: Duration = .seconds(30),
        maxAttempts: Int = 5,
        retryBaseDelay: Duration = .milliseconds(200),
        retryMaxDelay: Duration = .seconds(10),
        maxIdleConnections: Int = 32,
        caBundle: String? = nil
    ) {
        self.endpoint = endpoint
        self.region = region
        self.wireProtocol = wireProtocol
        self.credentials = credentials
        self.connectTimeout = connectTimeout
        self.requestTimeout = requestTimeout
        self.maxAttempts = maxAttempts
        self.retryBaseDelay = retryBaseDelay
        self.retryMaxDelay = retryMaxDelay
        self.maxIdleConnections = maxIdleConnections
        self.caBundle = caBundle
    }

    /// A configuration from the environment: endpoint from `AWS_ENDPOINT_URL_SQS` /
    /// `AWS_ENDPOINT_URL`, region from `AWS_REGION` / `AWS_DEFAULT_REGION`, then the shared
    /// config profile's `region` (else `us-east-1`), CA bundle from `AWS_CA_BUNDLE` / the
    /// profile's `ca_bundle`, credentials from the default chain. Explicit arguments win.
    public static func fromEnvironment(
        _ environment: [String: String] = ProcessInfo.processInfo.environment,
        endpoint: String? = nil,
        region: String? = nil,
        wireProtocol: SQSWireProtocol = .auto,
        staticCredentials: AWSCredentials? = nil
    ) -> SQSConfiguration {
        let env = environment.filter { !$0.value.isEmpty }
        let endpoint = endpoint ?? env["AWS_ENDPOINT_URL_SQS"] ?? env["AWS_ENDPOINT_URL"]
        let shared = AWSSharedConfig(environment: env)
        let region = region ?? env["AWS_REGION"] ?? env["AWS_DEFAULT_REGION"] ?? shared.region ?? "us-east-1"
        let caBundle = env["AWS_CA_BUNDLE"] ?? shared.caBundle
        let chain = AWSCredentialsChain(environment: environment, staticCredentials: staticCredentials, endpoint: endpoint,
                                        region: region, caBundle: caBundle)
        return SQSConfiguration(endpoint: endpoint, region: region, wireProtocol: wireProtocol, credentials: chain, caBundle: caBundle)
    }

    /// The endpoint actually used, with a trailing `/`.
    var resolvedEndpoint: String {
        var url = endpoint ?? AWSPartition.endpoint(service: "sqs", region: region)
        if !url.hasSuffix("/") { url += "/" }
        return url
    }
}
