import Foundation
import Logging
import PIICrypto
import Pipeline
import Postgres
import Schema
import Testing
import TestSupport
import VaultFormat

/// The write path without a queue: tokens, dedup, quarantine, privileges, migration.
@Suite("pipeline writes (real PostgreSQL)", .enabled(if: TestServices.postgresEnabled))
struct PipelineWriteTests {
    struct Setup {
        let database: TestDatabase
        let keys: TestKeys
        let writer: BatchWriter
        let active: ActiveKeys
    }

    func setup(_ name: String, url: String? = nil) async throws -> Setup {
        let database = try await TestDatabase.create(name)
        let keys = try await TestKeys.register(in: database)
        let writer = BatchWriter(url: url ?? database.url, dekMaxEncryptions: 1_000_000, fallbackDate: "2024-05-06", logger: .test)
        let loader = ActiveKeysLoader(keys: keys.directory)
        let active = try loader.load(try await writer.connection().withSession { try loader.readVersions($0) })
        return Setup(database: database, keys: keys, writer: writer, active: active)
    }

    func message(_ id: String, user: String = "u", ip: String = "10.0.0.1", device: String = "111-22-3333") -> IncomingMessage {
        IncomingMessage(messageID: id, body: Array(#"{"user_id": "\#(user)", "ip": "\#(ip)", "device_id": "\#(device)", "app_version": "1.2.3", "locale": null}"#.utf8))
    }

    @Test("the same ip across users gets one token and one vault entry; ip and device_id namespaces differ")
    func duplicatesAcrossUsers() async throws {
        let s = try await setup("dups")
        let outcome = try await s.writer.write([
            message("m1", user: "alice", ip: "10.1.1.1", device: "10.1.1.1"),
            message("m2", user: "bob", ip: "10.1.1.1", device: "222-33-4444"),
            message("m3", user: "carol", ip: "2001:db8::0:1"),
            message("m4", user: "dave", ip: "2001:DB8::1"),
        ], keys: s.active)
        #expect(outcome.inserted == 4)
        #expect(try await s.database.scalar("SELECT count(DISTINCT masked_ip) FROM user_logins WHERE user_id IN ('alice', 'bob')") == 1)
        #expect(try await s.database.scalar("SELECT count(DISTINCT masked_ip) FROM user_logins WHERE user_id IN ('carol', 'dave')") == 1)
        #expect(try await s.database.scalar("SELECT count(*) FROM user_logins WHERE masked_ip = masked_device_id") == 0)
        #expect(try await s.database.scalar("SELECT count(*) FROM pii_vault WHERE field = 'ip'") == 2)
        // A group an analyst would find:
        #expect(try await s.database.scalar("SELECT count(*) FROM (SELECT masked_ip FROM user_logins GROUP BY masked_ip HAVING count(*) > 1) g") == 2)
        // The same values again in a later batch are not re-stored.
        let again = try await s.writer.write([message("m5", user: "erin", ip: "10.1.1.1", device: "222-33-4444")], keys: s.active)
        #expect(again.vaultEntries == 0)
        #expect(try await s.database.scalar("SELECT count(*) FROM pii_vault") == 5)
        await s.writer.close()
    }

    @Test("a batch tokenized before a token-key rotation is refused at commit, nothing written; with the new key it is")
    func rotationBetweenPrepareAndCommit() async throws {
        let s = try await setup("rotcommit")
        let prepared = try await s.writer.prepare([message("r1")], keys: s.active)
        // A rotation as `vault rotate --tokens` makes it, between prepare and commit.
        let newRoot = SecureBytes.random(count: 32)
        try s.keys.directory.writeTokenKey(newRoot, version: 2)
        try await s.database.query("INSERT INTO token_keys (version, key_check) VALUES (2, $1)", [.text(VaultFormat.tokenKeyCheck(newRoot))])
        try await s.database.query("UPDATE vault_active SET token_key_version = 2")
        let error = await #expect(throws: PipelineError.self) { try await s.writer.commit(prepared) }
        #expect(error?.code == .keysChanged)
        #expect(try await s.database.scalar("SELECT count(*) FROM user_logins") == 0)
        #expect(try await s.database.scalar("SELECT count(*) FROM pii_vault") == 0)

        let fresh = try await ActiveKeysLoader(keys: s.keys.directory).loadActive(using: s.writer)
        #expect(fresh.tokenKeyVersion == 2)
        #expect(try await s.writer.write([message("r1")], keys: fresh).inserted == 1)
        let token = Tokenizer(rootKey: newRoot, version: 2).token("10.0.0.1", field: .ip)
        #expect(try await s.database.scalar("SELECT count(*) FROM user_logins WHERE masked_ip = $1 AND token_key_version = 2", [.text(token)]) == 1)
        #expect(try await s.database.scalar("SELECT count(*) FROM pii_vault WHERE token = $1 AND token_key_version = 2", [.text(token)]) == 1)
        await s.writer.close()
    }

    @Test("a message written twice (at-least-once delivery) is one row")
    func idempotentOnMessageID() async throws {
        let s = try await setup("idem")
        let first = try await s.writer.write([message("same-id")], keys: s.active)
        let second = try await s.writer.write([message("same-id"), message("other")], keys: s.active)
        #expect(first.inserted == 1)
        #expect(second.inserted == 1)
        #expect(second.duplicates == 1)
        #expect(try await s.database.scalar("SELECT count(*) FROM user_logins") == 2)
        await s.writer.close()
    }

    @Test("invalid messages are quarantined encrypted; the valid ones of the batch are stored")
    func poisonQuarantined() async throws {
        let s = try await setup("poison")
        let bodies = [
            "not json", #"["array"]"#, #"{"user_id": 5, "ip": "1.2.3.4", "device_id": "d"}"#,
            #"{"user_id": "u", "ip": "1.2.3.4"}"#, #"{"user_id": "\#(String(repeating: "x", count: 129))", "ip": "1.2.3.4", "device_id": "d"}"#,
        ]
        var batch = bodies.enumerated().map { IncomingMessage(messageID: "bad\($0.offset)", body: Array($0.element.utf8)) }
        batch.insert(message("good1"), at: 2)
        batch.append(message("good2", user: "z"))
        let outcome = try await s.writer.write(batch, keys: s.active)
        #expect(outcome.inserted == 2)
        #expect(outcome.quarantined == 5)
        let reasons = try await s.database.query("SELECT message_id, reason, body_ciphertext FROM etl_quarantine ORDER BY message_id")
        #expect(reasons.rows.map { $0["reason"].string! } == [
            "body is not valid JSON", "body is not a JSON object", "field user_id is not a string",
            "missing required field device_id", "field user_id longer than 128 characters",
        ])
        for row in reasons.rows {
            let stored = row["body_ciphertext"].bytes!
            for body in bodies { #expect(!String(decoding: stored, as: UTF8.self).contains(body)) }
        }
        await s.writer.close()
    }

    @Test("etl_ingest cannot read ciphertexts, sealed DEKs or the audit log, and the pipeline works as a member of it")
    func leastPrivilege() async throws {
        let database = try await TestDatabase.create("priv")
        let login = TestServices.uniqueName("etl_login")
        try await database.query("CREATE ROLE \(login) LOGIN")
        try await database.query("GRANT etl_ingest TO \(login)")
        let url = database.url.replacingOccurrences(of: "postgres@", with: "\(login)@")
        let keys = try await TestKeys.register(in: database)
        let writer = BatchWriter(url: url, dekMaxEncryptions: 1000, fallbackDate: "2024-01-01", logger: .test)
        let loader = ActiveKeysLoader(keys: keys.directory)
        let active = try loader.load(try await writer.connection().withSession { try loader.readVersions($0) })
        let outcome = try await writer.write([message("p1")], keys: active)
        #expect(outcome.inserted == 1)
        let connection = try await writer.connection()
        // The writer's session is on the trusted search path: every table is named with its schema.
        for sql in ["SELECT ciphertext FROM public.pii_vault", "SELECT sealed_key FROM public.vault_data_keys",
                    "SELECT * FROM public.vault_audit", "SELECT body_ciphertext FROM public.etl_quarantine",
                    "UPDATE public.user_logins SET locale = 'x'", "DELETE FROM public.pii_vault",
                    "SELECT * FROM fetchde.audit_inbox", "SELECT * FROM fetchde.audit_head",
                    "SELECT fetchde.audit_append('reveal', 'granted', '', '')", "SELECT fetchde.audit_fold()"] {
            let error = await #expect(throws: PostgresError.self) {
                try await connection.withSession { try $0.execute(sql) }
            }
            #expect(error?.sqlState == "42501", "\(sql) must be denied")
        }
        await writer.close()
    }

