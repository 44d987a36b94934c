import Testing
import Vault
import VaultFormat

/// Issue 12, item 10: which connections the vault forces to `sslmode=verify-full` (no database).
@Suite("database transport policy")
struct DatabaseTransportPolicyTests {
    static func decide(_ url: String?, _ environment: [String: String] = [:]) throws -> DatabaseTransportPolicy.Decision {
        try DatabaseTransportPolicy.evaluate(url: url, environment: environment).decision
    }

    @Test("loopback hosts keep libpq's behaviour, in every form", arguments: [
        "postgresql://u@127.0.0.1:5432/db",
        "postgresql://u@127.8.9.10/db",
        "postgresql://u@localhost/db",
        "postgresql://u@LOCALHOST./db",
        "postgresql://u@[::1]:5432/db",
        "postgresql:///db?host=/var/run/postgresql",
        "postgresql://u@%2Fvar%2Frun%2Fpostgresql/db",
        "postgresql://u@127.0.0.1,localhost:5433/db",
        "host=127.0.0.1 port=5432 dbname=db",
        "host=/tmp,localhost dbname=db",
        "host=localhost hostaddr=127.0.0.1 dbname=db",
        "hostaddr=::ffff:127.0.0.1 dbname=db",
        "dbname=db",
        "postgresql:///db",
        "just_a_database_name",
        "",
    ])
    func loopback(url: String) throws {
        #expect(try Self.decide(url) == .loopback)
    }

    @Test("a non-loopback host without sslmode gets verify-full", arguments: [
        "postgresql://u@db.example.com/db",
        "postgresql://u@10.0.0.5:5432/db",
        "postgresql://u@[2001:db8::1]/db",
        "postgresql://u@127.0.0.1,db.example.com/db",
        "host=db.example.com dbname=db",
        "host=localhost,10.1.1.1 dbname=db",
        "host=db.fetchde.test hostaddr=127.0.0.1 dbname=db",
        "host=localhost hostaddr=10.0.0.5 dbname=db",
        "hostaddr=192.0.2.1 dbname=db",
        "service=prod",
    ])
    func enforced(url: String) throws {
        #expect(try Self.decide(url) == .enforcedVerifyFull)
        #expect(try DatabaseTransportPolicy.evaluate(url: url, environment: [:]).overrides.map(\.value) == ["verify-full"])
    }

    @Test("a named mode is kept: verify-full silently, a weaker one with a warning naming the host")
    func namedModes() throws {
        #expect(try Self.decide("postgresql://u@db.example.com/db?sslmode=verify-full&sslrootcert=/ca.pem") == .verified)
        #expect(try Self.decide("host=db.example.com sslmode=verify-full") == .verified)
        #expect(try Self.decide("postgresql://u@db.example.com/db", ["PGSSLMODE": "verify-full"]) == .verified)
        for mode in ["disable", "allow", "prefer", "require", "verify-ca"] {
            let policy = try DatabaseTransportPolicy.evaluate(url: "postgresql://u:secret@db.example.com/db?sslmode=\(mode)", environment: [:])
            #expect(policy.decision == .explicitlyWeaker(mode: mode))
            #expect(policy.overrides.isEmpty)
            let warning = try #require(policy.warning)
            #expect(warning.contains("sslmode=\(mode)") && warning.contains("db.example.com") && !warning.contains("secret"))
        }
        #expect(try Self.decide("host=db.example.com", ["PGSSLMODE": "require"]) == .explicitlyWeaker(mode: "require"))
        // The URL's mode wins over PGSSLMODE, as in libpq.
        #expect(try Self.decide("host=db.example.com sslmode=require", ["PGSSLMODE": "verify-full"]) == .explicitlyWeaker(mode: "require"))
        // Loopback: a weaker named mode needs no warning.
        #expect(try DatabaseTransportPolicy.evaluate(url: "host=127.0.0.1 sslmode=disable", environment: [:]).warning == nil)
    }

    @Test("PG* variables count when the URL leaves host, hostaddr, service unset")
    func environmentVariables() throws {
        #expect(try Self.decide(nil, ["PGHOST": "db.example.com"]) == .enforcedVerifyFull)
        #expect(try Self.decide("dbname=db", ["PGHOST": "localhost"]) == .loopback)
        #expect(try Self.decide("dbname=db", ["PGHOSTADDR": "10.0.0.9"]) == .enforcedVerifyFull)
        #expect(try Self.decide("dbname=db", ["PGSERVICE": "prod"]) == .enforcedVerifyFull)
        // The URL's host wins over PGHOST.
        #expect(try Self.decide("host=127.0.0.1", ["PGHOST": "db.example.com"]) == .loopback)
    }

    @Test("a URL libpq cannot parse is a usage error")
    func unparsable() throws {
        let error = #expect(throws: VaultError.self) { try Self.decide("host=a nosuchkeyword=1") }
        #expect(error?.code == .invalidArgument)
    }
}
