import Foundation
import PIICrypto
import Postgres
import TestSupport
import Testing
import Vault

@Suite("vault reveal", .enabled(if: TestServices.postgresEnabled))
struct VaultRevealTests {
    static let sample: [(PIIField, String)] = [
        (.ip, "199.172.111.135"), (.deviceID, "593-47-5928"), (.ip, "2001:db8::1"), (.deviceID, "ünïcødé-device"),
    ]

    @Test("prints token<TAB>field<TAB>original after committing the audit row first (reason, tokens, never plaintext)")
    func revealsAndAudits() async throws {
        let fixture = try await VaultFixture.make()
        defer { Task { await fixture.drop() } }
        let values = try await VaultSeeder.seed(fixture, Self.sample, dataKeys: 2)
        let result = try await fixture.vault(["reveal", values[0].token, values[1].token, values[3].token, "--reason", "ticket 42"])
        #expect(result.status == 0, "\(result)")
        #expect(result.stdoutLines == [
            "\(values[0].token)\tip\t199.172.111.135",
            "\(values[1].token)\tdevice_id\t593-47-5928",
            "\(values[3].token)\tdevice_id\tünïcødé-device",
        ])
        #expect(result.stderr.isEmpty, "\(result)")

        let audit = try await fixture.auditRows()
        let reveal = try #require(audit.last)
        #expect(reveal.action == "reveal" && reveal.outcome == "granted" && reveal.reason == "ticket 42")
        #expect(reveal.detail == [values[0].token, values[1].token, values[3].token].joined(separator: ","))
        #expect(reveal.actor == "postgres")
        for value in values {
            #expect(!audit.contains { $0.detail.contains(value.original) || $0.reason.contains(value.original) })
        }
    }

    @Test("--json prints an array of {token, field, original}; --stdin reads one token per line")
    func jsonAndStdin() async throws {
        let fixture = try await VaultFixture.make()
        defer { Task { await fixture.drop() } }
        let values = try await VaultSeeder.seed(fixture, Self.sample)
        let input = "\(values[0].token)\n\n  \(values[2].token.uppercased())  \r\n"
        let result = try await fixture.vault(["reveal", "--stdin", "--json", "--reason", "export"], input: input)
        #expect(result.status == 0, "\(result)")
        let decoded = try JSONDecoder().decode([RevealedValue].self, from: Data(result.stdout.utf8))
        #expect(decoded == [
            RevealedValue(token: values[0].token, field: "ip", original: "199.172.111.135"),
            RevealedValue(token: values[2].token, field: "ip", original: "2001:db8::1"),
        ])
    }

    @Test("unknown and malformed tokens: reported on stderr, the others printed, exit 65; malformed input never echoed")
    func unknownTokens() async throws {
        let fixture = try await VaultFixture.make()
        defer { Task { await fixture.drop() } }
        let values = try await VaultSeeder.seed(fixture, Self.sample)
        let unknown = VaultSeeder.unknownToken()
        let result = try await fixture.vault(["reveal", unknown, values[0].token, "10.1.2.3", "--reason", "check"])
        #expect(result.status == 65, "\(result)")
        #expect(result.stdoutLines == ["\(values[0].token)\tip\t199.172.111.135"])
        #expect(result.stderr.contains("unknown token \(unknown)"))
        #expect(result.stderr.contains("malformed token"))
        #expect(!result.stderr.contains("10.1.2.3"))
        #expect(try await fixture.auditRows().last?.detail.contains("10.1.2.3") == false)
    }

    @Test("logs never carry plaintext, even at trace level")
    func noPlaintextInLogs() async throws {
        let fixture = try await VaultFixture.make()
        defer { Task { await fixture.drop() } }
        let values = try await VaultSeeder.seed(fixture, Self.sample)
        let result = try await fixture.vault(["reveal", "--log-level", "trace", "--reason", "debugging"] + values.map(\.token))
        #expect(result.status == 0, "\(result)")
        #expect(result.stdoutLines.count == values.count)
        for value in values { #expect(!result.stderr.contains(value.original), "\(result.stderr)") }
    }

    @Test("works for a login that is a member of vault_admin (not the owner); the audit names that login")
    func memberLogin() async throws {
        let fixture = try await VaultFixture.make()
        defer { Task { await fixture.drop() } }
        let values = try await VaultSeeder.seed(fixture, Self.sample)
        let login = TestServices.uniqueName("operator")
        try await fixture.withSuperuser { session in
            try session.executeScript("CREATE ROLE \(login) LOGIN; GRANT vault_admin TO \(login)")
        }
        let result = try await fixture.vault(["reveal", values[1].token, "--reason", "member"], url: fixture.url(asUser: login))
        #expect(result.status == 0, "\(result)")
        #expect(result.stdoutLines == ["\(values[1].token)\tdevice_id\t593-47-5928"])
        #expect(try await fixture.auditRows().last?.actor == login)
    }

    @Test("library: batches share the data-key cache, so each DEK is unsealed once")
    func eachDataKeyOnce() async throws {
        let fixture = try await VaultFixture.make()
        defer { Task { await fixture.drop() } }
        let values = try await VaultSeeder.seed(fixture, (0..<500).map { (.ip, "10.0.\($0 / 256).\($0 % 256)") }, dataKeys: 3)
        let revealer = Revealer(environment: fixture.environment(), batchSize: 64)
        let result = try await revealer.reveal(tokens: values.map(\.token), reason: "batches")
        #expect(result.problems.isEmpty)
        #expect(result.values.map(\.original) == values.map(\.original))
        #expect(result.dataKeysUnsealed == 3)
    }

    @Test("bulk: 100,000 tokens on stdin in one run")
    func bulk() async throws {
        let fixture = try await VaultFixture.make()
        defer { Task { await fixture.drop() } }
        let count = 100_000
        let values = try await VaultSeeder.seed(
            fixture, (0..<count).map { (.deviceID, "device-\($0)") }, dataKeys: 4
        )
        let input = values.map(\.token).joined(separator: "\n") + "\n"
        let result = try await fixture.vault(["reveal", "--stdin", "--reason", "bulk export"], input: input)
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stdoutLines
        #expect(lines.count == count)
        #expect(lines.first == "\(values[0].token)\tdevice_id\tdevice-0")
        #expect(lines.last == "\(values[count - 1].token)\tdevice_id\tdevice-\(count - 1)")
        let audit = try await fixture.auditRows()
        #expect(audit.last?.detail.split(separator: ",").count == count)
    }
}
