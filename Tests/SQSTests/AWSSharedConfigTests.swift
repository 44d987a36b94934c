import Foundation
import Logging
import Synchronization
import Testing
import TestSupport

@testable import SQS

/// AWS configuration as the AWS CLI reads it: `~/.aws/config` profiles (region,
/// `credential_process`, `role_arn` + `source_profile`), refresh on `ExpiredToken`, clock-skew
/// correction, partitions. The stub server is a verifying proxy: it recomputes every
/// request's SigV4 signature with the secret the credentials were supposed to come from.
@Suite("AWS shared configuration")
struct AWSSharedConfigTests {
    /// A scratch directory with a config file and a `credential_process` script that counts its runs.
    struct Scratch {
        let directory: URL
        var configPath: String { directory.appendingPathComponent("config").path }
        var countPath: String { directory.appendingPathComponent("runs").path }

        init() throws {
            directory = FileManager.default.temporaryDirectory.appendingPathComponent("aws-config-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        }

        /// Writes `bin/creds` printing the credential_process document for `secret`.
        func credentialScript(accessKey: String, secret: String, token: String, expiresIn seconds: Int = 3600) throws -> String {
            let expiration = Date().addingTimeInterval(TimeInterval(seconds)).formatted(.iso8601)
            let path = directory.appendingPathComponent("creds script").path  // a space: quoting must work
            let script = """
                #!/bin/sh
                echo run >> "\(countPath)"
                printf '{"Version": 1, "AccessKeyId": "%s", "SecretAccessKey": "%s", "SessionToken": "%s", "Expiration": "%s"}' \
                  "\(accessKey)" "\(secret)" "\(token)" "\(expiration)"
                """
            try script.write(toFile: path, atomically: true, encoding: .utf8)
            try FileManager.default.setAttributes([.posixPermissions: 0o700], ofItemAtPath: path)
            return path
        }

        var runs: Int {
            ((try? String(contentsOfFile: countPath, encoding: .utf8)) ?? "").split(separator: "\n").count
        }

        func writeConfig(_ text: String) throws { try text.write(toFile: configPath, atomically: true, encoding: .utf8) }

        /// An environment with no keys, no IMDS and only this config file.
        func environment(profile: String, extra: [String: String] = [:]) -> [String: String] {
            var env = ["AWS_CONFIG_FILE": configPath, "AWS_SHARED_CREDENTIALS_FILE": directory.appendingPathComponent("none").path,
                       "AWS_PROFILE": profile, "HOME": directory.path, "AWS_EC2_METADATA_DISABLED": "true"]
            for (key, value) in extra { env[key] = value }
            return env
        }

        func remove() { try? FileManager.default.removeItem(at: directory) }
    }

    /// Whether `request` carries a valid SigV4 signature by `accessKey`/`secret` for `service` in `region`.
    static func verify(_ request: StubHTTPServer.Request, url: String, accessKey: String, secret: String,
                       service: String, region: String) -> Bool {
        guard let authorization = request.headers["authorization"], let date = request.headers["x-amz-date"],
            authorization.hasPrefix("AWS4-HMAC-SHA256 Credential=\(accessKey)/"),
            let signedPart = authorization.components(separatedBy: "SignedHeaders=").last?.split(separator: ",").first else {
            return false
        }
        var headers: [String: String] = [:]
        for name in signedPart.split(separator: ";").map(String.init) where name != "x-amz-date" && name != "x-amz-security-token" {
            headers[name] = request.headers[name]
        }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
        guard let signingDate = formatter.date(from: date) else { return false }
        let credentials = AWSCredentials(accessKeyID: accessKey, secretAccessKey: secret, sessionToken: request.headers["x-amz-security-token"])
        let expected = SigV4Signer(service: service, region: region).sign(
            method: request.method, url: url, headers: headers, body: request.body, credentials: credentials, date: signingDate)
        return expected["Authorization"] == authorization
    }

    static func client(_ server: StubHTTPServer, region: String = "eu-west-1", environment: [String: String]) throws -> SQSClient {
        let configuration = SQSConfiguration(
            endpoint: server.url, region: region, wireProtocol: .json,
            credentials: AWSCredentialsChain(environment: environment, endpoint: "https://sqs.\(region).amazonaws.com", region: region),
            maxAttempts: 2, retryBaseDelay: .milliseconds(1), retryMaxDelay: .milliseconds(5))
        return try SQSClient(configuration: configuration, logger: LogCapture().logger())
    }

    static let queueURLJSON = #"{"QueueUrl":"http://stub/1/q"}"#
    static let refused = StubHTTPServer.Response(status: 403, headers: ["x-amzn-query-error": "SignatureDoesNotMatch;Sender"],
                                                 body: #"{"__type":"com.amazon.coral.service#SignatureDoesNotMatch"}"#)

    @Test func profilesOfBothFilesAndRegion() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        try scratch.writeConfig("""
            [default]
            region = us-west-2
            [profile dev]
            region = cn-north-1
            ca_bundle = /etc/dev-ca.pem
            """)
        let credentials = scratch.directory.appendingPathComponent("credentials")
        try "[dev]\naws_access_key_id = AKIDDEV\naws_secret_access_key = s\n".write(to: credentials, atomically: true, encoding: .utf8)
        let base = ["AWS_CONFIG_FILE": scratch.configPath, "AWS_SHARED_CREDENTIALS_FILE": credentials.path]
        #expect(AWSSharedConfig(environment: base).region == "us-west-2")
        var dev = base
        dev["AWS_PROFILE"] = "dev"
        let config = AWSSharedConfig(environment: dev)
        #expect(config.region == "cn-north-1" && config.caBundle == "/etc/dev-ca.pem")
        #expect(config.profile("dev")?["aws_access_key_id"] == "AKIDDEV")
        // Environment over profile over the fallback, as SQSConfiguration.fromEnvironment orders them.
        #expect(SQSConfiguration.fromEnvironment(dev).region == "cn-north-1")
        dev["AWS_DEFAULT_REGION"] = "eu-west-3"
        #expect(SQSConfiguration.fromEnvironment(dev).region == "eu-west-3")
        dev["AWS_REGION"] = "eu-north-1"
        #expect(SQSConfiguration.fromEnvironment(dev).region == "eu-north-1")
        #expect(SQSConfiguration.fromEnvironment(dev).caBundle == "/etc/dev-ca.pem")
        dev["AWS_CA_BUNDLE"] = "/etc/env-ca.pem"
        #expect(SQSConfiguration.fromEnvironment(dev).caBundle == "/etc/env-ca.pem")
    }

    @Test func chinaRegionsUseTheirPartition() {
        let credentials = StaticCredentialsProvider(AWSCredentials(accessKeyID: "a", secretAccessKey: "b"))
        #expect(SQSConfiguration(region: "cn-north-1", credentials: credentials).resolvedEndpoint == "https://sqs.cn-north-1.amazonaws.com.cn/")
        #expect(SQSConfiguration(region: "cn-northwest-1", credentials: credentials).resolvedEndpoint == "https://sqs.cn-northwest-1.amazonaws.com.cn/")
        #expect(SQSConfiguration(region: "eu-west-1", credentials: credentials).resolvedEndpoint == "https://sqs.eu-west-1.amazonaws.com/")
        #expect(STSClient(environment: [:], region: "cn-north-1").endpoint == "https://sts.cn-north-1.amazonaws.com.cn/")
    }

    @Test func credentialProcessCommandLineSplitting() throws {
        #expect(try CredentialProcess.split(#"/bin/helper --profile "my sso" 'a b' c\ d"#) == ["/bin/helper", "--profile", "my sso", "a b", "c d"])
        #expect(try CredentialProcess.split(#"x "q\"uote" ''"#) == ["x", #"q"uote"#, ""])
        #expect(throws: SQSError.self) { try CredentialProcess.split(#"x "open"#) }
        #expect(throws: SQSError.self) { try CredentialProcess.decode(Data(#"{"Version": 2, "AccessKeyId": "a", "SecretAccessKey": "b"}"#.utf8)) }
    }

    @Test("a profile with credential_process (no keys in the environment) signs every request with its credentials")
    func credentialProcessSignsEveryRequest() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let script = try scratch.credentialScript(accessKey: "ASIAPROCESS", secret: "process-secret", token: "process-token")
        try scratch.writeConfig("[profile sso]\ncredential_process = \"\(script)\" --ignored-argument\n")
        let verified = Mutex(0)
        let url = Mutex("")
        let server = try StubHTTPServer { request, _ in
            guard Self.verify(request, url: url.withLock { $0 }, accessKey: "ASIAPROCESS", secret: "process-secret",
                              service: "sqs", region: "eu-west-1"),
                request.headers["x-amz-security-token"] == "process-token" else { return Self.refused }
            verified.withLock { $0 += 1 }
            return .init(status: 200, body: Self.queueURLJSON)
        }
        defer { server.stop() }
        url.withLock { $0 = server.url }
        let client = try Self.client(server, environment: scratch.environment(profile: "sso"))
        defer { client.shutdown() }
        for _ in 0..<5 { _ = try await client.getQueueURL(name: "q") }
        #expect(verified.withLock { $0 } == 5)
        #expect(server.requests.count == 5)
        #expect(scratch.runs == 1)  // cached until Expiration
    }

