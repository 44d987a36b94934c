import Foundation
import PIICrypto
import Pipeline
import Postgres
import Testing
@testable import Vault
import PipelineTestSupport
import TestSupport

/// `vault quarantine replay` seals the originals it stores under data keys it makes itself,
/// and replaces its key before the limit, however large the quarantine (SPEC §4).
@Suite("quarantine replay data keys (real PostgreSQL + SQS endpoint)", .serialized,
       .enabled(if: TestServices.postgresEnabled && TestServices.sqsEnabled))
struct QuarantineReplayDataKeyTests {
    @Test("a replay makes a new data key before one would pass its encryption limit; every replayed original reveals")
    func rollsDataKey() async throws {
        let fixture = try await PipelineFixture.make("replay_dek")
        try await fixture.database.query("ALTER TABLE user_logins ADD CONSTRAINT no_blocked CHECK (device_type IS DISTINCT FROM 'blocked')")
        let lines = (0..<12).map { n in
            #"{"user_id": "user-\#(n)", "device_type": "blocked", "ip": "203.0.113.\#(n)", "device_id": "dev-roll-\#(n)"}"#
        }
        let path = FileManager.default.temporaryDirectory.appendingPathComponent(TestServices.uniqueName("roll") + ".jsonl").path
        try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let etl = try ChildProcess.etl(["ingest", path], environment: RotationSupport.environment(fixture))
        #expect(await etl.exitStatus(timeout: .seconds(60)) == 0, "\(etl.stderr)")
        #expect(try await fixture.database.scalar("SELECT count(*) FROM etl_quarantine") == 12)
        try await fixture.database.query("ALTER TABLE user_logins DROP CONSTRAINT no_blocked")
        let lastKey = try await fixture.database.scalar("SELECT max(dek_id) FROM vault_data_keys")

        let environment = VaultEnvironment(
            databaseURL: fixture.database.url, keysDirectory: fixture.keys.directory.path,
            passphrase: PassphraseOptions(environment: [:], interactive: false), logger: .test
        )
        // Steps of 2 messages (4 entries); a key for 8 encryptions: a new one every 2 steps.
        var replayer = QuarantineReplayer(environment: environment, batchSize: 2)
        replayer.dataKeyEncryptions = 8
        let result = try await replayer.replay(ids: nil, reason: "data key limit")
        #expect(result.loaded == 12 && result.problems.isEmpty, "\(result)")
        #expect(try await fixture.database.scalar("SELECT count(*) FROM vault_data_keys WHERE dek_id > $1", [.int(lastKey)]) == 3)
        #expect(try await fixture.database.scalar("""
            SELECT max(n) FROM (SELECT count(*) AS n FROM pii_vault WHERE dek_id > $1 GROUP BY dek_id) k
            """, [.int(lastKey)]) == 8)
        for n in [0, 5, 11] {
            let token = fixture.keys.tokenizer.token("dev-roll-\(n)", field: .deviceID)
            #expect(try await fixture.reveal(field: .deviceID, token: token) == "dev-roll-\(n)")
        }
    }
}
