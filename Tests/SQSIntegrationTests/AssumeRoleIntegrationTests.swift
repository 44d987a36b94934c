import Foundation
import Logging
import SQS
import Testing
import TestSupport

/// `role_arn` + `source_profile` from an AWS config file against moto's STS (served on the same
/// endpoint as SQS): the chain signs `AssumeRole` with the source profile's keys and the SQS
/// client then works with the role's temporary credentials.
@Suite("AssumeRole through source_profile (moto STS)", .enabled(if: TestServices.sqsEnabled))
struct AssumeRoleIntegrationTests {
    @Test func assumeRoleThroughSourceProfile() async throws {
        let endpoint = try TestServices.requireSQSEndpoint()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("aws-assume-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let config = directory.appendingPathComponent("config")
        try """
            [profile base]
            aws_access_key_id = AKIASOURCEPROFILE
            aws_secret_access_key = source-profile-secret
            [profile ingest]
            role_arn = arn:aws:iam::123456789012:role/fetchde-ingest
            source_profile = base
            role_session_name = fetchde-integration
            region = eu-west-1
            """.write(to: config, atomically: true, encoding: .utf8)
        // No keys in the environment: only the profile can provide credentials.
        let environment = [
            "AWS_CONFIG_FILE": config.path, "AWS_SHARED_CREDENTIALS_FILE": directory.appendingPathComponent("none").path,
            "AWS_PROFILE": "ingest", "AWS_ENDPOINT_URL": endpoint, "HOME": directory.path, "AWS_EC2_METADATA_DISABLED": "true",
        ]
        let chain = AWSCredentialsChain(environment: environment)
        let credentials = try await chain.credentials()
        #expect(credentials.accessKeyID != "AKIASOURCEPROFILE")
        #expect(credentials.accessKeyID != "test")
        #expect(credentials.sessionToken != nil)
        #expect(credentials.expiration.map { $0 > Date() } == true)

        let configuration = SQSConfiguration.fromEnvironment(environment, wireProtocol: .json)
        #expect(configuration.region == "eu-west-1")  // the profile's region
        let client = try SQSClient(configuration: configuration, logger: Logger(label: "fetchde.sqs.tests"))
        defer { client.shutdown() }
        let url = try await client.createQueue(name: TestServices.uniqueName("assumed"))
        try await client.deleteQueue(queueURL: url)
    }

    @Test func webIdentityTokenFileOfAProfile() async throws {
        let endpoint = try TestServices.requireSQSEndpoint()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("aws-webid-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let token = directory.appendingPathComponent("token")
        try "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJmZXRjaGRlIn0.c2ln\n".write(to: token, atomically: true, encoding: .utf8)
        let config = directory.appendingPathComponent("config")
        try """
            [profile irsa]
            role_arn = arn:aws:iam::123456789012:role/fetchde-irsa
            web_identity_token_file = \(token.path)
            """.write(to: config, atomically: true, encoding: .utf8)
        let environment = [
            "AWS_CONFIG_FILE": config.path, "AWS_SHARED_CREDENTIALS_FILE": directory.appendingPathComponent("none").path,
            "AWS_PROFILE": "irsa", "AWS_ENDPOINT_URL": endpoint, "HOME": directory.path, "AWS_EC2_METADATA_DISABLED": "true",
        ]
        let credentials = try await AWSCredentialsChain(environment: environment).credentials()
        #expect(credentials.accessKeyID != "test")
        #expect(credentials.sessionToken != nil)
    }
}
