import Foundation
import PIICrypto
import Pipeline
import Postgres
import Testing
import PipelineTestSupport
import TestSupport
import VaultFormat

/// SPEC §4 "Hostile neighbours": a database where PUBLIC may create in `public` (PostgreSQL
/// ≤ 14's default) and an `etl_ingest` login running arbitrary SQL. Each test is one attack
/// from issue 12, run for real against PostgreSQL with the real `etl` pipeline and `vault`.
@Suite("hostile neighbours (real PostgreSQL + SQS endpoint)", .serialized,
       .enabled(if: TestServices.postgresEnabled && TestServices.sqsEnabled))
struct HostileNeighbourTests {
    typealias Rotation = RotationSupport

    /// The fixture's URL as login `user` (trust authentication in the test cluster).
    static func url(_ fixture: PipelineFixture, asUser user: String) -> String {
        guard var components = URLComponents(string: fixture.database.url) else { return fixture.database.url }
        components.user = user
        components.password = nil
        return components.string ?? fixture.database.url
    }

    /// Runs `sql` as login `user`.
    static func run(_ fixture: PipelineFixture, as user: String, _ sql: String) async throws {
        let connection = try await PostgresConnection.connect(url: url(fixture, asUser: user), logger: .test)
        do {
            try await connection.withSession { try $0.executeScript(sql) }
            await connection.close()
        } catch {
            await connection.close()
            throw error
        }
    }

    /// A login that is only a member of `etl_ingest`, on a database where PUBLIC may create
    /// in `public`.
    static func attacker(_ fixture: PipelineFixture) async throws -> String {
        let login = TestServices.uniqueName("attacker")
        try await fixture.database.query("GRANT CREATE ON SCHEMA public TO PUBLIC")
        try await fixture.database.query("CREATE ROLE \(login) LOGIN")
        try await fixture.database.query("GRANT etl_ingest TO \(login)")
        return login
    }