    @Test("role_arn + source_profile: STS AssumeRole signed with the source's keys, SQS with the role's")
    func assumeRoleThroughSourceProfile() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let script = try scratch.credentialScript(accessKey: "ASIASOURCE", secret: "source-secret", token: "source-token")
        try scratch.writeConfig("""
            [profile base]
            credential_process = '\(script)'
            [profile app]
            role_arn = arn:aws:iam::123456789012:role/ingest
            source_profile = base
            role_session_name = fetchde-test
            external_id = ext-1
            """)
        let url = Mutex("")
        let stsCalls = Mutex(0)
        let server = try StubHTTPServer { request, _ in
            let serverURL = url.withLock { $0 }
            if request.bodyText.contains("Action=AssumeRole") {
                guard Self.verify(request, url: serverURL, accessKey: "ASIASOURCE", secret: "source-secret", service: "sts", region: "eu-west-1"),
                    request.bodyText.contains("RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fingest"),
                    request.bodyText.contains("RoleSessionName=fetchde-test"), request.bodyText.contains("ExternalId=ext-1") else {
                    return .init(status: 403, body: "<ErrorResponse><Error><Code>SignatureDoesNotMatch</Code></Error></ErrorResponse>")
                }
                stsCalls.withLock { $0 += 1 }
                let expiration = Date().addingTimeInterval(3600).formatted(.iso8601)
                return .init(status: 200, body: """
                    <AssumeRoleResponse><AssumeRoleResult><Credentials><AccessKeyId>ASIAROLE</AccessKeyId>\
                    <SecretAccessKey>role-secret</SecretAccessKey><SessionToken>role-token</SessionToken>\
                    <Expiration>\(expiration)</Expiration></Credentials></AssumeRoleResult></AssumeRoleResponse>
                    """)
            }
            guard Self.verify(request, url: serverURL, accessKey: "ASIAROLE", secret: "role-secret", service: "sqs", region: "eu-west-1"),
                request.headers["x-amz-security-token"] == "role-token" else { return Self.refused }
            return .init(status: 200, body: Self.queueURLJSON)
        }
        defer { server.stop() }
        url.withLock { $0 = server.url }
        let client = try Self.client(server, environment: scratch.environment(profile: "app", extra: ["AWS_ENDPOINT_URL_STS": server.url]))
        defer { client.shutdown() }
        for _ in 0..<3 { _ = try await client.getQueueURL(name: "q") }
        #expect(stsCalls.withLock { $0 } == 1)
        #expect(server.requests.count == 4)
    }

