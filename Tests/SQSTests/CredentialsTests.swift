import Foundation
import Testing

@testable import SQS

@Suite("Credentials")
struct CredentialsTests {
    @Test func descriptionRedactsSecrets() {
        let credentials = AWSCredentials(accessKeyID: "AKIAEXAMPLE", secretAccessKey: "s3cr3t-value", sessionToken: "t0ken-value")
        for text in [credentials.description, "\(credentials)", String(reflecting: credentials), { var s = ""; dump(credentials, to: &s); return s }()] {
            #expect(!text.contains("s3cr3t-value"))
            #expect(!text.contains("t0ken-value"))
            #expect(text.contains("<redacted>"))
        }
        #expect(credentials.description.contains("AKIAEXAMPLE"))
    }

    @Test func profileFileParsing() throws {
        let text = """
            # comment
            [default]
            aws_access_key_id = AKIDDEFAULT
            aws_secret_access_key=secretDefault ; inline comment
            ; another comment

            [dev]
            aws_access_key_id=AKIDDEV
            aws_secret_access_key = secret/Dev+x=
            aws_session_token = tokenDev
            s3 =
              max_concurrent_requests = 20

            [profile sso]
            sso_start_url = https://example.awsapps.com/start
            [broken]
            aws_access_key_id = onlyKey
            """
        #expect(try AWSProfileFile.credentials(in: text, profile: "default") == AWSCredentials(accessKeyID: "AKIDDEFAULT", secretAccessKey: "secretDefault"))
        #expect(try AWSProfileFile.credentials(in: text, profile: "dev") == AWSCredentials(accessKeyID: "AKIDDEV", secretAccessKey: "secret/Dev+x=", sessionToken: "tokenDev"))
        #expect(try AWSProfileFile.credentials(in: text, profile: "sso") == nil)
        #expect(try AWSProfileFile.credentials(in: text, profile: "missing") == nil)
        #expect(throws: SQSError.self) { try AWSProfileFile.credentials(in: text, profile: "broken") }
        #expect(AWSProfileFile.parse("[a]\r\nk=v\r\n")["a"] == ["k": "v"])
    }

    @Test func environmentComesFirst() async throws {
        let chain = AWSCredentialsChain(
            environment: ["AWS_ACCESS_KEY_ID": "AKIDENV", "AWS_SECRET_ACCESS_KEY": "envSecret", "AWS_SESSION_TOKEN": "envToken"],
            staticCredentials: AWSCredentials(accessKeyID: "AKIDSTATIC", secretAccessKey: "x"))
        #expect(try await chain.credentials() == AWSCredentials(accessKeyID: "AKIDENV", secretAccessKey: "envSecret", sessionToken: "envToken"))
    }

    @Test func partialEnvironmentIsAnError() async {
        let chain = AWSCredentialsChain(environment: ["AWS_ACCESS_KEY_ID": "AKIDENV"])
        await #expect(throws: SQSError.self) { try await chain.credentials() }
    }

    @Test func staticThenSharedFile() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sqs-cred-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("credentials")
        try "[default]\naws_access_key_id=AKIDFILE\naws_secret_access_key=fileSecret\n[other]\naws_access_key_id=AKIDOTHER\naws_secret_access_key=o\n"
            .write(to: file, atomically: true, encoding: .utf8)
        let env = ["AWS_SHARED_CREDENTIALS_FILE": file.path, "AWS_EC2_METADATA_DISABLED": "true"]

