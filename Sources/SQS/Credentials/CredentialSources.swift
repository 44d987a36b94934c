import Foundation

/// One link of the credentials chain: `nil` when this source is not configured, a thrown
/// error when it is configured but fails.
protocol CredentialsSource: Sendable {
    func resolve() async throws -> AWSCredentials?
}

struct FixedCredentialsSource: CredentialsSource {
    let value: AWSCredentials
    func resolve() async throws -> AWSCredentials? { value }
}

/// `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`.
struct EnvironmentCredentialsSource: CredentialsSource {
    let environment: [String: String]

    func resolve() async throws -> AWSCredentials? {
        switch (environment["AWS_ACCESS_KEY_ID"], environment["AWS_SECRET_ACCESS_KEY"]) {
        case (nil, nil):
            return nil
        case (let accessKey?, let secret?):
            return AWSCredentials(accessKeyID: accessKey, secretAccessKey: secret, sessionToken: environment["AWS_SESSION_TOKEN"])
        default:
            throw SQSError(code: .credentials, isRetryable: false, reason: "only one of AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY is set")
        }
    }
}

/// STS `AssumeRoleWithWebIdentity` with the token file Kubernetes projects (EKS IRSA).
struct WebIdentityCredentialsSource: CredentialsSource {
    let environment: [String: String]
    let sts: STSClient

    func resolve() async throws -> AWSCredentials? {
        guard let tokenFile = environment["AWS_WEB_IDENTITY_TOKEN_FILE"], let roleARN = environment["AWS_ROLE_ARN"] else {
            return nil
        }
        let sessionName = environment["AWS_ROLE_SESSION_NAME"] ?? "fetchde-\(Int(Date().timeIntervalSince1970))"
        return try await sts.assumeRoleWithWebIdentity(roleARN: roleARN, sessionName: sessionName, token: try Self.readToken(tokenFile))
    }

