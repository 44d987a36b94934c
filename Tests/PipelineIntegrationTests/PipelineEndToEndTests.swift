import Foundation
import Logging
import PIICrypto
import Pipeline
import SQS
import Postgres
import Testing
import PipelineTestSupport
import TestSupport

@Suite("pipeline end to end (real PostgreSQL + SQS endpoint)", .enabled(if: TestServices.postgresEnabled && TestServices.sqsEnabled))
struct PipelineEndToEndTests {
    @Test("the 100 real take-home messages: 99 rows, the malformed one quarantined, nothing left")
    func realSamples() async throws {
        let fixture = try await PipelineFixture.make("e2e")
        try #require(Samples.bodies.count == 100)
        try await fixture.send(Samples.bodies)
        let summary = try await fixture.drain()

        #expect(summary.outcome.inserted == 99)
        #expect(summary.outcome.quarantined == 1)
        // moto, like SQS, may hand one message to two receivers: every receipt is deleted,
        // and the MessageId absorbs the duplicate.
        #expect(summary.received >= 100)
        #expect(summary.deleted == summary.received)
        #expect(summary.outcome.inserted + summary.outcome.duplicates + summary.outcome.quarantined >= 100)
        #expect(try await fixture.database.scalar("SELECT count(*) FROM user_logins") == 99)
        #expect(try await fixture.database.scalar("SELECT count(DISTINCT message_id) FROM user_logins") == 99)
        #expect(try await fixture.database.scalar("SELECT count(*) FROM user_logins WHERE locale IS NULL") == 29)
        #expect(try await fixture.database.scalar("SELECT count(*) FROM etl_quarantine WHERE reason = 'missing required field user_id'") == 1)
        let attributes = try await fixture.sqs.getQueueAttributes(queueURL: fixture.queueURL, names: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])
        #expect(attributes["ApproximateNumberOfMessages"] == "0")
        #expect(attributes["ApproximateNumberOfMessagesNotVisible"] == "0")

        // Every row carries the tokens of its record and the encodings of SPEC §2.
        let tokenizer = fixture.keys.tokenizer
        for record in Samples.records {
            let user = record["user_id"] as! String
            let rows = try await fixture.database.query(
                "SELECT masked_ip, masked_device_id, app_version, app_version_raw, device_type, create_date::text AS d, token_key_version FROM user_logins WHERE user_id = $1",
                [.text(user)])
            let row = try #require(rows.rows.first)
            #expect(row["masked_ip"].string == tokenizer.token(record["ip"] as! String, field: .ip))
            #expect(row["masked_device_id"].string == tokenizer.token(record["device_id"] as! String, field: .deviceID))
            #expect(row["app_version_raw"].string == record["app_version"] as? String)
            #expect(row["device_type"].string == record["device_type"] as? String)
            #expect(row["token_key_version"].int == 1)
        }
        let today = ISO8601DateFormatter().string(from: Date()).prefix(10)
        #expect(try await fixture.database.scalar("SELECT count(*) FROM user_logins WHERE create_date::text = $1", [.text(String(today))]) == 99)
        #expect(try await fixture.database.scalar("SELECT app_version FROM user_logins WHERE app_version_raw = '2.3.0' LIMIT 1") == 2_003_000)

        // One vault entry per distinct value, and the vault gives back the original.
        let distinctIPs = Set(Samples.records.map { $0["ip"] as! String }).count
        let distinctDevices = Set(Samples.records.map { $0["device_id"] as! String }).count
        #expect(try await fixture.database.scalar("SELECT count(*) FROM pii_vault WHERE field = 'ip'") == Int64(distinctIPs))
        #expect(try await fixture.database.scalar("SELECT count(*) FROM pii_vault WHERE field = 'device_id'") == Int64(distinctDevices))
        let first = Samples.records[0]
        let ip = first["ip"] as! String
        #expect(try await fixture.reveal(field: .ip, token: tokenizer.token(ip, field: .ip)) == ip)
    }

    @Test("a redelivered message (visibility expired before its delete) yields one row")
    func redelivery() async throws {
        let fixture = try await PipelineFixture.make("redeliver")
        try await fixture.send([Samples.bodies[0]])
        // First delivery: committed, then the process "dies" before deleting.
        let first = try await fixture.sqs.receiveMessages(queueURL: fixture.queueURL, maxMessages: 1, waitTimeSeconds: 1, visibilityTimeout: 1)
        let message = try #require(first.first)
        let writer = BatchWriter(url: fixture.database.url, dekMaxEncryptions: 1000, fallbackDate: "2000-01-01", logger: .test)
        let keys = try ActiveKeysLoader(keys: fixture.keys.directory).load(
            try await writer.connection().withSession { try ActiveKeysLoader(keys: fixture.keys.directory).readVersions($0) })
        let outcome = try await writer.write([SQSConsumer.incoming(message)], keys: keys)
        #expect(outcome.inserted == 1)
        await writer.close()
        try await Task.sleep(for: .seconds(2))
        // Second delivery: deduplicated by MessageId, then deleted.
        let summary = try await fixture.drain()
        #expect(summary.received == 1)
        #expect(summary.outcome.duplicates == 1)
        #expect(summary.deleted == 1)
        #expect(try await fixture.database.scalar("SELECT count(*) FROM user_logins") == 1)
    }

    @Test("no ip, device_id or raw body appears in any log line, even at trace level")
    func noPIIInLogs() async throws {
        let fixture = try await PipelineFixture.make("nopii")
        try await fixture.send(Samples.bodies)
        let logs = LogCapture()
        _ = try await fixture.drain(logger: logs.logger(label: "etl-test", level: .trace))
        let lines = logs.lines
        #expect(!lines.isEmpty)
        let secrets = Samples.records.flatMap { [$0["ip"] as! String, $0["device_id"] as! String] } + Samples.bodies + ["oops_wrong_msg_type"]
        for line in lines {
            for secret in secrets {
                #expect(!line.contains(secret), "a log line carries PII")
            }
        }
    }
}
