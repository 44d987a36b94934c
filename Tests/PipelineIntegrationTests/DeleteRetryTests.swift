import Foundation
import PIICrypto
import Pipeline
import Testing
import PipelineTestSupport
import TestSupport

/// A DeleteMessageBatch entry that fails on SQS's side (SenderFault=false) is retried at once
/// instead of being left for redelivery (SPEC §7).
@Suite("delete retries (real PostgreSQL + SQS endpoint)", .enabled(if: TestServices.postgresEnabled && TestServices.sqsEnabled))
struct DeleteRetryTests {
    @Test("an entry failed once by the endpoint is deleted on retry: no redelivery, no second processing")
    func failedEntryRetried() async throws {
        let fixture = try await PipelineFixture.make("delretry")
        try await fixture.send(DemoData(count: 40, malformedEvery: 0, seed: 11).bodies())
        let proxy = try TCPProxy(target: port(of: try TestServices.requireSQSEndpoint())!, script: "sqs-fault-proxy.py")
        try await proxy.restore()
        // A message left undeleted would come back after 8 s, within the drain (which waits for it).
        let run = try ChildProcess.etl(["run", "--drain"], environment: [
            "DATABASE_URL": fixture.database.url, "KEYS_DIR": fixture.keys.directory.path,
            "AWS_ENDPOINT_URL": "http://127.0.0.1:\(proxy.port)",
            "SQS_QUEUE_URL": replacingPort(of: fixture.queueURL, with: proxy.port),
            "SQS_PROTOCOL": "json", "ETL_VISIBILITY_TIMEOUT": "8", "ETL_BATCH_SIZE": "10",
        ])
        #expect(await run.exitStatus(timeout: .seconds(60)) == 0)
        #expect(run.stderr.contains("delete failed on SQS's side; retrying"), "the proxy never failed an entry")
        #expect(run.stdout.contains("40 received"), "\(run.stdout)")
        #expect(run.stdout.contains("0 duplicates skipped"), "\(run.stdout)")
        #expect(run.stdout.contains("40 deleted, 0 delete failures"), "\(run.stdout)")
        #expect(try await fixture.database.scalar("SELECT count(*) FROM user_logins") == 40)
    }
}