    static func readToken(_ path: String) throws(SQSError) -> String {
        guard let tokenData = FileManager.default.contents(atPath: path) else {
            throw SQSError(code: .credentials, isRetryable: false, reason: "web identity token file not readable")
        }
        return String(decoding: tokenData, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

/// The ECS / EKS Pod Identity container credentials endpoint.
struct ContainerCredentialsSource: CredentialsSource {
    let environment: [String: String]

    func resolve() async throws -> AWSCredentials? {
        let url: String
        if let relative = environment["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"] {
            url = "http://169.254.170.2" + (relative.hasPrefix("/") ? relative : "/" + relative)
        } else if let full = environment["AWS_CONTAINER_CREDENTIALS_FULL_URI"] {
            guard Self.isAllowed(full) else {
                throw SQSError(code: .credentials, isRetryable: false, reason: "AWS_CONTAINER_CREDENTIALS_FULL_URI must be https or a loopback/container host")
            }
            url = full
        } else {
            return nil
        }
        var headers: [(name: String, value: String)] = [("Accept", "application/json")]
        if let file = environment["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"] {
            guard let data = FileManager.default.contents(atPath: file) else {
                throw SQSError(code: .credentials, isRetryable: false, reason: "container authorization token file not readable")
            }
            headers.append(("Authorization", String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)))
        } else if let token = environment["AWS_CONTAINER_AUTHORIZATION_TOKEN"] {
            headers.append(("Authorization", token))
        }
        let request = HTTPRequest(method: "GET", url: url, headers: headers, body: [],
                                  connectTimeout: .seconds(2), timeout: .seconds(5), noProxy: true,
                                  caBundle: environment["AWS_CA_BUNDLE"])
        let response = try await CredentialsHTTP.perform([request]).last!
        guard (200..<300).contains(response.status) else {
            throw SQSError(code: .credentials, httpStatus: response.status, isRetryable: response.status >= 500,
                           reason: "container credentials endpoint refused")
        }
        return try CredentialsJSON.decode(response.body, source: "container credentials endpoint")
    }

    static func isAllowed(_ url: String) -> Bool {
        guard let components = URLComponents(string: url), let host = components.host?.lowercased() else { return false }
        if components.scheme?.lowercased() == "https" { return true }
        return AWSCredentialsChain.isLoopback(url) || host == "169.254.170.2" || host == "169.254.170.23"
            || host == "fd00:ec2::23" || host == "[fd00:ec2::23]"
    }
}

/// EC2 instance metadata, IMDSv2 (a session token first), with short timeouts.
struct InstanceMetadataCredentialsSource: CredentialsSource {
    let environment: [String: String]

    func resolve() async throws -> AWSCredentials? {
        var base = environment["AWS_EC2_METADATA_SERVICE_ENDPOINT"] ?? "http://169.254.169.254"
        while base.hasSuffix("/") { base.removeLast() }
        let transport = try CurlTransport(maxConnections: 1, threadName: "fetchde-curl-imds")
        defer { transport.shutdown() }
        func request(_ method: String, _ path: String, _ headers: [(name: String, value: String)]) -> HTTPRequest {
            HTTPRequest(method: method, url: base + path, headers: headers, body: [],
                        connectTimeout: .seconds(1), timeout: .seconds(2), noProxy: true)
        }
        let tokenResponse: HTTPResponse
        do {
            tokenResponse = try await transport.execute(
                request("PUT", "/latest/api/token", [("X-aws-ec2-metadata-token-ttl-seconds", "21600")]))
        } catch let error as SQSError where error.code == .transport || error.code == .timeout {
            return nil  // not on EC2 (or IMDS unreachable): this source is not configured
        }
        guard tokenResponse.status == 200 else { return nil }
        let token = [(name: "X-aws-ec2-metadata-token", value: String(decoding: tokenResponse.body, as: UTF8.self))]
        let roles = try await transport.execute(request("GET", "/latest/meta-data/iam/security-credentials/", token))
        guard roles.status == 200,
            let role = String(decoding: roles.body, as: UTF8.self).split(whereSeparator: \.isNewline).first else { return nil }
        let credentials = try await transport.execute(request("GET", "/latest/meta-data/iam/security-credentials/\(role)", token))
        guard credentials.status == 200 else {
            throw SQSError(code: .credentials, httpStatus: credentials.status, isRetryable: true, reason: "instance metadata refused")
        }
        return try CredentialsJSON.decode(credentials.body, source: "instance metadata")
    }
}

/// One-off HTTP for credential sources (a few requests an hour at most).
enum CredentialsHTTP {
    static func perform(_ requests: [HTTPRequest]) async throws -> [HTTPResponse] {
        let transport = try CurlTransport(maxConnections: 1, threadName: "fetchde-curl-credentials")
        defer { transport.shutdown() }
        var responses: [HTTPResponse] = []
        for request in requests {
            do {
                responses.append(try await transport.execute(request))
            } catch var error as SQSError {
                error.code = .credentials
                throw error
            }
        }
        return responses
    }
}

/// The JSON document that the container endpoint and IMDS return.
enum CredentialsJSON {
    static func decode(_ body: [UInt8], source: String) throws(SQSError) -> AWSCredentials {
        guard let object = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any],
            let accessKey = object["AccessKeyId"] as? String, let secret = object["SecretAccessKey"] as? String else {
            throw SQSError(code: .credentials, isRetryable: false, reason: "unreadable \(source) response")
        }
        return AWSCredentials(accessKeyID: accessKey, secretAccessKey: secret, sessionToken: object["Token"] as? String,
                              expiration: (object["Expiration"] as? String).flatMap(ISO8601.parse))
    }
}

/// ISO 8601 timestamps as AWS writes them, with or without fractional seconds.
enum ISO8601 {
    static func parse(_ text: String) -> Date? {
        if let date = try? Date(text, strategy: .iso8601) { return date }
        return try? Date(text, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }
}