    /// What the attacker plants: the issue's exact overload, then, for every function of the
    /// product, a function of the same name (bare and `fetchde_`-prefixed) in `public` with the
    /// same arguments and with `varchar` for `text`, and `=` operators on varchar. Each logs who
    /// ran it and tries to make the attacker a superuser.
    static func plant(_ fixture: PipelineFixture, as login: String) async throws {
        try await run(fixture, as: login, #"""
            CREATE TABLE public.attacker_log (who text, what text);
            GRANT INSERT ON public.attacker_log TO PUBLIC;
            CREATE FUNCTION public.fetchde_audit_field(value varchar) RETURNS text LANGUAGE plpgsql AS $$
            BEGIN
                INSERT INTO public.attacker_log VALUES (current_user, 'fetchde_audit_field');
                BEGIN EXECUTE 'ALTER ROLE \#(login) SUPERUSER'; EXCEPTION WHEN others THEN NULL; END;
                RETURN octet_length(coalesce(value, ''))::text || ':' || coalesce(value, '');
            END $$;
            DO $plant$
            DECLARE
                f record;
                variant text;
                name text;
                body text;
            BEGIN
                FOR f IN SELECT p.proname::text AS proname, pg_get_function_identity_arguments(p.oid) AS args,
                                pg_get_function_result(p.oid) AS result
                         FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
                         WHERE n.nspname = 'fetchde' OR (n.nspname = 'public' AND p.proname LIKE 'fetchde\_%')
                LOOP
                    body := format($b$BEGIN
                        INSERT INTO public.attacker_log VALUES (current_user, %L);
                        BEGIN EXECUTE 'ALTER ROLE \#(login) SUPERUSER'; EXCEPTION WHEN others THEN NULL; END;
                        RETURN%s;
                    END$b$, f.proname, CASE WHEN f.result = 'void' OR f.result LIKE 'SETOF%' THEN '' ELSE ' NULL' END);
                    FOREACH name IN ARRAY ARRAY[f.proname, 'fetchde_' || f.proname, regexp_replace(f.proname, '^fetchde_', '')] LOOP
                        FOREACH variant IN ARRAY ARRAY[f.args, replace(f.args, 'text', 'character varying')] LOOP
                            BEGIN
                                EXECUTE format('CREATE FUNCTION public.%I(%s) RETURNS %s LANGUAGE plpgsql AS %L',
                                               name, variant, f.result, body);
                            EXCEPTION WHEN others THEN NULL;
                            END;
                        END LOOP;
                    END LOOP;
                END LOOP;
            END
            $plant$;
            CREATE FUNCTION public.attacker_eq(a varchar, b varchar) RETURNS boolean LANGUAGE plpgsql AS $$
            BEGIN
                INSERT INTO public.attacker_log VALUES (current_user, '=');
                RETURN a::text OPERATOR(pg_catalog.=) b::text;
            END $$;
            CREATE FUNCTION public.attacker_eq_text(a varchar, b text) RETURNS boolean LANGUAGE plpgsql AS $$
            BEGIN
                INSERT INTO public.attacker_log VALUES (current_user, '=');
                RETURN a::text OPERATOR(pg_catalog.=) b;
            END $$;
            CREATE OPERATOR public.= (LEFTARG = varchar, RIGHTARG = varchar, FUNCTION = public.attacker_eq);
            CREATE OPERATOR public.= (LEFTARG = varchar, RIGHTARG = text, FUNCTION = public.attacker_eq_text);
            """#)
    }

    /// What planted code ran as someone other than the attacker, and whether the attacker is
    /// a superuser or a member of vault_admin now. Asked with operators of pg_catalog only.
    static func gained(_ fixture: PipelineFixture, _ login: String) async throws -> (foreignRuns: Int64, superuser: Bool, vaultAdmin: Bool) {
        let runs = try await fixture.database.scalar(
            "SELECT count(*) FROM public.attacker_log WHERE who OPERATOR(pg_catalog.<>) $1", [.text(login)]
        )
        let superuser = try await fixture.database.scalar(
            "SELECT count(*) FROM pg_catalog.pg_roles WHERE rolname OPERATOR(pg_catalog.=) $1::pg_catalog.name AND rolsuper", [.text(login)]
        )
        let member = try await fixture.database.scalar(
            "SELECT count(*) FROM pg_catalog.pg_roles WHERE rolname OPERATOR(pg_catalog.=) $1::pg_catalog.name AND pg_catalog.pg_has_role(oid, 'vault_admin', 'MEMBER')",
            [.text(login)]
        )
        return (runs, superuser > 0, member > 0)
    }

    @Test("planted overloads in public: ingest, reveal, forget, both rotations and retokenize run none of them")
    func plantedOverloads() async throws {
        let (fixture, bodies) = try await Rotation.seeded("hostile_plant", count: 40, seed: 12)
        let login = try await Self.attacker(fixture)
        try await Self.plant(fixture, as: login)

        // The issue's escalation: the denial function, by its old and its new name.
        try? await Self.run(fixture, as: login, "SELECT fetchde_audit_denied('reveal', 'x', 'y')")
        try? await Self.run(fixture, as: login, "SELECT fetchde.audit_denied('reveal', 'x', 'y')")
        // The attacker cannot create in the product's own schema.
        await #expect(throws: (any Error).self) {
            try await Self.run(fixture, as: login, "CREATE FUNCTION fetchde.audit_fold() RETURNS integer LANGUAGE sql AS 'SELECT 1'")
        }

        // Ingest as the attacker's own login (what a compromised etl host runs).
        let more = DemoData(count: 20, malformedEvery: 0, seed: 99).bodies()
        try await fixture.send(more)
        #expect(try await fixture.drain(databaseURL: Self.url(fixture, asUser: login)).outcome.inserted == 20)

        let token = try await fixture.database.query("SELECT masked_ip FROM public.user_logins LIMIT 2").rows.compactMap { $0[0].string }
        let reveal = try await Rotation.vault(["reveal", token[0], "--reason", "hostile test"], fixture)
        #expect(reveal.status == 0, "\(reveal)")
        let forget = try await Rotation.vault(["forget", token[1], "--reason", "hostile test"], fixture)
        #expect(forget.status == 0, "\(forget)")
        for arguments in [
            ["rotate", "--encryption", "--no-passphrase"], ["rewrap"], ["rotate", "--tokens"],
            ["retokenize", "--batch", "25", "--row-batch", "40"], ["audit", "--verify"], ["status"],
        ] {
            let result = try await Rotation.vault(arguments, fixture)
            #expect(result.status == 0, "\(arguments): \(result)")
        }
        _ = bodies

        let gained = try await Self.gained(fixture, login)
        #expect(gained.foreignRuns == 0, "planted code ran as another role")
        #expect(!gained.superuser)
        #expect(!gained.vaultAdmin)
    }

    @Test("an outsider's idle transaction around a denial, or on the old advisory locks, delays no reveal, rotation or retokenize")
    func stalledAudit() async throws {
        let (fixture, _) = try await Rotation.seeded("hostile_stall", count: 10, seed: 13)
        let outsider = TestServices.uniqueName("outsider")
        try await fixture.database.query("CREATE ROLE \(outsider) LOGIN")
        // The lock the chain used to take, and an idle transaction around a recorded denial.
        let first = try await PostgresConnection.connect(url: Self.url(fixture, asUser: outsider), logger: .test)
        let second = try await PostgresConnection.connect(url: Self.url(fixture, asUser: outsider), logger: .test)
        defer { Task { await first.close(); await second.close() } }
        let chainLock = Rotation.hold("SELECT pg_advisory_xact_lock(7321001), pg_advisory_xact_lock(7321002)", on: first)
        let denial = Rotation.hold("SELECT fetchde.audit_denied('reveal', 'idle', 'idle')", on: second)
        try await Task.sleep(for: .milliseconds(300))
        let token = try await fixture.database.query("SELECT masked_ip FROM public.user_logins LIMIT 1").rows[0][0].string ?? ""
        for arguments in [
            ["reveal", token, "--reason", "while an outsider idles"], ["rotate", "--tokens"], ["retokenize"],
        ] {
            let run = try Rotation.start(arguments, fixture)
            let result = await run.wait(timeout: .seconds(30))
            #expect(!result.timedOut, "\(arguments[0]) still waiting behind the outsider's transaction")
            #expect(result.status == 0, "\(arguments[0]): \(result.stderr)")
        }
        try await Rotation.release(chainLock, fixture)
        _ = try? await denial.value
        // The outsider's denial, once recorded, is capped.
        try await Self.run(fixture, as: outsider, "SELECT fetchde.audit_denied('reveal', repeat('r', 100000), repeat('d', 100000))")
        let audit = try await Rotation.vault(["audit"], fixture)
        #expect(audit.status == 0)
        #expect(audit.stdout.count < 20_000, "denial fields are capped")
        #expect(audit.stdout.contains(outsider))
    }

    @Test("a vault_admin member cannot write an audit row naming someone else")
    func forgedActor() async throws {
        let (fixture, _) = try await Rotation.seeded("hostile_actor", count: 5, seed: 14)
        let admin = TestServices.uniqueName("admin")
        try await fixture.database.query("CREATE ROLE \(admin) LOGIN")
        try await fixture.database.query("GRANT vault_admin TO \(admin)")
        await #expect(throws: (any Error).self) {
            try await Self.run(fixture, as: admin, """
                SET ROLE vault_admin;
                INSERT INTO public.vault_audit (actor, action, outcome, reason, detail) VALUES ('someone_else', 'reveal', 'granted', 'x', 'y')
                """)
        }
        try await Self.run(fixture, as: admin, """
            SET ROLE vault_admin;
            SET fetchde.audit_fold = 'on';
            SELECT fetchde.audit_append('reveal', 'granted', 'x', 'y');
            """)
        let actors = try await fixture.database.query("SELECT actor FROM public.vault_audit ORDER BY seq")
        #expect(!actors.rows.contains { $0[0].string == "someone_else" })
        #expect(actors.rows.last?[0].string == admin)
        #expect(try await Rotation.vault(["audit", "--verify"], fixture).status == 0)
    }

    /// A sealed entry for `original` under token `token` with a new data key, as a writer
    /// with the vault's public key (any etl host) can make it.
    static func sealedEntry(_ fixture: PipelineFixture, field: PIIField, token: String, original: String) async throws -> [PostgresValue] {
        let active = try await fixture.database.query(
            "SELECT k.version, k.public_key FROM public.vault_active a JOIN public.vault_keys k ON k.version = a.vault_key_version"
        )
        let version = Int(try active.rows[0]["version"].requireInt())
        let publicKey = try X25519PublicKey(rawRepresentation: try active.rows[0]["public_key"].requireBytes())
        let id = try await fixture.database.scalar("SELECT nextval(pg_get_serial_sequence('public.vault_data_keys', 'dek_id'))")
        let dek = SecureBytes.random(count: 32)
        let sealed = try dek.withUnsafeBytes { raw in
            try HPKE.seal(
                recipient: publicKey, info: VaultFormat.dekInfo, aad: VaultFormat.dekAAD(dekID: id, vaultKeyVersion: version),
                plaintext: Array(raw), aead: .aes256GCM
            )
        }
        try await fixture.database.query(
            "INSERT INTO public.vault_data_keys (dek_id, vault_key_version, encapsulated_key, sealed_key) VALUES ($1, $2, $3, $4)",
            [.int(id), .int(Int64(version)), .bytea(sealed.encapsulatedKey), .bytea(sealed.ciphertext)]
        )
        let ciphertext = try AES256GCM.seal(Array(original.utf8), key: dek, aad: VaultFormat.entryAAD(field: field, token: token, dekID: id))
        return [.text(field.rawValue), .text(token), .int(1), .int(id), .bytea(ciphertext)]
    }

    @Test("a pre-planted original: reveal (single and bulk) refuses it as an integrity error (65), audited, never printed")
    func prePlantedOriginal() async throws {
        let (fixture, _) = try await Rotation.seeded("hostile_planted", count: 5, seed: 15)
        let tokenizer = Tokenizer(rootKey: try fixture.keys.directory.readTokenKey(version: 1), version: 1)
        let real = "198.51.100.77"
        let token = tokenizer.token(real, field: .ip)
        let entry = try await Self.sealedEntry(fixture, field: .ip, token: token, original: "203.0.113.66")
        try await fixture.database.query(
            "INSERT INTO public.pii_vault (field, token, token_key_version, dek_id, ciphertext) VALUES ($1, $2, $3, $4, $5)", entry
        )
        // The real message arrives later; its entry cannot replace the planted one.
        try await fixture.send([#"{"user_id": "u-planted", "ip": "\#(real)", "device_id": "dev-planted"}"#])
        #expect(try await fixture.drain().outcome.inserted == 1)

        let other = try await fixture.database.query("SELECT masked_device_id FROM public.user_logins LIMIT 1").rows[0][0].string ?? ""
        let single = try await Rotation.vault(["reveal", token, "--reason", "planted"], fixture)
        #expect(single.status == 65, "\(single)")
        #expect(!single.stdout.contains("203.0.113.66") && !single.stderr.contains("203.0.113.66"))
        #expect(single.stderr.contains("does not hash to the token"))
        let bulk = try await Rotation.vault(["reveal", token, other, "--reason", "planted, bulk"], fixture)
        #expect(bulk.status == 65, "\(bulk)")
        #expect(!bulk.stdout.contains("203.0.113.66"))
        #expect(bulk.stdout.split(separator: "\n").count == 1, "the other token is still revealed")
        let outcomes = try await fixture.database.query(
            "SELECT outcome FROM public.vault_audit WHERE action = 'reveal' AND detail LIKE $1", [.text("%" + token + "%")]
        ).rows.compactMap { $0[0].string }
        #expect(outcomes.filter { $0 == "integrity-error" }.count == 2, "\(outcomes)")
    }

    @Test("forget racing an in-flight ingest batch: the forgotten value does not come back")
    func forgetRace() async throws {
        let (fixture, _) = try await Rotation.seeded("hostile_forget", count: 5, seed: 16)
        let tokenizer = Tokenizer(rootKey: try fixture.keys.directory.readTokenKey(version: 1), version: 1)
        let value = "192.0.2.201"
        let token = tokenizer.token(value, field: .ip)
        let entry = try await Self.sealedEntry(fixture, field: .ip, token: token, original: value)
        // An ingest batch holding the new value, not committed yet: it commits once the test
        // cancels its wait (the savepoint keeps the insert).
        let batch = try await fixture.database.connect()
        defer { Task { await batch.close() } }
        let inFlight = Task {
            try await batch.withSession { session in
                try session.execute("BEGIN")
                try session.execute("SET ROLE etl_ingest")
                try session.execute(
                    "INSERT INTO public.pii_vault (field, token, token_key_version, dek_id, ciphertext) VALUES ($1, $2, $3, $4, $5)", entry
                )
                try session.execute("SAVEPOINT waiting")
                _ = try? session.execute("SELECT pg_sleep(120), 'hostile-test-batch'")
                try session.execute("ROLLBACK TO SAVEPOINT waiting")
                try session.execute("COMMIT")
            }
        }
        try await Rotation.waitUntil("the batch's insert", timeout: .seconds(10)) {
            try await fixture.database.scalar("SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%''hostile-test-batch''%' AND pid <> pg_backend_pid()") == 1
        }
        let forget = try Rotation.start(["forget", token, "--reason", "erasure during ingest"], fixture)
        // Forget waits for the batch (the lock it takes conflicts with the batch's inserts).
        try await Rotation.waitUntil("forget waiting for the batch", timeout: .seconds(8)) {
            try await fixture.database.scalar(
                "SELECT count(*) FROM pg_locks WHERE NOT granted AND relation = 'public.pii_vault'::regclass"
            ) == 1
        }
        #expect(forget.isRunning, "forget did not wait for the in-flight batch: \(forget.stderr)")
        _ = try await fixture.database.scalar(
            "SELECT count(pg_cancel_backend(pid)) FROM pg_stat_activity WHERE query LIKE '%''hostile-test-batch''%' AND pid <> pg_backend_pid()"
        )
        try await inFlight.value
        let forgotten = await forget.wait()
        #expect(forgotten.status == 0, "\(forgotten)")
        #expect(try await fixture.database.scalar("SELECT count(*) FROM public.pii_vault WHERE token = $1", [.text(token)]) == 0)
        // ... and a later batch with the same value stores nothing, on either write path.
        try await fixture.send([#"{"user_id": "u-forgotten", "ip": "\#(value)", "device_id": "dev-forgotten"}"#])
        #expect(try await fixture.drain().outcome.inserted == 1)
        #expect(try await fixture.database.scalar("SELECT count(*) FROM public.pii_vault WHERE token = $1", [.text(token)]) == 0)
        try await fixture.database.query(
            "INSERT INTO public.pii_vault (field, token, token_key_version, dek_id, ciphertext) VALUES ($1, $2, $3, $4, $5)", entry
        )
        #expect(try await fixture.database.scalar("SELECT count(*) FROM public.pii_vault WHERE token = $1", [.text(token)]) == 0)
        let reveal = try await Rotation.vault(["reveal", token, "--reason", "after erasure"], fixture)
        #expect(reveal.status == 65 && reveal.stderr.contains("forgotten"), "\(reveal)")
    }
}
