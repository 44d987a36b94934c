import Foundation
import Logging
import Postgres
import Schema
import TestSupport
import Testing

/// Issue 12, item 10: the vault's connection to a non-loopback host cannot be stripped of TLS
/// or pointed at an unverified server unless the operator names a weaker sslmode. The host is
/// made "not loopback" with `host=db.fetchde.test hostaddr=127.0.0.1`: libpq connects to
/// 127.0.0.1 and verifies the certificate against db.fetchde.test.
@Suite("vault TLS", .enabled(if: TestServices.postgresEnabled))
struct VaultTLSTests {
    static let remoteName = "db.fetchde.test"

    /// The fixture's database, reached as a non-loopback host name (keyword form).
    static func remote(_ fixture: VaultFixture, _ extra: String = "") throws -> String {
        let components = try #require(URLComponents(string: fixture.database.url))
        let port = try #require(components.port)
        let database = components.path.trimmingCharacters(in: CharacterSet(charactersIn: "/"))
        return "host=\(remoteName) hostaddr=127.0.0.1 port=\(port) user=postgres dbname=\(database) \(extra)"
    }

    @Test("the test cluster has no TLS: no sslmode means verify-full, so the plaintext fallback is refused (69, one line); sslmode=disable named explicitly connects, with a warning")
    func plaintextIsNotAFallback() async throws {
        let fixture = try await VaultFixture.make()
        defer { Task { await fixture.drop() } }

        let stripped = try await fixture.vault(["status"], url: try Self.remote(fixture))
        #expect(stripped.status == 69, "\(stripped)")
        #expect(stripped.stderrLines.count == 1 && stripped.stderr.contains("verify-full"), "\(stripped)")
        #expect(stripped.stderr.contains(Self.remoteName), "\(stripped)")

        let named = try await fixture.vault(["status"], url: try Self.remote(fixture, "sslmode=disable"))
        #expect(named.status == 0, "\(named)")
        #expect(named.stderrLines.count == 1, "\(named)")
        #expect(named.stderr.contains("warning: sslmode=disable") && named.stderr.contains(Self.remoteName), "\(named)")

        // Loopback keeps today's behaviour: no warning, no TLS needed.
        let local = try await fixture.vault(["status"])
        #expect(local.status == 0 && local.stderr.isEmpty, "\(local)")
    }

    @Test("a TLS cluster: verify-full with the right CA connects; a wrong CA or no CA fails in one line (69); sslmode=require connects with a warning")
    func verifiedTLS() async throws {
        let fixture = try await VaultFixture.make(migrate: false, initialize: false)
        let cluster: TLSCluster
        do {
            cluster = try await TLSCluster.start(in: fixture.root + "/tls")
        } catch {
            await fixture.drop()
            throw error
        }
        // The cluster stops before the fixture removes its directory.
        defer { Task { await cluster.stop(); await fixture.drop() } }
        try await cluster.migrate()
        let base = "host=\(Self.remoteName) hostaddr=127.0.0.1 port=\(cluster.port) user=postgres dbname=postgres"
        let verified = "\(base) sslmode=verify-full sslrootcert=\(cluster.directory)/ca.crt"

        let initialize = try await fixture.vault(["init"], url: verified)
        #expect(initialize.status == 0 && initialize.stderr.isEmpty, "\(initialize)")

        // URL form, every option named.
        let url = "postgresql://postgres@\(Self.remoteName):\(cluster.port)/postgres?hostaddr=127.0.0.1&sslmode=verify-full&sslrootcert=\(cluster.directory)/ca.crt"
        let status = try await fixture.vault(["status"], url: url)
        #expect(status.status == 0 && status.stderr.isEmpty, "\(status)")
        #expect(status.stdout.contains("active vault key:   v1"), "\(status)")

        // No sslmode but the CA given: verify-full is what the vault uses, and it passes.
        let enforced = try await fixture.vault(["status"], url: "\(base) sslrootcert=\(cluster.directory)/ca.crt")
        #expect(enforced.status == 0 && enforced.stderr.isEmpty, "\(enforced)")

        let wrongCA = try await fixture.vault(["status"], url: "\(base) sslmode=verify-full sslrootcert=\(cluster.directory)/other-ca.crt")
        #expect(wrongCA.status == 69 && wrongCA.stderrLines.count == 1, "\(wrongCA)")

        let wrongCAEnforced = try await fixture.vault(["status"], url: "\(base) sslrootcert=\(cluster.directory)/other-ca.crt")
        #expect(wrongCAEnforced.status == 69 && wrongCAEnforced.stderrLines.count == 1, "\(wrongCAEnforced)")
        #expect(wrongCAEnforced.stderr.contains("verify-full"), "\(wrongCAEnforced)")

        // Nothing named at all: libpq's default would be prefer (TLS, nothing verified); the vault insists.
        let unverified = try await fixture.vault(["status"], url: base)
        #expect(unverified.status == 69 && unverified.stderrLines.count == 1, "\(unverified)")
        #expect(unverified.stderr.contains("verify-full") && unverified.stderr.contains("sslrootcert"), "\(unverified)")

        let required = try await fixture.vault(["status"], url: "\(base) sslmode=require")
        #expect(required.status == 0, "\(required)")
        #expect(required.stderrLines == ["vault: warning: sslmode=require for non-loopback database host \(Self.remoteName): the server is not authenticated, so someone on the path can read or change the session (use sslmode=verify-full with sslrootcert=<CA bundle>)"], "\(required)")

        // The same settings through PGSSLMODE count as named.
        let variable = try await fixture.vault(["status"], url: base, environment: ["PGSSLMODE": "require"])
        #expect(variable.status == 0 && variable.stderr.contains("warning: sslmode=require"), "\(variable)")
    }
}

/// A TLS-speaking throwaway cluster made by `scripts/tls-postgres.sh`.
struct TLSCluster: Sendable {
    let directory: String
    let port: Int

    static var script: String {
        URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("scripts/tls-postgres.sh").path
    }

    static func start(in directory: String) async throws -> TLSCluster {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let result = try await ChildProcess.run(path: "/bin/bash", [script, "start", directory], directory: directory)
        guard result.status == 0,
              let line = result.stdoutLines.first(where: { $0.hasPrefix("PORT=") }), let port = Int(line.dropFirst(5))
        else { throw FixtureError("tls-postgres.sh start failed: \(result)") }
        return TLSCluster(directory: directory, port: port)
    }

    /// Schema and roles, as `etl migrate` makes them (over TLS, unverified: a test set-up step).
    func migrate() async throws {
        let connection = try await PostgresConnection.connect(
            url: "host=127.0.0.1 port=\(port) user=postgres dbname=postgres sslmode=require", logger: .test
        )
        do {
            _ = try await Migrator.migrate(connection, logger: .test)
            await connection.close()
        } catch {
            await connection.close()
            throw error
        }
    }

    /// Stops the cluster (the fixture removes the directory).
    func stop() async {
        _ = try? await ChildProcess.run(path: "/bin/bash", [Self.script, "stop", directory])
    }
}
