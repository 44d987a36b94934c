import Foundation
import PIICrypto
import Pipeline
import Postgres
import Testing
import PipelineTestSupport
import TestSupport

/// `vault rotate --tokens` + `vault retokenize` against real PostgreSQL, with the real `etl`
/// ingesting through the SQS endpoint meanwhile, and with kill -9 of the retokenize. The
/// data has known duplicates: every body is sent twice, so every value recurs.
@Suite("token-key rotation and retokenize (real PostgreSQL + SQS endpoint)", .serialized,
       .enabled(if: TestServices.postgresEnabled && TestServices.sqsEnabled))
struct TokenRotationTests {
    // MARK: helpers

    /// Every group recorded before is still within one group (it may have grown).
    static func expectGroupsKept(_ fixture: PipelineFixture) async throws {
        #expect(try await fixture.database.scalar("""
            SELECT count(*) FROM test_groups_before g
            WHERE (SELECT count(DISTINCT CASE g.field WHEN 'ip' THEN masked_ip ELSE masked_device_id END)
                   FROM user_logins WHERE message_id = ANY (g.ids)) <> 1
            """) == 0)
    }

    /// Token → row count of `column`.
    static func tokenCounts(_ fixture: PipelineFixture, _ column: String) async throws -> [String: Int] {
        var out: [String: Int] = [:]
        for row in try await fixture.database.query("SELECT \(column), count(*) FROM user_logins GROUP BY 1").rows {
            out[row[0].string ?? "NULL"] = Int(row[1].int ?? 0)
        }
        return out
    }

    /// What `bodies` give under token key `version`: token → number of rows, per field.
    static func expectedCounts(_ bodies: [String], _ fixture: PipelineFixture, version: Int) throws -> (ip: [String: Int], device: [String: Int]) {
        let tokenizer = Tokenizer(rootKey: try fixture.keys.directory.readTokenKey(version: version), version: version)
        var ip: [String: Int] = [:], device: [String: Int] = [:]
        for body in bodies {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any])
            ip[tokenizer.token(try #require(object["ip"] as? String), field: .ip), default: 0] += 1
            device[tokenizer.token(try #require(object["device_id"] as? String), field: .deviceID), default: 0] += 1
        }
        return (ip, device)
    }

    /// After a complete retokenize to `version`: every row and entry on it, each value with
    /// exactly the token the new key gives it (so one token per value across all rows), no
    /// mapping left, every duplicate group kept, and the new tokens reveal to their values.
    static func expectConverged(_ fixture: PipelineFixture, bodies: [String], version: Int) async throws {
        let expected = try expectedCounts(bodies, fixture, version: version)
        #expect(try await tokenCounts(fixture, "masked_ip") == expected.ip)
        #expect(try await tokenCounts(fixture, "masked_device_id") == expected.device)
        let v = PostgresValue.int(Int64(version))
        #expect(try await fixture.database.scalar("SELECT count(*) FROM user_logins WHERE token_key_version <> $1", [v]) == 0)
        #expect(try await fixture.database.scalar("SELECT count(*) FROM pii_vault WHERE token_key_version <> $1", [v]) == 0)
        #expect(try await fixture.database.scalar("SELECT count(*) FROM pii_vault") == Int64(expected.ip.count + expected.device.count))
        #expect(try await fixture.database.scalar("SELECT count(*) FROM token_rewrites") == 0)
        try await expectGroupsKept(fixture)
        let sample = Array(expected.ip.keys.sorted().prefix(40))
        let reveal = try await RotationSupport.vault(["reveal"] + sample + ["--reason", "retokenize test"], fixture)
        #expect(reveal.status == 0, "\(reveal.stderr)")
        let tokenizer = Tokenizer(rootKey: try fixture.keys.directory.readTokenKey(version: version), version: version)
        let lines = reveal.stdout.split(separator: "\n")
        #expect(lines.count == sample.count)
        for line in lines {
            let parts = line.split(separator: "\t").map(String.init)
            #expect(parts.count == 3 && tokenizer.token(parts[2], field: .ip) == parts[0], "a revealed value has another token")
        }
    }

    // MARK: tests

    @Test("rotate --tokens while etl ingests, then retokenize: one token per value, every duplicate group kept, nothing left over",
          arguments: ["rebuild", "in-place"])
    func retokenizeWhileIngesting(method rows: String) async throws {
        let fixture = try await PipelineFixture.make("retoklive")
        let bodies = DemoData(count: 300, malformedEvery: 0, seed: 7).bodies()
        try await fixture.send(bodies)
        #expect(try await fixture.drain().outcome.inserted == 300)
        #expect(try await RotationSupport.recordGroups(fixture) > 20)

        // The same bodies twice more: every value of the second round duplicates the first.
        try await fixture.send(bodies + bodies)
        var environment = RotationSupport.environment(fixture)
        environment["ETL_BATCH_SIZE"] = "10"
        environment["ETL_ACTIVE_POLL_SECONDS"] = "1"
        let etl = try ChildProcess.etl(["run", "--drain"], environment: environment)
        try await RotationSupport.waitUntil("etl to ingest") { try await fixture.database.scalar("SELECT count(*) FROM user_logins") >= 360 }

        let rotate = try await RotationSupport.vault(["rotate", "--tokens"], fixture)
        #expect(rotate.status == 0, "\(rotate.stderr)")
        #expect(rotate.stdout.contains("token key v2 is active (was v1)"), "\(rotate.stdout)")
        let mode = try FileManager.default.attributesOfItem(atPath: fixture.keys.directory.tokenKeyPath(version: 2))[.posixPermissions] as? Int
        #expect(mode == 0o600)
        #expect(etl.isRunning, "etl finished before the rotation: the test needs it ingesting meanwhile")
        let atRotation = try await fixture.database.scalar("SELECT count(*) FROM user_logins")

        let status = try await RotationSupport.vault(["status"], fixture)
        #expect(status.stdout.contains("to retokenize (vault retokenize)"), "\(status.stdout)")

        // What a rebuilt table must keep: column grants, comment, storage options (and the
        // pipeline's own grants, which the later etl run needs).
        try await fixture.database.query("GRANT SELECT (user_id, masked_ip) ON user_logins TO PUBLIC")
        try await fixture.database.query("COMMENT ON TABLE user_logins IS 'one row per login'")
        try await fixture.database.query("ALTER TABLE user_logins SET (fillfactor = 90)")
        let indexes = try await Self.indexDefinitions(fixture)

        let retokenize = try await RotationSupport.vault(["retokenize", "--batch", "25", "--row-batch", "40", "--method", rows], fixture)
        #expect(retokenize.status == 0, "\(retokenize.stderr)")
        #expect(retokenize.stdout.contains("to token key v2"), "\(retokenize.stdout)")
        #expect(retokenize.stderr.isEmpty, "not a terminal: no progress expected\n\(retokenize.stderr)")
        #expect(await etl.exitStatus() == 0, "\(etl.stderr)")

        #expect(try await Self.indexDefinitions(fixture) == indexes)
        #expect(try await fixture.database.scalar("""
            SELECT count(*) FROM pg_class c WHERE c.oid = 'user_logins'::regclass
              AND c.reloptions = '{fillfactor=90}' AND obj_description(c.oid, 'pg_class') = 'one row per login'
              AND has_column_privilege('public', 'user_logins', 'masked_ip', 'SELECT')
              AND NOT has_column_privilege('public', 'user_logins', 'masked_device_id', 'SELECT')
              AND has_table_privilege('etl_ingest', 'user_logins', 'INSERT')
              AND has_sequence_privilege('etl_ingest', pg_get_serial_sequence('user_logins', 'login_id'), 'USAGE')
            """) == 1, "user_logins lost a grant, its comment or its options")
        // Nothing of the rebuild is left behind.
        #expect(try await fixture.database.scalar("""
            SELECT count(*) FROM pg_class WHERE relname IN ('user_logins_retokenized', 'user_logins_retired')
            """) == 0)
        #expect(try await fixture.database.scalar("SELECT count(*) FROM pg_trigger WHERE tgrelid = 'user_logins'::regclass") == 0)
        #expect(try await fixture.database.scalar("SELECT count(*) FROM user_logins") == 900)
        #expect(atRotation < 900)
        // Rows etl wrote after the rotation carry the new version; none of the old one came
        // after the retokenize (the rotation waited for in-flight batches).
        #expect(try await fixture.database.scalar("SELECT count(*) FROM user_logins WHERE token_key_version = 1") == 0)

        try await Self.expectConverged(fixture, bodies: bodies + bodies + bodies, version: 2)
        let again = try await RotationSupport.vault(["retokenize"], fixture)
        #expect(again.status == 0 && again.stdout.contains("retokenized 0 vault entries"), "\(again)")
        #expect(again.stdout.contains("token-v1.key may be deleted"), "\(again.stdout)")

        let audit = try await fixture.database.query("SELECT action, outcome, detail FROM vault_audit ORDER BY seq")
        let actions = audit.rows.compactMap { $0[0].string }
        #expect(actions.filter { $0 == "rotate_tokens" }.count == 1)
        #expect(actions.filter { $0 == "retokenize" }.count == 2)
        #expect(audit.rows.contains { $0[0].string == "rotate_tokens" && $0[2].string == "token key v1 -> v2" })
        #expect(try await RotationSupport.vault(["audit", "--verify"], fixture).status == 0)

        // The old token key is not needed any more: etl and reveal work without it.
        try FileManager.default.removeItem(atPath: fixture.keys.directory.tokenKeyPath(version: 1))
        try await fixture.send(Array(bodies.prefix(30)))
        let more = try ChildProcess.etl(["run", "--drain"], environment: environment)
        #expect(await more.exitStatus() == 0, "\(more.stderr)")
        try await Self.expectConverged(fixture, bodies: bodies + bodies + bodies + Array(bodies.prefix(30)), version: 2)
        // The identity went on from where the old table's stopped.
        #expect(try await fixture.database.scalar("SELECT count(DISTINCT login_id) FROM user_logins") == 930)
    }

    /// `indexdef` of every index of `user_logins` (names included), sorted.
    static func indexDefinitions(_ fixture: PipelineFixture) async throws -> [String] {
        try await fixture.database.query(
            "SELECT indexdef FROM pg_indexes WHERE tablename = 'user_logins' ORDER BY indexname"
        ).rows.compactMap { $0[0].string }
    }

    @Test("kill -9 of retokenize in each phase: consistent at every point (every token still reveals), a rerun finishes",
          arguments: ["rebuild", "in-place"])
    func killedRetokenizeResumes(method rows: String) async throws {
        let (fixture, bodies) = try await RotationSupport.seeded("retokkill", count: 200, seed: 11)
        let entries = try await fixture.database.scalar("SELECT count(*) FROM pii_vault")
        #expect(try await RotationSupport.vault(["rotate", "--tokens"], fixture).status == 0)

        // Phase 1 (entries): the entry halfway in key order holds up its batch (in place, a
        // row lock on it; in a rebuild, an uncommitted mapping of it), those before it commit.
        let middle = "SELECT field, token FROM pii_vault ORDER BY field, token OFFSET \(entries / 2) LIMIT 1"
        try await killWhileBlocked(
            fixture, method: rows,
            lock: rows == "in-place"
                ? "SELECT 1 FROM pii_vault WHERE (field, token) = (\(middle)) FOR UPDATE"
                : "INSERT INTO token_rewrites SELECT field, token, token, 0 FROM (\(middle)) m",
            progressed: { try await fixture.database.scalar("SELECT count(*) FROM token_rewrites") >= entries / 2 - 10 }
        )
        let mapped = try await fixture.database.scalar("SELECT count(*) FROM token_rewrites")
        #expect(entries > 100 && mapped >= entries / 2 - 10 && mapped < entries)
        #expect(try await fixture.database.scalar("SELECT count(*) FROM pii_vault") == entries)
        let movedEntries = try await fixture.database.scalar("SELECT count(*) FROM pii_vault WHERE token_key_version = 2")
        if rows == "in-place" {
            #expect(movedEntries == mapped)
        } else {
            // Old entries stay until the swap; their copies wait beside them.
            #expect(movedEntries == 0)
            #expect(try await fixture.database.scalar("SELECT count(*) FROM pii_vault_retokenized") == mapped)
        }
        try await expectEveryTokenResolves(fixture)

        if rows == "in-place" {
            // Phase 2 (rows): a lock on a row halfway in login_id order.
            try await killWhileBlocked(
                fixture, method: rows,
                lock: "SELECT 1 FROM user_logins WHERE login_id = (SELECT login_id FROM user_logins ORDER BY login_id OFFSET 200 LIMIT 1) FOR UPDATE",
                progressed: { try await fixture.database.scalar("SELECT count(*) FROM user_logins WHERE token_key_version = 2") >= 120 }
            )
            let movedRows = try await fixture.database.scalar("SELECT count(*) FROM user_logins WHERE token_key_version = 2")
            #expect(movedRows >= 120 && movedRows < 400)
        } else {
            // Phase 2a (filling the copy): an uncommitted claim on the range of ids 200..<240
            // holds its worker; the other copies its share.
            try await killWhileBlocked(
                fixture, method: rows, lock: "INSERT INTO retokenize_rebuild_ranges VALUES (200, 0)",
                progressed: {
                    guard try await fixture.database.scalar("SELECT count(*) FROM pg_class WHERE relname = 'user_logins_retokenized'") > 0
                    else { return false }
                    return try await fixture.database.scalar("SELECT count(*) FROM user_logins_retokenized") >= 120
                }
            )
            #expect(try await fixture.database.scalar("SELECT count(*) FROM user_logins_retokenized") < 400)
            #expect(try await fixture.database.scalar("SELECT count(*) FROM user_logins WHERE token_key_version = 2") == 0)
            try await expectEveryTokenResolves(fixture)
            // Phase 2b (the swap): a row lock holds off the exclusive lock it needs.
            try await killWhileBlocked(
                fixture, method: rows,
                lock: "SELECT 1 FROM user_logins WHERE login_id = 200 FOR UPDATE",
                progressed: {
                    try await fixture.database.scalar(
                        "SELECT count(*) FROM pg_locks WHERE relation = 'user_logins'::regclass AND mode = 'AccessExclusiveLock' AND NOT granted"
                    ) > 0
                }
            )
            #expect(try await fixture.database.scalar("SELECT count(*) FROM user_logins_retokenized") == 400)
            #expect(try await fixture.database.scalar("SELECT count(*) FROM user_logins WHERE token_key_version = 2") == 0)
        }
        #expect(try await fixture.database.scalar("SELECT count(*) FROM pii_vault WHERE token_key_version = 1") == 0)
        try await expectEveryTokenResolves(fixture)

        let rerun = try await RotationSupport.vault(["retokenize", "--batch", "10", "--row-batch", "40", "--method", rows], fixture)
        #expect(rerun.status == 0, "\(rerun)")
        try await Self.expectConverged(fixture, bodies: bodies + bodies, version: 2)
        #expect(try await fixture.database.scalar("SELECT count(*) FROM pg_class WHERE relname = 'user_logins_retokenized'") == 0)
    }

    /// Starts a retokenize with small batches while another session holds `lock`, waits until
    /// `progressed`, kills it with SIGKILL, then lets the lock go (rolls back).
    func killWhileBlocked(
        _ fixture: PipelineFixture, method rows: String, lock: String, progressed: () async throws -> Bool
    ) async throws {
        let blocker = try await fixture.database.connect()
        let holding = RotationSupport.hold(lock, on: blocker)
        try await RotationSupport.waitUntil("the blocker") {
            try await fixture.database.scalar(
                "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND query LIKE '%retokenize-test-blocker%' AND pid <> pg_backend_pid()"
            ) > 0
        }
        let run = try RotationSupport.start(["retokenize", "--batch", "10", "--row-batch", "40", "--method", rows], fixture)
        try await RotationSupport.waitUntil("retokenize to make progress", progressed)
        try await Task.sleep(for: .milliseconds(300))
        #expect(run.isRunning, "retokenize was not blocked: \(run.stdout) \(run.stderr)")
        await run.kill()
        try await RotationSupport.release(holding, fixture)
        await blocker.close()
    }

    /// Mid-way invariant: every token a row holds has a vault entry, or a mapping to one.
    func expectEveryTokenResolves(_ fixture: PipelineFixture) async throws {
        for (field, column) in [("ip", "masked_ip"), ("device_id", "masked_device_id")] {
            #expect(try await fixture.database.scalar("""
                SELECT count(*) FROM user_logins u
                WHERE NOT EXISTS (SELECT 1 FROM pii_vault p WHERE p.field = '\(field)' AND p.token = u.\(column))
                  AND NOT EXISTS (SELECT 1 FROM token_rewrites r JOIN pii_vault p ON p.field = r.field AND p.token = r.new_token
                                  WHERE r.field = '\(field)' AND r.old_token = u.\(column))
                """) == 0, "rows of \(field) whose token leads nowhere")
        }
        // Rows reveal through their token (their entry is not moved yet, or the row is) or
        // the mapping's new token.
        let old = try await fixture.database.query("""
            SELECT coalesce(p.token, r.new_token) FROM user_logins u
            LEFT JOIN pii_vault p ON p.field = 'ip' AND p.token = u.masked_ip
            LEFT JOIN token_rewrites r ON r.field = 'ip' AND r.old_token = u.masked_ip
            ORDER BY u.login_id LIMIT 5
            """).rows.compactMap { $0[0].string }
        #expect(!old.isEmpty)
        let reveal = try await RotationSupport.vault(["reveal"] + old + ["--reason", "mid-retokenize"], fixture)
        #expect(reveal.status == 0, "\(reveal)")
    }

    @Test("a forgotten token keeps its rows together across the rotation; an etl with the new key follows; refusals")
    func forgottenAndRefusals() async throws {
        let (fixture, bodies) = try await RotationSupport.seeded("retokforget", count: 120, seed: 5)
        let forgotten = try #require(try await fixture.database.query(
            "SELECT masked_ip FROM user_logins GROUP BY masked_ip ORDER BY count(*) DESC, masked_ip LIMIT 1"
        ).rows.first?[0].string)
        let forgottenRows = try await fixture.database.scalar("SELECT count(*) FROM user_logins WHERE masked_ip = $1", [.text(forgotten)])
        #expect(forgottenRows >= 2)
        let forget = try await RotationSupport.vault(["forget", forgotten, "--reason", "erasure request"], fixture)
        #expect(forget.status == 0, "\(forget)")

        // Refusals before the rotation: both flags, then nothing to rotate to yet.
        #expect(try await RotationSupport.vault(["rotate", "--tokens", "--encryption"], fixture).status == 64)
        #expect(try await RotationSupport.vault(["rotate", "--tokens"], fixture).status == 0)
        // Without the new key file retokenize cannot compute tokens: 77, nothing changed.
        let keyPath = fixture.keys.directory.tokenKeyPath(version: 2)
        try FileManager.default.moveItem(atPath: keyPath, toPath: keyPath + ".away")
        let noKey = try await RotationSupport.vault(["retokenize"], fixture)
        #expect(noKey.status == 77, "\(noKey)")
        #expect(noKey.stderr.split(separator: "\n").count == 1, "\(noKey.stderr)")
        #expect(try await fixture.database.scalar("SELECT count(*) FROM user_logins WHERE token_key_version = 2") == 0)
        let denied = try await fixture.database.query("SELECT action, outcome FROM vault_audit ORDER BY seq DESC LIMIT 1").rows.first
        #expect(denied?[0].string == "retokenize" && denied?[1].string == "denied")
        try FileManager.default.moveItem(atPath: keyPath + ".away", toPath: keyPath)

        let retokenize = try await RotationSupport.vault(["retokenize"], fixture)
        #expect(retokenize.status == 0, "\(retokenize)")
        // The forgotten value has no original to re-tokenize: its rows keep their token and
        // stay one group; everything else moved.
        #expect(try await fixture.database.scalar("SELECT count(*) FROM user_logins WHERE masked_ip = $1", [.text(forgotten)]) == forgottenRows)
        #expect(try await fixture.database.scalar("SELECT count(*) FROM user_logins WHERE token_key_version <> 2") == 0)
        #expect(try await fixture.database.scalar("SELECT count(*) FROM token_rewrites") == 0)
        try await Self.expectGroupsKept(fixture)
        let reveal = try await RotationSupport.vault(["reveal", forgotten, "--reason", "after rotation"], fixture)
        #expect(reveal.status == 65 && reveal.stderr.contains("forgotten"), "\(reveal)")
        let status = try await RotationSupport.vault(["status"], fixture)
        #expect(status.stdout.contains("pending:            nothing"), "\(status.stdout)")

        // etl now tokenizes with v2: the same values join the moved rows.
        try await fixture.send(Array(bodies.prefix(20)))
        #expect(try await fixture.drain().outcome.inserted == 20)
        let tokenizer = Tokenizer(rootKey: try fixture.keys.directory.readTokenKey(version: 2), version: 2)
        let first = try #require(try JSONSerialization.jsonObject(with: Data(bodies[0].utf8)) as? [String: Any])
        let token = tokenizer.token(try #require(first["device_id"] as? String), field: .deviceID)
        #expect(try await fixture.database.scalar("SELECT count(*) FROM user_logins WHERE masked_device_id = $1", [.text(token)]) >= 3)
    }

    @Test("vault forget while the vault is being rebuilt: the value is gone from the swapped-in vault too, its rows keep the forgotten token")
    func forgetDuringEntriesRebuild() async throws {
        let (fixture, bodies) = try await RotationSupport.seeded("retokforgetrb", count: 400, seed: 13)
        let entries = try await fixture.database.scalar("SELECT count(*) FROM pii_vault")
        // The worker over ip tokens below "8" stops at `stop` (an uncommitted mapping of it):
        // `early` is re-tokenized before (two batches of 10 earlier), `late` is not yet.
        let tokens = try await fixture.database.query(
            "SELECT token FROM pii_vault WHERE field = 'ip' AND token < '8' ORDER BY token"
        ).rows.compactMap { $0[0].string }
        try #require(tokens.count > 40)
        let stop = tokens[tokens.count / 2]
        let (early, late) = (tokens[tokens.count / 2 - 25], tokens[tokens.count / 2 + 5])
        let values = try await RotationSupport.vault(["reveal", early, late, "--reason", "before forgetting"], fixture)
        #expect(values.status == 0, "\(values)")
        let originals = values.stdout.split(separator: "\n").map { $0.split(separator: "\t").map(String.init) }
        #expect(try await RotationSupport.vault(["rotate", "--tokens"], fixture).status == 0)

        // The run stops halfway through the entries (an uncommitted mapping of the middle one).
        let blocker = try await fixture.database.connect()
        let holding = RotationSupport.hold("INSERT INTO token_rewrites VALUES ('ip', $1, $1, 0)", on: blocker, [.text(stop)])
        try await RotationSupport.waitUntil("the blocker") {
            try await fixture.database.scalar(
                "SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%retokenize-test-blocker%' AND pid <> pg_backend_pid()"
            ) > 0
        }
        let run = try RotationSupport.start(["retokenize", "--batch", "10", "--method", "rebuild"], fixture)
        try await RotationSupport.waitUntil("the early token to be mapped") {
            try await fixture.database.scalar("SELECT count(*) FROM token_rewrites WHERE old_token = $1", [.text(early)]) > 0
        }
        #expect(try await fixture.database.scalar("SELECT count(*) FROM token_rewrites WHERE old_token = $1", [.text(late)]) == 0)
        for token in [early, late] {
            let forget = try await RotationSupport.vault(["forget", token, "--reason", "erasure during rotation"], fixture)
            #expect(forget.status == 0, "\(forget)")
        }
        try await RotationSupport.release(holding, fixture)
        await blocker.close()
        let retokenized = await run.wait()
        #expect(retokenized.status == 0, "\(retokenized)")

        // Neither value is in the vault under any token; their rows kept the forgotten tokens.
        let tokenizer = Tokenizer(rootKey: try fixture.keys.directory.readTokenKey(version: 2), version: 2)
        for original in originals {
            let newToken = tokenizer.token(original[2], field: .ip)
            #expect(try await fixture.database.scalar(
                "SELECT count(*) FROM pii_vault WHERE token IN ($1, $2)", [.text(original[0]), .text(newToken)]
            ) == 0, "a forgotten value is still in the vault")
            #expect(try await fixture.database.scalar("SELECT count(*) FROM user_logins WHERE masked_ip = $1", [.text(original[0])]) >= 2)
            let reveal = try await RotationSupport.vault(["reveal", original[0], "--reason", "after rotation"], fixture)
            #expect(reveal.status == 65 && reveal.stderr.contains("forgotten"), "\(reveal)")
        }
        #expect(try await fixture.database.scalar("SELECT count(*) FROM pii_vault") == entries - 2)
        #expect(try await fixture.database.scalar("SELECT count(*) FROM user_logins WHERE token_key_version <> 2") == 0)
        #expect(try await fixture.database.scalar("SELECT count(*) FROM token_rewrites") == 0)
        try await Self.expectGroupsKept(fixture)
        _ = bodies
    }

    @Test("a view on user_logins: retokenize updates the rows in place (the view keeps working); --method rebuild refuses (1)")
    func viewKeepsTheTableInPlace() async throws {
        let (fixture, bodies) = try await RotationSupport.seeded("retokview", count: 60, seed: 9)
        try await fixture.database.query("CREATE VIEW analyst_ips AS SELECT masked_ip, count(*) AS logins FROM user_logins GROUP BY 1")
        #expect(try await RotationSupport.vault(["rotate", "--tokens"], fixture).status == 0)

        let refused = try await RotationSupport.vault(["retokenize", "--method", "rebuild"], fixture)
        #expect(refused.status == 1, "\(refused)")
        #expect(refused.stderr == "vault: cannot rebuild user_logins: a view or rule depends on user_logins\n", "\(refused.stderr)")
        #expect(try await fixture.database.scalar("SELECT count(*) FROM user_logins WHERE token_key_version = 2") == 0)
        #expect(try await fixture.database.scalar("SELECT count(*) FROM pg_trigger WHERE tgrelid = 'user_logins'::regclass") == 0)

        let retokenize = try await RotationSupport.vault(["retokenize"], fixture)
        #expect(retokenize.status == 0, "\(retokenize)")
        #expect(retokenize.stderr.contains("updating user_logins in place"), "\(retokenize.stderr)")
        try await Self.expectConverged(fixture, bodies: bodies + bodies, version: 2)
        // The view reads the same table, now with the new tokens.
        #expect(try await fixture.database.scalar("""
            SELECT count(*) FROM analyst_ips a JOIN pii_vault p ON p.field = 'ip' AND p.token = a.masked_ip AND p.token_key_version = 2
            """) == (try await fixture.database.scalar("SELECT count(DISTINCT masked_ip) FROM user_logins")))
        #expect(try await RotationSupport.vault(["retokenize", "--method", "sideways"], fixture).status == 64)
    }

    @Test("rotate --tokens waits for a batch transaction in flight; a second retokenize at once is refused (1)")
    func rotationWaitsForBatches() async throws {
        let fixture = try await PipelineFixture.make("retoklock")
        // A transaction that read vault_active, as every etl batch does first.
        let batch = try await fixture.database.connect()
        let holding = Task {
            try await batch.withSession { session in
                try session.transaction {
                    _ = try session.execute("SELECT token_key_version FROM vault_active")
                    _ = try session.execute("SELECT pg_sleep(3), 'rotation-lock-test'")
                }
            }
        }
        try await RotationSupport.waitUntil("the batch") {
            try await fixture.database.scalar(
                "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND query LIKE '%rotation-lock-test%' AND pid <> pg_backend_pid()"
            ) > 0
        }
        let started = ContinuousClock.now
        let rotate = try await RotationSupport.vault(["rotate", "--tokens"], fixture)
        let waited = ContinuousClock.now - started
        try await holding.value
        await batch.close()
        #expect(rotate.status == 0, "\(rotate)")
        #expect(waited >= .seconds(1), "rotate returned after \(waited) while a batch held vault_active")

        // Another retokenize holds the run's lease: a second one is refused, nothing changes.
        // (The advisory lock the run used to take is no obstacle: any login could hold it.)
        let other = try await fixture.database.connect()
        try await other.withSession { session in
            _ = try session.execute("SELECT pg_advisory_lock(7321002)")
            _ = try session.execute("SET ROLE vault_admin")
            _ = try session.execute("SELECT fetchde.take_lease('retokenize')")
        }
        let second = try await RotationSupport.vault(["retokenize"], fixture)
        await other.close()
        #expect(second.status == 1 && second.stderr.contains("another vault retokenize is running"), "\(second)")
        let after = try await RotationSupport.vault(["retokenize"], fixture)
        #expect(after.status == 0, "\(after)")
    }

    @Test("etl ingest across a rotation: batches after it carry the new key, then retokenize converges")
    func ingestAcrossRotation() async throws {
        let fixture = try await PipelineFixture.make("retokingest")
        let bodies = DemoData(count: 4000, malformedEvery: 0, seed: 3).bodies()
        let file = FileManager.default.temporaryDirectory.appendingPathComponent(TestServices.uniqueName("ingest") + ".jsonl").path
        try (bodies.joined(separator: "\n") + "\n").write(toFile: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: file) }
        var environment = RotationSupport.environment(fixture)
        environment["ETL_INGEST_BATCH_SIZE"] = "5"
        let ingest = try ChildProcess.etl(["ingest", file], environment: environment)
        try await RotationSupport.waitUntil("ingest to start") { try await fixture.database.scalar("SELECT count(*) FROM user_logins") >= 200 }
        let rotate = try await RotationSupport.vault(["rotate", "--tokens"], fixture)
        #expect(rotate.status == 0, "\(rotate)")
        #expect(ingest.isRunning, "ingest finished before the rotation")
        #expect(await ingest.exitStatus() == 0, "\(ingest.stderr)")
        #expect(try await fixture.database.scalar("SELECT count(*) FROM user_logins WHERE token_key_version = 2") > 0)
        #expect(try await fixture.database.scalar("SELECT count(*) FROM user_logins") == 4000)
        #expect(try await RotationSupport.recordGroups(fixture) > 0)
        let retokenize = try await RotationSupport.vault(["retokenize"], fixture)
        #expect(retokenize.status == 0, "\(retokenize)")
        try await Self.expectConverged(fixture, bodies: bodies, version: 2)
    }
}
