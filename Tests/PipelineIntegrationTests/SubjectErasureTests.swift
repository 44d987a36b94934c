import Foundation
import PIICrypto
import Pipeline
import Postgres
import Testing
import PipelineTestSupport
import TestSupport

/// `vault subject export` / `vault subject forget` with the real `vault` binary and the
/// pipeline (in-process drains, real `etl ingest` / `etl run` processes) on real PostgreSQL
/// and the SQS endpoint.
@Suite("data-subject requests (real PostgreSQL + SQS endpoint)", .serialized,
       .enabled(if: TestServices.postgresEnabled && TestServices.sqsEnabled))
struct SubjectErasureTests {
    static let erased = "6f1c0a52-erase-me \"quoted\", {braced}\\"
    static let other = "b3e0c1d4-keep-me"

    static func body(_ user: String, ip: String, device: String, locale: String = "DE") -> String {
        let object: [String: Any] = [
            "user_id": user, "ip": ip, "device_id": device, "device_type": "android", "locale": locale, "app_version": "2.3.0",
        ]
        return String(decoding: try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self)
    }

    static func vault(_ arguments: [String], _ fixture: PipelineFixture) async throws -> ChildProcess.Result {
        try await RotationSupport.vault(arguments, fixture)
    }

    static func tokenizer(_ fixture: PipelineFixture, version: Int = 1) throws -> Tokenizer {
        Tokenizer(rootKey: try fixture.keys.directory.readTokenKey(version: version), version: version)
    }

    static func rows(_ fixture: PipelineFixture, _ user: String) async throws -> Int64 {
        try await fixture.database.scalar("SELECT count(*) FROM user_logins WHERE user_id = $1", [.text(user)])
    }

    static func hasEntry(_ fixture: PipelineFixture, _ field: PIIField, _ token: String) async throws -> Bool {
        try await fixture.database.scalar(
            "SELECT count(*) FROM pii_vault WHERE field = $1 AND token = $2", [.text(field.rawValue), .text(token)]
        ) == 1
    }

    /// The erased subject's logins: 198.51.100.1 shared with the other subject, the rest its own.
    static func seed(_ fixture: PipelineFixture) async throws {
        try await fixture.send([
            body(erased, ip: "198.51.100.1", device: "dev-erased"),
            body(erased, ip: "198.51.100.2", device: "dev-erased", locale: "line\tbreak\n"),
            body(other, ip: "198.51.100.1", device: "dev-other"),
        ])
        let summary = try await fixture.drain()
        #expect(summary.outcome.inserted == 3)
    }

    @Test("export: every login with its exact originals, audited with hashes and tokens only; missing reason is 77")
    func export() async throws {
        let fixture = try await PipelineFixture.make("subjexport")
        try await Self.seed(fixture)
        let result = try await Self.vault(["subject", "export", Self.erased, "--reason", "art. 15 request", "--json"], fixture)
        #expect(result.status == 0, "\(result)")
        let logins = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [[String: Any]] ?? []
        #expect(logins.count == 2)
        #expect(Set(logins.compactMap { $0["ip"] as? String }) == ["198.51.100.1", "198.51.100.2"])
        #expect(logins.allSatisfy { $0["deviceID"] as? String == "dev-erased" && $0["userID"] as? String == Self.erased })
        #expect(logins.allSatisfy { $0["ipStatus"] as? String == "revealed" })
        #expect(Set(logins.compactMap { $0["locale"] as? String }) == ["DE", "line\tbreak\n"])

        let text = try await Self.vault(["subject", "export", Self.erased, Self.other, "--reason", "art. 15"], fixture)
        #expect(text.status == 0 && text.stdout.split(separator: "\n").count == 3, "\(text)")
        #expect(text.stdout.contains("line\\tbreak\\n"), "\(text)")

        let tokenizer = try Self.tokenizer(fixture)
        let audit = try await fixture.database.query(
            "SELECT detail FROM vault_audit WHERE action = 'subject-export' ORDER BY seq"
        ).rows.compactMap { $0["detail"].string }
        #expect(audit.count == 2)
        #expect(audit.first?.contains(tokenizer.token("198.51.100.2", field: .ip)) == true)
        #expect(audit.allSatisfy { !$0.contains("erase-me") && !$0.contains("198.51.100") && !$0.contains("dev-erased") })

        for command in ["export", "forget"] {
            let denied = try await Self.vault(["subject", command, Self.erased], fixture)
            #expect(denied.status == 77, "\(command): \(denied)")
            let blank = try await Self.vault(["subject", command, Self.erased, "--reason", "  "], fixture)
            #expect(blank.status == 77, "\(command): \(blank)")
        }
        #expect(try await Self.rows(fixture, Self.erased) == 2)
    }

