#if canImport(Glibc)
import Glibc
import VaultFormat
#elseif canImport(Darwin)
import Darwin
#endif
public import Foundation
import Postgres

/// How the vault's database connection must be protected (issue 12, item 10).
///
/// libpq's default `sslmode=prefer` falls back to plaintext, and even with TLS verifies
/// nothing, so an active attacker on the path can read and rewrite the session — including the
/// audit row that must be written before any reveal. So, for a host that is not on this
/// machine, the vault connects with `sslmode=verify-full` unless the operator names a mode:
///
/// | connection | sslmode named in the URL/conninfo or `PGSSLMODE` | the vault |
/// |---|---|---|
/// | loopback only (127.0.0.0/8, ::1, `localhost`, Unix sockets; every host of a multi-host list) | any or none | as libpq would (today's behaviour) |
/// | a non-loopback host | none | forces `verify-full`: a server without a certificate the CA (`sslrootcert`) vouches for is a one-line error, exit 69 |
/// | a non-loopback host | `verify-full` | as named |
/// | a non-loopback host | a weaker one (`disable` … `verify-ca`) | as named, with a warning on stderr |
///
/// Loopback is judged on `host` (the name libpq verifies the certificate against) and on
/// `hostaddr` (where it actually connects): both must be loopback. A `service` (pg_service.conf)
/// whose hosts the vault cannot see counts as not loopback.
public struct DatabaseTransportPolicy: Sendable, Equatable {
    public enum Decision: Sendable, Equatable {
        /// Every host is on this machine: nothing changes.
        case loopback
        /// `sslmode=verify-full` was named: nothing changes.
        case verified
        /// A weaker mode was named for a non-loopback host: allowed, with ``warning``.
        case explicitlyWeaker(mode: String)
        /// No mode was named for a non-loopback host: the vault adds `sslmode=verify-full`.
        case enforcedVerifyFull
    }

    public let decision: Decision
    /// The non-loopback hosts (names or addresses; never a password), for messages.
    public let remoteHosts: [String]

    /// The connection's keywords that decide (none of them secret).
    static let keywords: Set<String> = ["host", "hostaddr", "sslmode", "requiressl", "service"]

    /// The policy for `url` (nil or empty: libpq's `PG*` variables) under `environment`.
    /// Throws a usage error when libpq cannot parse the URL.
    public static func evaluate(
        url: String?, environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws -> DatabaseTransportPolicy {
        var options: [String: String] = [:]
        if let url, !url.isEmpty {
            guard let parsed = PostgresConnectionString.options(url, keywords: keywords) else {
                throw VaultError(.invalidArgument, "the database URL cannot be parsed (libpq connection string or postgresql:// URL expected)")
            }
            options = parsed
        }
        // libpq fills an option the URL leaves unset from its variable.
        func value(_ keyword: String, _ variable: String) -> String? {
            if let given = options[keyword], !given.isEmpty { return given }
            if let given = environment[variable], !given.isEmpty { return given }
            return nil
        }
        var mode = value("sslmode", "PGSSLMODE")
        if mode == nil, let require = value("requiressl", "PGREQUIRESSL"), require == "1" { mode = "require" }

        var remote = remoteHosts(host: value("host", "PGHOST"), hostaddr: value("hostaddr", "PGHOSTADDR"))
        if let service = value("service", "PGSERVICE") {
            remote.append("service \(service)")
        }
        let decision: Decision
        if mode == "verify-full" {
            decision = .verified
        } else if remote.isEmpty {
            decision = .loopback
        } else if let mode {
            decision = .explicitlyWeaker(mode: mode)
        } else {
            decision = .enforcedVerifyFull
        }
        return DatabaseTransportPolicy(decision: decision, remoteHosts: remote)
    }

    /// What to add to the connection: `sslmode=verify-full` when enforced, else nothing.
    public var overrides: [(keyword: String, value: String)] {
        decision == .enforcedVerifyFull ? [("sslmode", "verify-full")] : []
    }

    /// One line for stderr when a weaker mode was named for a non-loopback host.
    public var warning: String? {
        guard case .explicitlyWeaker(let mode) = decision else { return nil }
        return "warning: sslmode=\(mode) for non-loopback database host \(remoteHosts.joined(separator: ", ")): "
            + "the server is not authenticated, so someone on the path can read or change the session "
            + "(use sslmode=verify-full with sslrootcert=<CA bundle>)"
    }

    /// The error for a failed connection under an enforced `verify-full`.
    func enforcedFailure(_ error: any Error) -> VaultError {
        VaultError(
            .databaseUnavailable,
            "database unavailable: \(error); non-loopback host \(remoteHosts.joined(separator: ", ")) needs a verified TLS "
                + "connection (sslmode=verify-full, the vault's default there): give sslrootcert=<CA bundle> in the URL, "
                + "or name a weaker sslmode explicitly"
        )
    }

    // MARK: Loopback

    /// The entries of libpq's (possibly comma-separated) host and hostaddr lists that are not
    /// on this machine. Entry i pairs host i with hostaddr i; an empty or missing host means
    /// the default Unix socket (or hostaddr alone).
    static func remoteHosts(host: String?, hostaddr: String?) -> [String] {
        let hosts = host.map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) } ?? []
        let addresses = hostaddr.map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) } ?? []
        var remote: [String] = []
        for index in 0..<max(hosts.count, addresses.count) {
            let name = index < hosts.count ? hosts[index].trimmingCharacters(in: .whitespaces) : ""
            let address = index < addresses.count ? addresses[index].trimmingCharacters(in: .whitespaces) : ""
            let nameIsLocal = name.isEmpty || isLoopbackName(name)
            let addressIsLocal = address.isEmpty || isLoopbackAddress(address)
            if !(nameIsLocal && addressIsLocal) { remote.append(name.isEmpty ? address : name) }
        }
        return remote
    }

    /// A Unix-socket directory (or abstract socket), `localhost`, or a loopback address.
    static func isLoopbackName(_ name: String) -> Bool {
        if name.hasPrefix("/") || name.hasPrefix("@") { return true }
        var lowered = name.lowercased()
        if lowered.hasSuffix(".") { lowered.removeLast() }
        return lowered == "localhost" || isLoopbackAddress(name)
    }

    /// 127.0.0.0/8, ::1, or an IPv4-mapped 127.0.0.0/8.
    static func isLoopbackAddress(_ text: String) -> Bool {
        let bare = text.hasPrefix("[") && text.hasSuffix("]") ? String(text.dropFirst().dropLast()) : text
        var v4 = in_addr()
        if inet_pton(AF_INET, bare, &v4) == 1 {
            return UInt32(bigEndian: v4.s_addr) >> 24 == 127
        }
        var v6 = in6_addr()
        guard inet_pton(AF_INET6, bare, &v6) == 1 else { return false }
        let bytes = withUnsafeBytes(of: v6) { Array($0) }
        if bytes[0..<15].allSatisfy({ $0 == 0 }) && bytes[15] == 1 { return true }
        return bytes[0..<10].allSatisfy({ $0 == 0 }) && bytes[10] == 0xff && bytes[11] == 0xff && bytes[12] == 127
    }
}
