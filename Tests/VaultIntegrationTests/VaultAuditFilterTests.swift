import Foundation
import PIICrypto
import Postgres
import TestSupport
import Testing
import Vault

@Suite("vault audit filters and jsonl", .enabled(if: TestServices.postgresEnabled))
struct VaultAuditFilterTests {
    /// init, two reveals, a forget, and a row the superuser appends with awkward text.
    private func history() async throws -> VaultFixture {
        let fixture = try await VaultFixture.make()
        let values = try await VaultSeeder.seed(fixture, [(.ip, "198.51.100.7"), (.deviceID, "abc-123")])
        for value in values {
            let result = try await fixture.vault(["reveal", value.token, "--reason", "case \(value.field.rawValue)"])
            guard result.status == 0 else { throw FixtureError("reveal failed: \(result)") }
        }
        let forget = try await fixture.vault(["forget", values[1].token, "--reason", "erasure"])
        guard forget.status == 0 else { throw FixtureError("forget failed: \(forget)") }
        try await fixture.withSuperuser { session in
            _ = try session.execute(
                "INSERT INTO vault_audit (actor, action, outcome, reason, detail) VALUES ($1, $2, $3, $4, $5)",
                ["mallory\tx", "reveal", "granted", "line\nbreak", "d"]
            )
        }
        return fixture
    }

    private func jsonl(_ result: CLIResult) throws -> [[String: Any]] {
        try result.stdoutLines.map { line in
            guard let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
                throw FixtureError("not a JSON object: \(line)")
            }
            return object
        }
    }

    @Test("--format jsonl: one JSON object per line, every field exact; the filters filter")
    func filters() async throws {
        let fixture = try await history()
        defer { Task { await fixture.drop() } }
        let rows = try await fixture.auditRows()
        #expect(rows.count == 5)

        let all = try await fixture.vault(["audit", "--format", "jsonl"])
        #expect(all.status == 0, "\(all)")
        let objects = try jsonl(all)
        #expect(objects.count == rows.count)
        for (object, row) in zip(objects, rows) {
            #expect(object["seq"] as? Int == Int(row.seq))
            #expect(object["atMicros"] as? Int == Int(row.atMicros))
            #expect(object["actor"] as? String == row.actor)
            #expect(object["action"] as? String == row.action)
            #expect(object["reason"] as? String == row.reason)
            #expect(object["detail"] as? String == row.detail)
            #expect(object["rowHash"] as? String == row.rowHash.map { String(format: "%02x", $0) }.joined())
            #expect(object["prevHash"] as? String == row.prevHash.map { String(format: "%02x", $0) }.joined())
        }

        let reveals = try jsonl(try await fixture.vault(["audit", "--format", "jsonl", "--action", "reveal"]))
        #expect(reveals.map { $0["seq"] as? Int } == rows.filter { $0.action == "reveal" }.map { Int($0.seq) })
        #expect(reveals.count == 3)

        // The actor is the session user (set by the trigger, whatever the insert said).
        let actor = rows[4].actor
        let byActor = try await fixture.vault(["audit", "--actor", actor])
        #expect(byActor.status == 0 && byActor.stdoutLines.count == rows.filter { $0.actor == actor }.count, "\(byActor)")
        #expect(byActor.stdoutLines.last?.contains("line\\nbreak") == true, "\(byActor)")
        let nobody = try await fixture.vault(["audit", "--actor", "mallory\tx"])
        #expect(nobody.status == 0 && nobody.stdout.isEmpty, "\(nobody)")

        // Time range: half-open [since, until), microsecond precision.
        let third = rows[2].atMicros
        let since = try jsonl(try await fixture.vault(["audit", "--format", "jsonl", "--since", Self.iso(third)]))
        #expect(since.map { $0["seq"] as? Int } == rows.filter { $0.atMicros >= third }.map { Int($0.seq) })
        let until = try jsonl(try await fixture.vault(["audit", "--format", "jsonl", "--until", Self.iso(third)]))
        #expect(until.map { $0["seq"] as? Int } == rows.filter { $0.atMicros < third }.map { Int($0.seq) })
        let combined = try jsonl(try await fixture.vault([
            "audit", "--format", "jsonl", "--since", Self.iso(third), "--action", "forget",
        ]))
        #expect(combined.count == 1 && combined.first?["action"] as? String == "forget")
        let future = try await fixture.vault(["audit", "--since", "2999-01-01"])
        #expect(future.status == 0 && future.stdout.isEmpty, "\(future)")
    }

    @Test("bad filter options are usage errors (64)", arguments: [
        ["audit", "--since", "yesterday"],
        ["audit", "--until", "2025-13-01"],
        ["audit", "--verify", "--action", "reveal"],
        ["audit", "--json", "--format", "jsonl"],
        ["audit", "--format", "xml"],
    ])
    func usage(_ arguments: [String]) async throws {
        let fixture = try await VaultFixture.make(initialize: false)
        defer { Task { await fixture.drop() } }
        let result = try await fixture.vault(arguments)
        #expect(result.status == 64, "\(result)")
    }

    static func iso(_ micros: Int64) -> String {
        var whole = time_t(micros / 1_000_000)
        var parts = tm()
        gmtime_r(&whole, &parts)
        return String(
            format: "%04d-%02d-%02dT%02d:%02d:%02d.%06lldZ", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1,
            Int(parts.tm_mday), Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec), micros % 1_000_000
        )
    }
}

@Suite("audit time filter parsing")
struct AuditTimeParsingTests {
    @Test("ISO 8601 forms to microseconds")
    func parse() {
        #expect(AuditFilter.parseTime("1970-01-01") == 0)
        #expect(AuditFilter.parseTime("1970-01-01T00:00:01Z") == 1_000_000)
        #expect(AuditFilter.parseTime("1970-01-01T00:00:01.5Z") == 1_500_000)
        #expect(AuditFilter.parseTime("1970-01-01T00:00:01.1234567Z") == 1_123_456)
        #expect(AuditFilter.parseTime("1970-01-01T01:00:00+01:00") == 0)
        #expect(AuditFilter.parseTime("1970-01-01 00:00:00-00:30") == 1_800_000_000)
        #expect(AuditFilter.parseTime("2025-01-31T12:34:56") == 1_738_326_896_000_000)
        for bad in ["", "2025", "2025-1-1", "2025-01-01T", "2025-01-01T25:00:00Z", "2025-01-01T00:00:00.Z", "2025-01-01x"] {
            #expect(AuditFilter.parseTime(bad) == nil, "\(bad)")
        }
    }
}