    @Test("forget: rows gone, own originals shredded (reveal 65 forgotten), shared kept; late data of before the erasure dropped (SQS, etl ingest), a later login stored; idempotent")
    func forget() async throws {
        let fixture = try await PipelineFixture.make("subjforget")
        try await Self.seed(fixture)
        let tokenizer = try Self.tokenizer(fixture)
        let shared = tokenizer.token("198.51.100.1", field: .ip)
        let ownIP = tokenizer.token("198.51.100.2", field: .ip)
        let ownDevice = tokenizer.token("dev-erased", field: .deviceID)
        // Sent before the erasure, delivered after it (etl was not running).
        try await fixture.send([Self.body(Self.erased, ip: "198.51.100.3", device: "dev-late")])
        try await Task.sleep(for: .milliseconds(20))

        let forget = try await Self.vault(["subject", "forget", Self.erased, "--reason", "art. 17 request"], fixture)
        #expect(forget.status == 0, "\(forget)")
        #expect(forget.stdout.contains("2 logins deleted, 2 originals shredded, 1 kept"), "\(forget)")
        #expect(try await Self.rows(fixture, Self.erased) == 0)
        #expect(try await Self.rows(fixture, Self.other) == 1)
        for token in [ownIP, ownDevice] {
            let reveal = try await Self.vault(["reveal", token, "--reason", "check"], fixture)
            #expect(reveal.status == 65 && reveal.stderr.contains("forgotten"), "\(reveal)")
        }
        let kept = try await Self.vault(["reveal", shared, "--reason", "check"], fixture)
        #expect(kept.status == 0 && kept.stdout.contains("198.51.100.1"), "\(kept)")
        let otherDevice = try await Self.vault(["reveal", tokenizer.token("dev-other", field: .deviceID), "--reason", "check"], fixture)
        #expect(otherDevice.status == 0, "\(otherDevice)")
        // The tombstone holds a keyed hash, never the id.
        #expect(try await fixture.database.scalar("SELECT count(*) FROM fetchde.subject_erasures") == 1)
        #expect(try await fixture.database.scalar("SELECT count(*) FROM fetchde.subject_erasures WHERE subject_hash LIKE '%erase%'") == 0)

        // Idempotent: nothing more to delete, the tombstone stays one row.
        let again = try await Self.vault(["subject", "forget", Self.erased, "--reason", "art. 17 request"], fixture)
        #expect(again.status == 0 && again.stdout.contains("0 logins deleted, 0 originals shredded"), "\(again)")
        #expect(try await fixture.database.scalar("SELECT count(*) FROM fetchde.subject_erasures") == 1)
        #expect(try await fixture.database.scalar("SELECT count(*) FROM vault_audit WHERE action = 'subject-forget'") == 2)
        #expect(try await Self.vault(["audit", "--verify"], fixture).status == 0)

        // The late SQS message (sent before the erasure) is dropped, with its value.
        let late = try await fixture.drain()
        #expect(late.outcome.erasedDropped == 1 && late.outcome.inserted == 0, "\(late.outcome)")
        #expect(try await Self.rows(fixture, Self.erased) == 0)
        #expect(try await !Self.hasEntry(fixture, .ip, tokenizer.token("198.51.100.3", field: .ip)))
        #expect(try await !Self.hasEntry(fixture, .deviceID, tokenizer.token("dev-late", field: .deviceID)))

        // A backfill line of the subject (no send time: old data) is dropped; the other's stored.
        let file = FileManager.default.temporaryDirectory.appendingPathComponent(TestServices.uniqueName("subj") + ".jsonl").path
        try ([Self.body(Self.erased, ip: "198.51.100.4", device: "dev-file"), Self.body(Self.other, ip: "198.51.100.5", device: "dev-other")]
            .joined(separator: "\n") + "\n").write(toFile: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: file) }
        let ingest = try ChildProcess.etl(["ingest", file], environment: RotationSupport.environment(fixture))
        #expect(await ingest.exitStatus(timeout: .seconds(60)) == 0, "\(ingest.stderr)")
        #expect(try await Self.rows(fixture, Self.erased) == 0)
        #expect(try await Self.rows(fixture, Self.other) == 2)
        #expect(try await !Self.hasEntry(fixture, .ip, tokenizer.token("198.51.100.4", field: .ip)))

