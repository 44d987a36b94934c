import Foundation
import PipelineTestSupport
import TestSupport
import Testing

/// Issue 16: `etl ingest` on a migrated database before `vault init` says what to do, in one
/// line, with a documented status (69: the service is not ready), and stores nothing.
@Suite("etl before vault init (real PostgreSQL)", .enabled(if: TestServices.postgresEnabled))
struct NotInitializedTests {
    @Test("etl ingest before vault init: one line naming `vault init`, exit 69, nothing stored")
    func ingestBeforeInit() async throws {
        let database = try await TestDatabase.create("notinit")
        let keys = FileManager.default.temporaryDirectory.appendingPathComponent("notinit-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: keys, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: keys) }
        let file = keys + "/logins.jsonl"
        let line = #"{"user_id": "u1", "app_version": "2.3.0", "device_type": "android", "ip": "198.51.100.7", "locale": "RU", "device_id": "593-47-5928"}"#
        _ = FileManager.default.createFile(atPath: file, contents: Data((line + "\n").utf8))
        let etl = try ChildProcess.etl(["ingest", file], environment: ["DATABASE_URL": database.url, "KEYS_DIR": keys])
        let status = await etl.exitStatus(timeout: .seconds(60))
        #expect(status == 69, "\(etl.stderr)")
        let lines = etl.stderr.split(separator: "\n")
        #expect(lines.count == 1, "\(etl.stderr)")
        #expect(etl.stderr.hasPrefix("etl ingest: ") && etl.stderr.contains("run `vault init` first"), "\(etl.stderr)")
        #expect(try await database.scalar("SELECT count(*) FROM user_logins") == 0)
    }
}