        let withStatic = AWSCredentialsChain(environment: env, staticCredentials: AWSCredentials(accessKeyID: "AKIDSTATIC", secretAccessKey: "s"))
        #expect(try await withStatic.credentials().accessKeyID == "AKIDSTATIC")
        #expect(try await AWSCredentialsChain(environment: env).credentials().accessKeyID == "AKIDFILE")
        var profiled = env
        profiled["AWS_PROFILE"] = "other"
        #expect(try await AWSCredentialsChain(environment: profiled).credentials().accessKeyID == "AKIDOTHER")
        // HOME/.aws/credentials when no explicit file
        try FileManager.default.createDirectory(at: directory.appendingPathComponent(".aws"), withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: file, to: directory.appendingPathComponent(".aws/credentials"))
        #expect(try await AWSCredentialsChain(environment: ["HOME": directory.path, "AWS_EC2_METADATA_DISABLED": "true"]).credentials().accessKeyID == "AKIDFILE")
    }

    @Test func loopbackEndpointGetsDummyCredentials() async throws {
        let env = ["HOME": "/nonexistent", "AWS_EC2_METADATA_DISABLED": "true"]
        for endpoint in ["http://127.0.0.1:4566", "http://localhost:9324/", "http://[::1]:5000", "http://localhost.localstack.cloud:4566"] {
            let chain = AWSCredentialsChain(environment: env, endpoint: endpoint)
            #expect(try await chain.credentials() == AWSCredentials(accessKeyID: "test", secretAccessKey: "test"), "\(endpoint)")
        }
        await #expect(throws: SQSError.self) {
            try await AWSCredentialsChain(environment: env, endpoint: "https://sqs.us-east-1.amazonaws.com").credentials()
        }
    }

    @Test func containerURIValidation() {
        #expect(ContainerCredentialsSource.isAllowed("http://169.254.170.2/v2/credentials/x"))
        #expect(ContainerCredentialsSource.isAllowed("http://169.254.170.23/v1/credentials"))
        #expect(ContainerCredentialsSource.isAllowed("http://127.0.0.1:8080/creds"))
        #expect(ContainerCredentialsSource.isAllowed("https://creds.example.com/x"))
        #expect(!ContainerCredentialsSource.isAllowed("http://creds.example.com/x"))
    }

    @Test func credentialDocumentsDecode() throws {
        let json = #"{"Code":"Success","AccessKeyId":"ASIAX","SecretAccessKey":"sec","Token":"tok","Expiration":"2030-01-02T03:04:05Z"}"#
        let credentials = try CredentialsJSON.decode(Array(json.utf8), source: "test")
        #expect(credentials.accessKeyID == "ASIAX" && credentials.sessionToken == "tok")
        #expect(credentials.expiration == Date(timeIntervalSince1970: 1_893_553_445))
        #expect(ISO8601.parse("2030-01-02T03:04:05.123Z") != nil)
        #expect(throws: SQSError.self) { try CredentialsJSON.decode(Array("{}".utf8), source: "test") }
    }

    actor Counter {
        var value = 0
        func next() -> Int { value += 1; return value }
    }

    @Test func temporaryCredentialsAreCachedAndRefreshedBeforeExpiry() async throws {
        let cache = CredentialsCache()
        let counter = Counter()
        let longLived: @Sendable () async throws -> AWSCredentials = {
            let n = await counter.next()
            return AWSCredentials(accessKeyID: "K\(n)", secretAccessKey: "s", sessionToken: "t", expiration: Date().addingTimeInterval(3600))
        }
        #expect(try await cache.get(longLived).accessKeyID == "K1")
        #expect(try await cache.get(longLived).accessKeyID == "K1")

        let soon = CredentialsCache()
        let nearExpiry: @Sendable () async throws -> AWSCredentials = {
            let n = await counter.next()
            return AWSCredentials(accessKeyID: "N\(n)", secretAccessKey: "s", expiration: Date().addingTimeInterval(120))
        }
        let first = try await soon.get(nearExpiry).accessKeyID
        let second = try await soon.get(nearExpiry).accessKeyID
        #expect(first != second)  // inside the 5-minute margin: refreshed every time

        // A failed refresh keeps credentials that still work.
        let failing: @Sendable () async throws -> AWSCredentials = { throw SQSError(code: .credentials, isRetryable: true) }
        #expect(try await soon.get(failing).accessKeyID == second)
    }

    @Test func webIdentityNeedsItsTokenFile() async {
        let env = ["AWS_WEB_IDENTITY_TOKEN_FILE": "/nonexistent/token", "AWS_ROLE_ARN": "arn:aws:iam::1:role/x", "HOME": "/nonexistent"]
        await #expect(throws: SQSError.self) { try await AWSCredentialsChain(environment: env).credentials() }
    }
}