        // A login sent after the erasure is new data.
        try await fixture.send([Self.body(Self.erased, ip: "198.51.100.6", device: "dev-new")])
        let fresh = try await fixture.drain()
        #expect(fresh.outcome.inserted == 1 && fresh.outcome.erasedDropped == 0, "\(fresh.outcome)")
        #expect(try await Self.rows(fixture, Self.erased) == 1)
        #expect(try await Self.hasEntry(fixture, .ip, tokenizer.token("198.51.100.6", field: .ip)))
    }

    @Test("a tombstone sharing only its first 8 bytes with a subject's hash (what etl keeps in memory) erases nobody; malformed hashes are ignored; the real one still drops")
    func prefixOnlyTombstone() async throws {
        let fixture = try await PipelineFixture.make("subjprefix")
        try await Self.seed(fixture)
        let forget = try await Self.vault(["subject", "forget", "nobody-at-all", "--reason", "registers the key"], fixture)
        #expect(forget.status == 0, "\(forget)")
        let hasher = SubjectHasher(rootKey: try fixture.keys.directory.readSubjectKey())
        let real = hasher.hash(Self.other)
        let lookalike = String(real.prefix(16)) + String(repeating: real.hasSuffix("0") ? "1" : "0", count: 48)
        #expect(lookalike != real && lookalike.prefix(16) == real.prefix(16))
        for hash in [lookalike, "zz" + String(real.dropFirst(2)), "short", String(real.prefix(16)) + ",0123456789abcdef"] {
            try await fixture.database.query(
                "INSERT INTO fetchde.subject_erasures (subject_hash, erased_at) VALUES ($1, now() + interval '1 hour')", [.text(hash)]
            )
        }
        // Sent before those erasure times: a real tombstone among them would drop it.
        try await fixture.send([Self.body(Self.other, ip: "198.51.100.20", device: "dev-other-2")])
        let stored = try await fixture.drain()
        #expect(stored.outcome.inserted == 1 && stored.outcome.erasedDropped == 0, "\(stored.outcome)")
        #expect(try await Self.rows(fixture, Self.other) == 2)

        try await fixture.database.query(
            "INSERT INTO fetchde.subject_erasures (subject_hash, erased_at) VALUES ($1, now() + interval '1 hour')", [.text(real)]
        )
        try await fixture.send([Self.body(Self.other, ip: "198.51.100.21", device: "dev-other-3")])
        let dropped = try await fixture.drain()
        #expect(dropped.outcome.inserted == 0 && dropped.outcome.erasedDropped == 1, "\(dropped.outcome)")
    }

    @Test("privileges: etl_ingest only reads the tombstones and the key check; vault_admin may delete logins and record erasures, nothing more")
    func privileges() async throws {
        let database = try await TestDatabase.create("subjprivs")
        let checks: [(String, String, String, Bool)] = [
            ("etl_ingest", "fetchde.subject_erasures", "SELECT", true),
            ("etl_ingest", "fetchde.subject_erasures", "INSERT", false),
            ("etl_ingest", "fetchde.subject_erasures", "UPDATE", false),
            ("etl_ingest", "fetchde.subject_erasures", "DELETE", false),
            ("etl_ingest", "fetchde.subject_key", "SELECT", true),
            ("etl_ingest", "fetchde.subject_key", "INSERT", false),
            ("etl_ingest", "public.user_logins", "DELETE", false),
            ("vault_admin", "public.user_logins", "DELETE", true),
            ("vault_admin", "fetchde.subject_erasures", "INSERT", true),
            ("vault_admin", "fetchde.subject_erasures", "UPDATE", true),
            ("vault_admin", "fetchde.subject_erasures", "DELETE", false),
            ("vault_admin", "fetchde.subject_erasures", "TRUNCATE", false),
            ("vault_admin", "fetchde.subject_key", "INSERT", true),
            ("vault_admin", "fetchde.subject_key", "UPDATE", false),
            ("vault_admin", "fetchde.subject_key", "DELETE", false),
            ("public", "fetchde.subject_erasures", "SELECT", false),
        ]
        for (role, table, privilege, expected) in checks {
            let granted = try await database.scalar(
                "SELECT has_table_privilege($1, $2, $3)::int", [.text(role), .text(table), .text(privilege)]
            )
            #expect((granted == 1) == expected, "\(role) \(privilege) on \(table)")
        }
    }

    @Test("an etl host without the registered subject key stores nothing (not ready) until it has the key")
    func etlWithoutSubjectKey() async throws {
        let fixture = try await PipelineFixture.make("subjnokey")
        try await Self.seed(fixture)
        #expect(try await Self.vault(["subject", "forget", "someone", "--reason", "art. 17"], fixture).status == 0)
        let path = fixture.keys.directory.subjectKeyPath
        let saved = try Data(contentsOf: URL(fileURLWithPath: path))
        try FileManager.default.removeItem(atPath: path)
        try await fixture.send([Self.body(Self.other, ip: "198.51.100.9", device: "dev-other")])
        // A one-shot drain refuses (77, one line naming the key); a long-running etl waits, not ready.
        let drain = try ChildProcess.etl(["run", "--drain"], environment: RotationSupport.environment(fixture))
        #expect(await drain.exitStatus(timeout: .seconds(60)) == 77)
        #expect(drain.stderr.contains("subject.key"), "\(drain.stderr)")
        let run = try ChildProcess.etl(["run"], environment: RotationSupport.environment(fixture))
        try await Task.sleep(for: .seconds(4))
        #expect(run.isRunning, "\(run.stderr)")
        #expect(try await Self.rows(fixture, Self.other) == 1)
        await run.kill()
        _ = FileManager.default.createFile(atPath: path, contents: saved, attributes: [.posixPermissions: 0o600])
        let summary = try await fixture.drain()
        #expect(summary.outcome.inserted == 1)
        #expect(try await Self.rows(fixture, Self.other) == 2)
    }

    @Test("the erasure survives rotate --tokens and retokenize: a message sent before it is still dropped")
    func survivesRetokenize() async throws {
        let fixture = try await PipelineFixture.make("subjrotate")
        try await Self.seed(fixture)
        try await fixture.send([Self.body(Self.erased, ip: "198.51.100.3", device: "dev-late")])
        try await Task.sleep(for: .milliseconds(20))
        #expect(try await Self.vault(["subject", "forget", Self.erased, "--reason", "art. 17"], fixture).status == 0)
        #expect(try await Self.vault(["rotate", "--tokens"], fixture).status == 0)
        let retokenize = try await Self.vault(["retokenize"], fixture)
        #expect(retokenize.status == 0, "\(retokenize)")
        let late = try await fixture.drain()
        #expect(late.outcome.erasedDropped == 1 && late.outcome.inserted == 0, "\(late.outcome)")
        #expect(try await Self.rows(fixture, Self.erased) == 0)
        #expect(try await Self.rows(fixture, Self.other) == 1)
    }

    @Test("subject forget while etl run consumes messages of that subject and of others: none of its rows remain, nothing of the others is touched")
    func forgetWhileConsuming() async throws {
        let fixture = try await PipelineFixture.make("subjrun")
        // 400 messages: every fourth of the erased subject (its own values), the rest of 30 others.
        var bodies: [String] = []
        for index in 0..<400 {
            if index % 4 == 0 {
                bodies.append(Self.body(Self.erased, ip: "10.9.\(index / 250).\(index % 250)", device: "erased-\(index % 7)"))
            } else {
                bodies.append(Self.body("other-\(index % 30)", ip: "10.1.\(index / 250).\(index % 250)", device: "other-\(index % 50)"))
            }
        }
        try await fixture.send(bodies)
        var environment = RotationSupport.environment(fixture)
        environment["ETL_BATCH_SIZE"] = "10"
        let run = try ChildProcess.etl(["run"], environment: environment)
        try await RotationSupport.waitUntil("the subject's first rows") { try await Self.rows(fixture, Self.erased) >= 10 }
        let othersBefore = try await fixture.database.scalar("SELECT count(*) FROM user_logins WHERE user_id <> $1", [.text(Self.erased)])
        let forget = try await Self.vault(["subject", "forget", Self.erased, "--reason", "art. 17"], fixture)
        #expect(forget.status == 0, "\(forget)")
        #expect(othersBefore < 300, "etl finished before the erasure: the test proves nothing")
        try await RotationSupport.waitUntil("the others' rows", timeout: .seconds(60)) {
            try await fixture.database.scalar("SELECT count(*) FROM user_logins") >= 300
        }
        run.signal(SIGTERM)
        #expect(await run.exitStatus(timeout: .seconds(30)) == 0, "\(run.stderr)")

        #expect(try await Self.rows(fixture, Self.erased) == 0)
        #expect(try await fixture.database.scalar("SELECT count(*) FROM user_logins") == 300)
        #expect(try await fixture.database.scalar("SELECT count(DISTINCT message_id) FROM user_logins") == 300)
        // Every original of the others is there and none is tombstoned; none of the subject's is.
        let tokenizer = try Self.tokenizer(fixture)
        var otherTokens = Set<String>()
        var erasedTokens = Set<String>()
        for index in 0..<400 {
            if index % 4 == 0 {
                erasedTokens.insert(tokenizer.token("10.9.\(index / 250).\(index % 250)", field: .ip))
                erasedTokens.insert(tokenizer.token("erased-\(index % 7)", field: .deviceID))
            } else {
                otherTokens.insert(tokenizer.token("10.1.\(index / 250).\(index % 250)", field: .ip))
                otherTokens.insert(tokenizer.token("other-\(index % 50)", field: .deviceID))
            }
        }
        let stored = Set(try await fixture.database.query("SELECT token FROM pii_vault").rows.compactMap { $0["token"].string })
        #expect(otherTokens.isSubset(of: stored))
        #expect(stored.isDisjoint(with: erasedTokens))
        let forgotten = Set(try await fixture.database.query("SELECT token FROM vault_forgotten").rows.compactMap { $0["token"].string })
        #expect(forgotten.isDisjoint(with: otherTokens))
    }
}