    @Test("etl migrate upgrades a table made by the original take-home DDL, keeping its rows")
    func migrateTakeHomeTable() async throws {
        let database = try await TestDatabase.create("legacy", migrate: false)
        try await database.query("""
            CREATE TABLE user_logins(user_id varchar(128), device_type varchar(32), masked_ip varchar(256),
                masked_device_id varchar(256), locale varchar(32), app_version integer, create_date date)
            """)
        try await database.query("INSERT INTO user_logins VALUES ('old', 'ios', 'x', 'y', 'US', 2, '2022-01-01')")
        let connection = try await database.connect()
        let applied = try await Migrator.migrate(connection, logger: .test)
        #expect(applied == Migrator.all.map(\.version))
        #expect(try await Migrator.migrate(connection, logger: .test) == [])
        await connection.close()
        #expect(try await database.scalar("SELECT count(*) FROM user_logins WHERE user_id = 'old' AND app_version = 2") == 1)
        let types = try await database.query("""
            SELECT column_name, data_type, character_maximum_length AS len FROM information_schema.columns
            WHERE table_name = 'user_logins' ORDER BY ordinal_position LIMIT 7
            """)
        #expect(types.rows.map { "\($0["column_name"].string!):\($0["data_type"].string!):\($0["len"].int ?? 0)" } == [
            "user_id:character varying:128", "device_type:character varying:32", "masked_ip:character varying:256",
            "masked_device_id:character varying:256", "locale:character varying:32", "app_version:integer:0", "create_date:date:0",
        ])
    }
}