    @Test func sourceProfileCyclesAndMissingProfilesAreErrors() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        try scratch.writeConfig("""
            [profile a]
            role_arn = arn:aws:iam::1:role/a
            source_profile = b
            [profile b]
            role_arn = arn:aws:iam::1:role/b
            source_profile = a
            """)
        for profile in ["a", "missing"] {
            await #expect(throws: SQSError.self) {
                try await AWSCredentialsChain(environment: scratch.environment(profile: profile)).credentials()
            }
        }
    }

    @Test("ExpiredToken: the credentials are refreshed and the request retried once")
    func expiredTokenRefreshes() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let script = try scratch.credentialScript(accessKey: "ASIAPROCESS", secret: "process-secret", token: "process-token")
        try scratch.writeConfig("[profile sso]\ncredential_process = '\(script)'\n")
        let server = try StubHTTPServer { _, index in
            index == 0
                ? .init(status: 400, headers: ["x-amzn-query-error": "ExpiredToken;Sender"],
                        body: #"{"__type":"com.amazonaws.sqs#ExpiredToken","message":"expired"}"#)
                : .init(status: 200, body: Self.queueURLJSON)
        }
        defer { server.stop() }
        let client = try Self.client(server, environment: scratch.environment(profile: "sso"))
        defer { client.shutdown() }
        #expect(try await client.getQueueURL(name: "q") == "http://stub/1/q")
        #expect(scratch.runs == 2)
        #expect(server.requests.count == 2)
    }

    @Test("RequestTimeTooSkewed: the signing clock follows the server's Date")
    func clockSkewIsCorrected() async throws {
        let serverNow = Date().addingTimeInterval(2 * 3600)  // our clock is two hours slow
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        let amz = DateFormatter()
        amz.locale = Locale(identifier: "en_US_POSIX")
        amz.timeZone = TimeZone(identifier: "UTC")
        amz.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
        let dateHeader = formatter.string(from: serverNow)
        let server = try StubHTTPServer { request, _ in
            guard let signed = request.headers["x-amz-date"].flatMap(amz.date(from:)), abs(signed.timeIntervalSince(serverNow)) < 300 else {
                return .init(status: 400, headers: ["x-amzn-query-error": "RequestTimeTooSkewed;Sender", "Date": dateHeader],
                             body: #"{"__type":"com.amazonaws.sqs#RequestTimeTooSkewed"}"#)
            }
            return .init(status: 200, body: Self.queueURLJSON)
        }
        defer { server.stop() }
        let configuration = SQSConfiguration(
            endpoint: server.url, region: "eu-west-1", wireProtocol: .json,
            credentials: StaticCredentialsProvider(AWSCredentials(accessKeyID: "AKID", secretAccessKey: "s")), maxAttempts: 1)
        let client = try SQSClient(configuration: configuration, logger: LogCapture().logger())
        defer { client.shutdown() }
        #expect(try await client.getQueueURL(name: "q") == "http://stub/1/q")
        #expect(try await client.getQueueURL(name: "q") == "http://stub/1/q")
        #expect(server.requests.count == 3)  // one refusal, then every request on the corrected clock
    }
}
