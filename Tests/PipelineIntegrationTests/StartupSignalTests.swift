import Foundation
import PipelineTestSupport
import TestSupport
import Testing

/// `etl run` waits for SQS when it is down at start (a consumer must not crash-loop). A
/// SIGTERM then — a pod deleted during an outage — ends it cleanly: exit 0, one notice, nothing
/// consumed; before, the signal's default action killed it (status 143, nothing logged).
@Suite("etl run: SIGTERM while waiting for SQS at start-up")
struct StartupSignalTests {
    @Test("SIGTERM while the queue URL is still being waited for: exit 0, a notice, not killed by the signal")
    func sigtermDuringStartup() async throws {
        let etl = try ChildProcess.etl(["run"], environment: [
            "DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none",
            "SQS_QUEUE_URL": "", "SQS_QUEUE_NAME": "login-queue",
            "AWS_ENDPOINT_URL": "http://127.0.0.1:9", "AWS_ENDPOINT_URL_SQS": "http://127.0.0.1:9",
            "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_DEFAULT_REGION": "us-east-1",
        ])
        #expect(try await etl.waitForOutput("SQS unavailable; retrying", inStderr: true, timeout: .seconds(60)), "\(etl.stderr)")
        etl.signal(SIGTERM)
        let result = await etl.wait(timeout: .seconds(30))
        #expect(!result.signalled && !result.timedOut && result.status == 0, "\(result)")
        #expect(result.stderr.contains("signal received, stopping"), "\(result)")
    }
}
