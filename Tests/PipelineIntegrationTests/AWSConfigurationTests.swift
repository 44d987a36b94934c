import Foundation
import Logging
import SQS
import Testing
import TestSupport

/// AWS configuration and `etl config` / `vault config` as the binaries read them.
@Suite("AWS configuration and effective configuration of the binaries")
struct AWSConfigurationTests {
    static let repoConfig = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("config/config.ini").path

    /// Runs a built binary to completion; (status, stdout, stderr). An empty value in `extra`
    /// removes that variable.
    static func run(_ tool: String, _ arguments: [String], environment extra: [String: String]) async throws -> (Int32, String, String) {
        let result = try await ChildProcess.run(product: tool, arguments, environment: ChildProcess.inheritedEnvironment(merging: extra))
        return (result.status, result.stdout, result.stderr)
    }

    @Test("AWS_DEFAULT_REGION decides the signing region with config/config.ini (region = us-east-1) present",
          .enabled(if: TestServices.sqsEnabled))
    func defaultRegionVariableBeatsTheConfigFile() async throws {
        let endpoint = try TestServices.requireSQSEndpoint()
        #expect(try String(contentsOfFile: Self.repoConfig, encoding: .utf8).contains("region = us-east-1"))
        let queue = TestServices.uniqueName("region")
        let (status, _, errors) = try await Self.run("etl", ["demo-messages", "--count", "1", "--send", "--config", Self.repoConfig], environment: [
            "AWS_REGION": "", "AWS_DEFAULT_REGION": "eu-central-1", "AWS_ENDPOINT_URL": endpoint,
            "SQS_QUEUE_URL": "", "SQS_QUEUE_NAME": queue, "AWS_CONFIG_FILE": "/nonexistent/aws-config",
        ])
        #expect(status == 0, "\(errors)")
        // moto keeps queues per region, the region taken from the request's signature.
        func client(_ region: String) throws -> SQSClient {
            let configuration = SQSConfiguration.fromEnvironment(endpoint: endpoint, region: region, wireProtocol: .json)
            return try SQSClient(configuration: configuration, logger: Logger(label: "fetchde.tests"))
        }
        let central = try client("eu-central-1"), east = try client("us-east-1")
        defer { central.shutdown(); east.shutdown() }
        let url = try await central.getQueueURL(name: queue)
        await #expect(throws: SQSError.self) { _ = try await east.getQueueURL(name: queue) }
        try await central.deleteQueue(queueURL: url)
    }

    @Test("etl config and vault config show every setting with its source and never a secret")
    func configNeverPrintsSecrets() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("config-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("config.ini")
        try """
            [aws]
            region = us-east-1
            secret_access_key = file-secret-value-31337
            [sqs]
            queue_name = name\u{1b}[31mred
            [etl]
            batch_size = 77
            """.write(to: file, atomically: true, encoding: .utf8)
        let secrets = [
            "DATABASE_URL": "postgresql://etl:db-password-31337@db.example/fetchde",
            "VAULT_DATABASE_URL": "postgresql://vault:vault-password-31337@db.example/fetchde",
            "AWS_ACCESS_KEY_ID": "AKIAACCESS31337", "AWS_SESSION_TOKEN": "session-token-31337",
            "VAULT_PASSPHRASE": "passphrase-31337",
        ]
        var environment = secrets
        environment["AWS_REGION"] = ""
        environment["AWS_DEFAULT_REGION"] = "ap-southeast-2"
        environment["AWS_SECRET_ACCESS_KEY"] = ""
        environment["ETL_RECEIVE_LOOPS"] = "3"
        for tool in ["etl", "vault"] {
            let (status, output, errors) = try await Self.run(
                tool, ["config", "--config", file.path, "--log-level", "warning"], environment: environment)
            #expect(status == 0, "\(tool): \(errors)")
            for secret in Array(secrets.values) + ["31337"] {
                #expect(!output.contains(secret) && !errors.contains(secret), "\(tool) printed a secret")
            }
            var lines: [String: [String]] = [:]
            for line in output.split(separator: "\n") {
                let fields = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
                #expect(fields.count == 3, "\(tool): \(line)")
                lines[fields[0]] = Array(fields.dropFirst())
            }
            #expect(lines["database.url"] == ["<set>", "env DATABASE_URL"])
            #expect(lines["vault.database_url"] == ["<set>", "env VAULT_DATABASE_URL"])
            #expect(lines["aws.secret_access_key"] == ["<set>", "file \(file.path) [aws] secret_access_key"])
            #expect(lines["aws.access_key_id"] == ["<set>", "env AWS_ACCESS_KEY_ID"])
            #expect(lines["aws.session_token"] == ["<set>", "env AWS_SESSION_TOKEN"])
            #expect(lines["aws.region"] == ["ap-southeast-2", "env AWS_DEFAULT_REGION"])
            #expect(lines["etl.batch_size"] == ["77", "file \(file.path) [etl] batch_size"])
            #expect(lines["etl.receive_loops"] == ["3", "env ETL_RECEIVE_LOOPS"])
            #expect(lines["etl.wait_time_seconds"] == ["5", "default"])
            #expect(lines["log.level"] == ["warning", "flag --log-level"])
            #expect(lines["sqs.queue_name"] == ["name\\x1b[31mred", "file \(file.path) [sqs] queue_name"])
            #expect(!output.contains("\u{1b}"))
        }
    }
}
