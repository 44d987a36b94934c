public import Foundation

/// The default credentials chain, in the order the AWS SDKs use:
///
/// 1. environment: `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`;
/// 2. static credentials given explicitly (from the configuration file);
/// 3. the selected profile of the shared files (`AWS_CONFIG_FILE` / `~/.aws/config` and
///    `AWS_SHARED_CREDENTIALS_FILE` / `~/.aws/credentials`, profile `AWS_PROFILE`, else
///    `default`): `role_arn` (STS `AssumeRole` from `source_profile` or `credential_source`,
///    or `AssumeRoleWithWebIdentity` with `web_identity_token_file`), static keys,
///    `credential_process` (see `ProfileCredentialsSource`);
/// 4. web identity: `AWS_WEB_IDENTITY_TOKEN_FILE` + `AWS_ROLE_ARN` through STS
///    `AssumeRoleWithWebIdentity` (EKS IRSA);
/// 5. the container endpoint: `AWS_CONTAINER_CREDENTIALS_FULL_URI` / `_RELATIVE_URI` (ECS, EKS Pod Identity);
/// 6. with nothing configured and a loopback SQS endpoint (an emulator), dummy `test`/`test`;
/// 7. EC2 instance metadata (IMDSv2), unless `AWS_EC2_METADATA_DISABLED=true`.
///
/// The first source that is configured wins. Temporary credentials are cached and refreshed
/// five minutes before they expire; concurrent callers share one refresh. The dummy step comes
/// before IMDS so that a local emulator never waits on (or receives) instance credentials.
public struct AWSCredentialsChain: AWSCredentialsProvider {
    let sources: [any CredentialsSource]
    let cache = CredentialsCache()

    /// - Parameters:
    ///   - environment: the variables to read (the process environment by default).
    ///   - staticCredentials: keys given explicitly in the configuration file, if any.
    ///   - endpoint: the SQS endpoint, to recognise a local emulator (default:
    ///     `AWS_ENDPOINT_URL_SQS` / `AWS_ENDPOINT_URL`).
    ///   - region: the region for STS (default: `AWS_REGION` / `AWS_DEFAULT_REGION`, then the
    ///     profile's `region`).
    ///   - stsEndpoint: the STS endpoint when neither `AWS_ENDPOINT_URL_STS` nor
    ///     `AWS_ENDPOINT_URL` names one (default: the region's).
    ///   - caBundle: CA certificates for STS and the container endpoint (default: `AWS_CA_BUNDLE`).
    public init(
        environment: [String: String] = ProcessInfo.processInfo.environment,
        staticCredentials: AWSCredentials? = nil,
        endpoint: String? = nil,
        region: String? = nil,
        stsEndpoint: String? = nil,
        caBundle: String? = nil
    ) {
        let env = environment.filter { !$0.value.isEmpty }
        let shared = AWSSharedConfig(environment: env)
        let endpoint = endpoint ?? env["AWS_ENDPOINT_URL_SQS"] ?? env["AWS_ENDPOINT_URL"]
        let region = region ?? env["AWS_REGION"] ?? env["AWS_DEFAULT_REGION"] ?? shared.region
        let sts = STSClient(environment: env, region: region, explicitEndpoint: stsEndpoint, caBundle: caBundle ?? shared.caBundle)
        var sources: [any CredentialsSource] = [EnvironmentCredentialsSource(environment: env)]
        if let staticCredentials { sources.append(FixedCredentialsSource(value: staticCredentials)) }
        sources.append(ProfileCredentialsSource(config: shared, environment: env, sts: sts))
        sources.append(WebIdentityCredentialsSource(environment: env, sts: sts))
        sources.append(ContainerCredentialsSource(environment: env))
        if let endpoint, Self.isLoopback(endpoint) {
            sources.append(FixedCredentialsSource(value: AWSCredentials(accessKeyID: "test", secretAccessKey: "test")))
        }
        if env["AWS_EC2_METADATA_DISABLED"]?.lowercased() != "true" {
            sources.append(InstanceMetadataCredentialsSource(environment: env))
        }
        self.sources = sources
    }

    public func credentials() async throws -> AWSCredentials {
        try await cache.get { [sources] in
            for source in sources {
                if let credentials = try await source.resolve() { return credentials }
            }
            throw SQSError(code: .credentials, isRetryable: false, reason: "no AWS credentials found")
        }
    }

    /// Forgets the cached credentials (the service said they expired): the next call resolves anew.
    public func invalidate() async { await cache.invalidate() }

    /// Whether `endpoint`'s host is this machine (an emulator such as moto or LocalStack).
    static func isLoopback(_ endpoint: String) -> Bool {
        guard let host = URLComponents(string: endpoint)?.host?.lowercased() else { return false }
        return host == "localhost" || host.hasSuffix(".localhost") || host == "::1" || host == "[::1]"
            || host.hasPrefix("127.") || host == "localhost.localstack.cloud"
    }
}

/// Caches credentials until five minutes before their expiration; one refresh at a time.
actor CredentialsCache {
    static let refreshMargin: TimeInterval = 300
    private var current: AWSCredentials?
    private var refreshing: Task<AWSCredentials, any Error>?

    func invalidate() { current = nil }

    func get(_ resolve: @escaping @Sendable () async throws -> AWSCredentials) async throws -> AWSCredentials {
        let now = Date()
        if let current, current.expiration.map({ now < $0.addingTimeInterval(-Self.refreshMargin) }) ?? true {
            return current
        }
        if let refreshing { return try await refreshing.value }
        let task = Task { try await resolve() }
        refreshing = task
        defer { refreshing = nil }
        do {
            let fresh = try await task.value
            current = fresh
            return fresh
        } catch {
            // A failed refresh keeps using credentials that have not expired yet.
            if let current, let expiration = current.expiration, Date() < expiration { return current }
            throw error
        }
    }
}
