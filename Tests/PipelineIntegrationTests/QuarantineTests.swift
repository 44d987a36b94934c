import Foundation
import Pipeline
import Postgres
import Testing
import PipelineTestSupport
import SQS
import TestSupport

/// `vault quarantine list|show|replay|purge` (SPEC §5) against real PostgreSQL, with the real
/// `etl` quarantining messages and loading the same message ids meanwhile.
@Suite("quarantine triage loop (real PostgreSQL + SQS endpoint)", .serialized,
       .enabled(if: TestServices.postgresEnabled && TestServices.sqsEnabled))
struct QuarantineTests {
    typealias Rotation = RotationSupport

    /// A login body; `device_type` "blocked" is what the DBA's constraint rejects.
    static func body(_ n: Int, deviceType: String = "android") -> String {
        #"{"user_id": "user-\#(n)", "app_version": "2.3.\#(n % 10)", "device_type": "\#(deviceType)", "ip": "198.51.100.\#(n % 250)", "locale": "RU", "device_id": "dev-\#(n)"}"#
    }

    /// A JSONL file: `valid` logins, `blocked` logins the constraint rejects, and `broken`
    /// lines that are not messages at all.
    static func file(valid: Int, blocked: Int, broken: Int) throws -> String {
        var lines: [String] = []
        for n in 0..<valid { lines.append(body(n)) }
        for n in 0..<blocked { lines.append(body(1000 + n, deviceType: "blocked")) }
        for n in 0..<broken { lines.append(#"{"user_id": "broken-\#(n)", "ip": 42}"#) }
        let path = FileManager.default.temporaryDirectory.appendingPathComponent(TestServices.uniqueName("logins") + ".jsonl").path
        try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    static func ingest(_ path: String, _ fixture: PipelineFixture) async throws -> Int32 {
        let etl = try ChildProcess.etl(["ingest", path], environment: Rotation.environment(fixture))
        let status = await etl.exitStatus(timeout: .seconds(120))
        if status != 0 { Issue.record("etl ingest: \(status) \(etl.stderr.suffix(600))") }
        return status
    }

    /// A fixture whose quarantine holds `blocked` logins the database rejected as data (a
    /// CHECK a DBA added) and `broken` invalid lines; the constraint is dropped again after.
    static func quarantined(_ name: String, blocked: Int, broken: Int) async throws -> (PipelineFixture, String) {
        let fixture = try await PipelineFixture.make(name)
        try await fixture.database.query("ALTER TABLE user_logins ADD CONSTRAINT no_blocked CHECK (device_type IS DISTINCT FROM 'blocked')")
        let path = try file(valid: 20, blocked: blocked, broken: broken)
        #expect(try await ingest(path, fixture) == 0)
        #expect(try await fixture.database.scalar("SELECT count(*) FROM etl_quarantine") == Int64(blocked + broken))
        try await fixture.database.query("ALTER TABLE user_logins DROP CONSTRAINT no_blocked")
        return (fixture, path)
    }

    @Test("list never shows a body; show needs a reason (77, audited) and prints the exact body, audited without it")
    func listAndShow() async throws {
        let (fixture, _) = try await Self.quarantined("quarantine_show", blocked: 2, broken: 1)
        let list = try await Rotation.vault(["quarantine", "list"], fixture)
        #expect(list.status == 0, "\(list)")
        #expect(!list.stdout.contains("dev-1000") && !list.stdout.contains("user-1000") && !list.stdout.contains("broken-0"))
        #expect(list.stdout.contains("# counts by reason"))
        #expect(list.stdout.contains("rejected by the database (SQLSTATE 23514"))
        let json = try await Rotation.vault(["quarantine", "list", "--json", "--reason-matches", "SQLSTATE 23514"], fixture)
        let listing = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
        let messages = listing?["messages"] as? [[String: Any]] ?? []
        #expect(messages.count == 2)
        let id = try #require(messages.first?["id"] as? Int)

        let refused = try await Rotation.vault(["quarantine", "show", String(id)], fixture)
        #expect(refused.status == 77 && refused.stdout.isEmpty, "\(refused)")
        let shown = try await Rotation.vault(["quarantine", "show", String(id), "--reason", "fix the producer", "--json"], fixture)
        #expect(shown.status == 0, "\(shown)")
        let bodies = try JSONSerialization.jsonObject(with: Data(shown.stdout.utf8)) as? [[String: Any]] ?? []
        #expect(bodies.first?["body"] as? String == Self.body(1000, deviceType: "blocked"))
        let audit = try await fixture.database.query("SELECT action, outcome, reason, detail FROM vault_audit ORDER BY seq").rows
        #expect(audit.contains { $0[0].string == "quarantine-show" && $0[1].string == "denied" })
        let granted = audit.filter { $0[0].string == "quarantine-show" && $0[1].string == "granted" }
        #expect(granted.count == 1 && granted[0][3].string == String(id))
        #expect(!audit.contains { ($0[3].string ?? "").contains("dev-1000") })
    }

    @Test("replay after the cause is fixed loads each rejected message once, keeps the invalid ones, and a rerun changes nothing")
    func replay() async throws {
        let (fixture, _) = try await Self.quarantined("quarantine_replay", blocked: 5, broken: 3)
        let before = try await fixture.database.scalar("SELECT count(*) FROM user_logins")
        // Steps of 3 of the 8 messages: valid and invalid ones in every step, each read once.
        let run = try await Rotation.vault(["quarantine", "replay", "--all", "--batch", "3", "--reason", "constraint dropped"], fixture)
        #expect(run.status == 0, "\(run)")
        #expect(run.stdout.contains("replayed 8 quarantined messages"), "\(run.stdout)")
        #expect(run.stdout.contains("5 loaded") && run.stdout.contains("3 still invalid"), "\(run.stdout)")
        #expect(try await fixture.database.scalar("SELECT count(*) FROM user_logins") == before + 5)
        #expect(try await fixture.database.scalar("SELECT count(*) FROM user_logins WHERE device_type = 'blocked'") == 5)
        #expect(try await fixture.database.scalar("SELECT count(DISTINCT message_id) FROM user_logins") == before + 5)
        // The replayed rows are the pipeline's: tokens of the active key, originals in the vault.
        let token = try await fixture.database.query("SELECT masked_device_id FROM user_logins WHERE user_id = 'user-1003'").rows[0][0].string ?? ""
        let reveal = try await Rotation.vault(["reveal", token, "--reason", "replay check"], fixture)
        #expect(reveal.stdout.contains("dev-1003"), "\(reveal)")
        let left = try await fixture.database.query("SELECT reason FROM etl_quarantine").rows.compactMap { $0[0].string }
        #expect(left.count == 3 && left.allSatisfy { !$0.contains("SQLSTATE") }, "\(left)")

        let again = try await Rotation.vault(["quarantine", "replay", "--all", "--reason", "again"], fixture)
        #expect(again.status == 0 && again.stdout.contains("0 loaded"), "\(again)")
        #expect(try await fixture.database.scalar("SELECT count(*) FROM user_logins") == before + 5)
        let audit = try await fixture.database.query(
            "SELECT detail FROM vault_audit WHERE action = 'quarantine-replay' ORDER BY seq"
        ).rows.compactMap { $0[0].string }
        #expect(audit.count == 2 && audit[0].hasPrefix("loaded 5,"), "\(audit)")
        #expect(!audit.joined().contains("dev-"))
        // An unknown id: 65, nothing else happens; known ones beside it are replayed (steps of 1).
        let kept = try await fixture.database.query("SELECT quarantine_id FROM etl_quarantine ORDER BY 1").rows.compactMap { $0[0].int }
        let unknown = try await Rotation.vault(
            ["quarantine", "replay", "999999"] + kept.map(String.init) + ["--batch", "1", "--reason", "r"], fixture
        )
        #expect(unknown.status == 65 && unknown.stderr.contains("no quarantined message 999999"), "\(unknown)")
        #expect(unknown.stdout.contains("replayed 3 quarantined messages") && unknown.stdout.contains("3 still invalid"), "\(unknown.stdout)")
    }

    @Test("replay of messages the database still rejects: their step falls back to one by one, the rest load, they stay with the database's reason")
    func replayStillRejected() async throws {
        let (fixture, _) = try await Self.quarantined("quarantine_rejected", blocked: 6, broken: 0)
        let before = try await fixture.database.scalar("SELECT count(*) FROM user_logins")
        try await fixture.database.query("ALTER TABLE user_logins ADD CONSTRAINT no_two CHECK (user_id NOT IN ('user-1002', 'user-1004'))")
        // Steps of 2: the cursor has read the next step when one fails and is rolled back.
        let run = try await Rotation.vault(["quarantine", "replay", "--all", "--batch", "2", "--reason", "partly fixed"], fixture)
        #expect(run.status == 0, "\(run)")
        #expect(run.stdout.contains("replayed 6 quarantined messages: 4 loaded") && run.stdout.contains("2 still invalid"), "\(run.stdout)")
        #expect(try await fixture.database.scalar("SELECT count(*) FROM user_logins") == before + 4)
        #expect(try await fixture.database.scalar(
            "SELECT count(*) FROM user_logins WHERE user_id IN ('user-1000', 'user-1001', 'user-1003', 'user-1005')"
        ) == 4)
        let left = try await fixture.database.query("SELECT reason FROM etl_quarantine").rows.compactMap { $0[0].string }
        #expect(left.count == 2 && left.allSatisfy { $0.contains("SQLSTATE 23514") }, "\(left)")
        try await fixture.database.query("ALTER TABLE user_logins DROP CONSTRAINT no_two")
        let rest = try await Rotation.vault(["quarantine", "replay", "--all", "--reason", "fixed"], fixture)
        #expect(rest.status == 0 && rest.stdout.contains("2 loaded"), "\(rest)")
        #expect(try await fixture.database.scalar("SELECT count(*) FROM etl_quarantine") == 0)
    }

    @Test("replay while etl loads the same message ids: each exactly once, the quarantine emptied of them")
    func replayWhileIngesting() async throws {
        let (fixture, path) = try await Self.quarantined("quarantine_race", blocked: 200, broken: 0)
        let before = try await fixture.database.scalar("SELECT count(*) FROM user_logins")
        // The same file again: the same file-line message ids, now loadable.
        let etl = try ChildProcess.etl(["ingest", path], environment: Rotation.environment(fixture))
        let replay = try await Rotation.vault(["quarantine", "replay", "--all", "--reason", "race"], fixture)
        #expect(await etl.exitStatus(timeout: .seconds(120)) == 0)
        #expect(replay.status == 0, "\(replay)")
        #expect(try await fixture.database.scalar("SELECT count(*) FROM user_logins") == before + 200)
        #expect(try await fixture.database.scalar(
            "SELECT count(*) FROM (SELECT message_id FROM user_logins GROUP BY message_id HAVING count(*) > 1) d"
        ) == 0)
        // Whatever etl loaded first leaves the quarantine at the next replay as already stored.
        let rest = try await Rotation.vault(["quarantine", "replay", "--all", "--reason", "sweep"], fixture)
        #expect(rest.status == 0, "\(rest)")
        #expect(try await fixture.database.scalar("SELECT count(*) FROM etl_quarantine") == 0)
        #expect(try await fixture.database.scalar("SELECT count(*) FROM user_logins") == before + 200)
    }

    @Test("replay while etl run consumes the same SQS messages (quarantined, not deleted, visible again): each message id stored once, the quarantine emptied")
    func replayWhileConsuming() async throws {
        let fixture = try await PipelineFixture.make("quarantine_consume")
        try await fixture.database.query("ALTER TABLE user_logins ADD CONSTRAINT no_blocked CHECK (device_type IS DISTINCT FROM 'blocked')")
        let total = 60
        try await fixture.send((0..<total).map { Self.body(3000 + $0, deviceType: "blocked") })
        // Received and quarantined as an etl batch does, but not deleted (an etl killed between
        // its commit and its delete): SQS hands them out again after 2 s, with the same ids.
        let loader = ActiveKeysLoader(keys: fixture.keys.directory)
        let connection = try await fixture.database.connect()
        let keys = try await connection.withSession { session in try loader.load(try loader.readVersions(session)) }
        await connection.close()
        let writer = BatchWriter(url: fixture.database.url, dekMaxEncryptions: 1_000_000, fallbackDate: "2000-01-01", logger: .test)
        var quarantinedIDs = Set<String>()
        let deadline = ContinuousClock.now + .seconds(60)
        while quarantinedIDs.count < total {
            guard ContinuousClock.now < deadline else { Issue.record("not every message was received in 60 s"); return }
            let received = try await fixture.sqs.receiveMessages(queueURL: fixture.queueURL, maxMessages: 10, waitTimeSeconds: 1, visibilityTimeout: 2)
            let fresh = received.filter { !quarantinedIDs.contains($0.messageID) }
            guard !fresh.isEmpty else { continue }
            let outcome = try await writer.writeIsolatingPoison(fresh.map {
                IncomingMessage(messageID: $0.messageID, body: Array($0.body.utf8), sentTimestampMilliseconds: $0.sentTimestamp, receiveCount: $0.approximateReceiveCount)
            }, keys: keys)
            #expect(outcome.quarantined == fresh.count)
            quarantinedIDs.formUnion(fresh.map(\.messageID))
        }
        await writer.close()
        #expect(try await fixture.database.scalar("SELECT count(*) FROM etl_quarantine") == Int64(total))
        try await fixture.database.query("ALTER TABLE user_logins DROP CONSTRAINT no_blocked")
        // Visible again before both start, so etl's first receives meet the replay's first steps.
        try await Task.sleep(for: .seconds(2))

        var environment = Rotation.environment(fixture)
        environment["ETL_BATCH_SIZE"] = "5"
        // A message the endpoint hands out twice at once stays in flight until its visibility
        // timeout ends, and --drain waits for it: 5 s, not 60.
        environment["ETL_VISIBILITY_TIMEOUT"] = "5"
        let etl = try ChildProcess.etl(["run", "--drain"], environment: environment)
        let replay = try await Rotation.vault(["quarantine", "replay", "--all", "--batch", "7", "--reason", "race"], fixture)
        #expect(await etl.exitStatus(timeout: .seconds(120)) == 0, "\(etl.stderr)")
        // The two write the same ids in different orders: PostgreSQL may end one in a deadlock
        // (40P01). etl retries its batch; a replay fails whole, changes nothing and is run again.
        if replay.status != 0 {
            #expect(replay.stderr.contains("40P01") || replay.stderr.lowercased().contains("deadlock"), "\(replay)")
        }
        let sweep = try await Rotation.vault(["quarantine", "replay", "--all", "--reason", "sweep"], fixture)
        #expect(sweep.status == 0, "\(sweep)")
        #expect(try await fixture.database.scalar("SELECT count(*) FROM etl_quarantine") == 0)
        #expect(try await fixture.database.scalar("SELECT count(*) FROM user_logins") == Int64(total))
        #expect(try await fixture.database.scalar("SELECT count(DISTINCT message_id) FROM user_logins") == Int64(total))
        #expect(try await fixture.database.scalar(
            "SELECT count(*) FROM user_logins WHERE message_id = ANY($1::varchar[])", [.textArray(Array(quarantinedIDs))]
        ) == Int64(total))
        // The queue is empty: etl deleted every message, stored or already stored.
        let attributes = try await fixture.sqs.getQueueAttributes(
            queueURL: fixture.queueURL, names: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
        )
        #expect(attributes["ApproximateNumberOfMessages"] == "0" && attributes["ApproximateNumberOfMessagesNotVisible"] == "0", "\(attributes)")
    }

    @Test("a message quarantined again counts as seen again; purge deletes by age, audited")
    func seenAndPurge() async throws {
        let (fixture, path) = try await Self.quarantined("quarantine_purge", blocked: 0, broken: 4)
        #expect(try await Self.ingest(path, fixture) == 0)
        #expect(try await fixture.database.scalar("SELECT min(seen_count) FROM etl_quarantine") == 2)
        try await fixture.database.query(
            "UPDATE etl_quarantine SET quarantined_at = now() - interval '40 days' WHERE quarantine_id IN (SELECT quarantine_id FROM etl_quarantine ORDER BY quarantine_id LIMIT 3)"
        )
        let refused = try await Rotation.vault(["quarantine", "purge", "--older-than", "30d"], fixture)
        #expect(refused.status == 77, "\(refused)")
        let bad = try await Rotation.vault(["quarantine", "purge", "--older-than", "thirty", "--reason", "r"], fixture)
        #expect(bad.status == 64, "\(bad)")
        let purge = try await Rotation.vault(["quarantine", "purge", "--older-than", "30d", "--reason", "retention"], fixture)
        #expect(purge.status == 0 && purge.stdout.contains("purged 3"), "\(purge)")
        #expect(try await fixture.database.scalar("SELECT count(*) FROM etl_quarantine") == 1)
        #expect(try await fixture.database.scalar(
            "SELECT count(*) FROM vault_audit WHERE action = 'quarantine-purge' AND outcome = 'purged' AND detail LIKE '3 messages%'"
        ) == 1)
    }

    @Test("replay drops the logins of a subject erased after they were sent (and they leave the quarantine)")
    func replayDropsErasedSubject() async throws {
        let (fixture, _) = try await Self.quarantined("quarantine_erased", blocked: 2, broken: 0)
        let forget = try await Rotation.vault(["subject", "forget", "user-1000", "--reason", "art. 17"], fixture)
        #expect(forget.status == 0, "\(forget)")
        let run = try await Rotation.vault(["quarantine", "replay", "--all", "--reason", "after the fix"], fixture)
        #expect(run.status == 0, "\(run)")
        #expect(run.stdout.contains("1 loaded") && run.stdout.contains("1 dropped (subject erased)"), "\(run.stdout)")
        #expect(try await fixture.database.scalar("SELECT count(*) FROM user_logins WHERE user_id = 'user-1000'") == 0)
        #expect(try await fixture.database.scalar("SELECT count(*) FROM user_logins WHERE user_id = 'user-1001'") == 1)
        #expect(try await fixture.database.scalar("SELECT count(*) FROM etl_quarantine") == 0)
    }
}
