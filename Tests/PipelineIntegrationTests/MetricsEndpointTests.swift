#if canImport(Glibc)
import Glibc
#endif
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import PIICrypto
import Pipeline
import Testing
import PipelineTestSupport
import TestSupport

/// `/metrics`, `/healthz`, `/readyz` as Prometheus, probes and operators meet them (SPEC §8):
/// the exposition passes `promtool check metrics` with HELP on every family, the server
/// answers while idle clients hold connections, over IPv6, and to HEAD.
@Suite("metrics endpoint (real PostgreSQL + SQS endpoint)", .serialized, .enabled(if: TestServices.postgresEnabled && TestServices.sqsEnabled))
struct MetricsEndpointTests {
    /// `etl run` on a fresh queue with `bodies`, serving metrics on `address`.
    func start(_ name: String, address: (Int) -> String, bodies: [String] = []) async throws -> (PipelineFixture, ChildProcess, Int, [String: String]) {
        let fixture = try await PipelineFixture.make(name)
        if !bodies.isEmpty { try await fixture.send(bodies) }
        let port = try freePort()
        let environment = ["DATABASE_URL": fixture.database.url, "KEYS_DIR": fixture.keys.directory.path, "SQS_QUEUE_URL": fixture.queueURL]
        let run = try ChildProcess.etl(["run", "--metrics-address", address(port)], environment: environment)
        return (fixture, run, port, environment)
    }

    /// One request with `method` to `host` (`127.0.0.1`, `[::1]`): status, headers, body.
    func request(_ method: String = "GET", host: String = "127.0.0.1", port: Int, path: String, timeout: TimeInterval = 3) async -> (Int, [AnyHashable: Any], String)? {
        guard let url = URL(string: "http://\(host):\(port)\(path)") else { return nil }
        var request = URLRequest(url: url)
        request.httpMethod = method
        request.timeoutInterval = timeout
        guard let (data, response) = try? await URLSession.shared.data(for: request), let http = response as? HTTPURLResponse else { return nil }
        return (http.statusCode, http.allHeaderFields, String(decoding: data, as: UTF8.self))
    }

    /// GET `path` from `[::1]:port` over a raw socket (Foundation's URL loading does not take
    /// an IPv6 literal here): the status line's code and the whole response, or nil.
    func getIPv6(port: Int, path: String) -> (Int, String)? {
        let fd = socket(AF_INET6, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var timeout = timeval(tv_sec: 3, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var addr = sockaddr_in6()
        addr.sin6_family = sa_family_t(AF_INET6)
        addr.sin6_port = UInt16(port).bigEndian
        addr.sin6_addr = in6addr_loopback
        let connected = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) == 0 }
        }
        guard connected else { return nil }
        let request = Array("GET \(path) HTTP/1.1\r\nHost: [::1]:\(port)\r\n\r\n".utf8)
        guard send(fd, request, request.count, Int32(MSG_NOSIGNAL)) == request.count else { return nil }
        var response: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = recv(fd, &buffer, buffer.count, 0)
            if n <= 0 { break }
            response += buffer[0..<n]
        }
        let text = String(decoding: response, as: UTF8.self)
        let parts = text.prefix { $0 != "\r" }.split(separator: " ")
        guard parts.count >= 2, let status = Int(parts[1]) else { return nil }
        return (status, text)
    }

    func waitUntilServing(host: String = "127.0.0.1", port: Int) async throws {
        let deadline = ContinuousClock.now + .seconds(30)
        while (host == "[::1]" ? getIPv6(port: port, path: "/healthz")?.0 : await request(host: host, port: port, path: "/healthz", timeout: 1)?.0) != 200 {
            guard ContinuousClock.now < deadline else {
                Issue.record("the metrics endpoint never answered on \(host):\(port)")
                return
            }
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    /// `promtool` (Debian's `prometheus` package; `scripts/test.sh` installs it).
    static func promtool() throws -> String {
        let path = ["/usr/bin/promtool", "/usr/local/bin/promtool"].first { FileManager.default.isExecutableFile(atPath: $0) }
        return try #require(path, "promtool is not installed: scripts/lib/install-deps.sh installs Debian's prometheus package")
    }

    /// Runs `promtool ARGS` with `input` on stdin; exit status and combined output.
    static func runPromtool(_ arguments: [String], input: String? = nil) async throws -> (Int32, String) {
        let result = try await ChildProcess.run(path: try promtool(), arguments, stdin: input)
        return (result.status, result.stdout + result.stderr)
    }

    @Test("a live scrape during a run with quarantined messages passes promtool check metrics; every family has HELP")
    func promtoolCheck() async throws {
        // A first run leaves quarantined rows for the quarantine gauge, which `etl run` reads at start.
        let (fixture, run, port, environment) = try await start("metrics", address: { "127.0.0.1:\($0)" })
        try await waitUntilServing(port: port)
        run.signal(SIGTERM)
        #expect(await run.exitStatus() == 0, "\(run.stderr.suffix(800))")
        try await fixture.send(DemoData(count: 50, malformedEvery: 10, seed: 3).bodies())
        let drain = try ChildProcess.etl(["run", "--drain"], environment: environment)
        #expect(await drain.exitStatus() == 0)

        let live = try ChildProcess.etl(["run", "--metrics-address", "127.0.0.1:\(port)"], environment: environment)
        defer { live.signal(SIGKILL) }
        try await waitUntilServing(port: port)
        try await fixture.send(DemoData(count: 60, malformedEvery: 6, seed: 4).bodies())
        let deadline = ContinuousClock.now + .seconds(60)
        var text = ""
        while ContinuousClock.now < deadline {
            text = await request(port: port, path: "/metrics")?.2 ?? ""
            if text.contains("etl_messages_deleted_total 60") && text.contains("etl_quarantine_messages{") { break }
            try await Task.sleep(for: .milliseconds(200))
        }
        let (status, complaints) = try await Self.runPromtool(["check", "metrics"], input: text)
        #expect(status == 0, "promtool check metrics: \(complaints)\n\(text.prefix(3000))")

        let lines = text.split(separator: "\n")
        let families = Set(lines.filter { $0.hasPrefix("# TYPE ") }.map { $0.split(separator: " ")[2] })
        let helped = Set(lines.filter { $0.hasPrefix("# HELP ") }.map { $0.split(separator: " ")[2] })
        #expect(!families.isEmpty && families == helped, "families without HELP: \(families.subtracting(helped))")
        for family in [
            "etl_messages_received_total", "etl_rows_inserted_total", "etl_messages_quarantined_total", "etl_messages_deleted_total",
            "etl_messages_in_flight", "etl_message_age_seconds", "etl_batch_duration_seconds", "etl_sqs_requests_total",
            "etl_active_token_key_version", "etl_active_vault_key_version", "etl_data_keys_created_total",
            "etl_data_key_last_created_timestamp_seconds", "etl_quarantine_messages", "etl_queue_messages", "etl_build_info", "etl_ready",
            "process_resident_memory_bytes", "process_cpu_seconds_total", "process_open_fds", "process_start_time_seconds",
        ] {
            #expect(families.contains(Substring(family)), "no \(family) in the scrape")
        }
        // Quarantined by reason, as a counter (this run) and as the table's size (the earlier runs').
        let quarantined = lines.filter { $0.hasPrefix("etl_messages_quarantined_total{reason=\"") }
        #expect(!quarantined.isEmpty && quarantined.allSatisfy { !$0.contains("reason=\"other\"") }, "\(quarantined)")
        let size = lines.filter { $0.hasPrefix("etl_quarantine_messages{reason=\"") }
        #expect((5...15).contains(size.compactMap { Double($0.split(separator: " ").last ?? "") }.reduce(0, +)), "\(size)")  // read once ready: the 5 earlier ones, maybe some of this run's
        #expect(lines.contains { $0.hasPrefix("etl_build_info{version=\"") && $0.hasSuffix(" 1.0") })
        #expect(lines.contains { $0.hasPrefix("etl_message_age_seconds_count ") && !$0.hasSuffix(" 0") })
        #expect(lines.contains("etl_active_token_key_version 1.0"))
    }

    @Test("twenty idle connections do not delay /healthz; HEAD answers headers only; other methods 405")
    func idleClientsAndHead() async throws {
        let (_, run, port, _) = try await start("idle", address: { "127.0.0.1:\($0)" })
        defer { run.signal(SIGKILL) }
        try await waitUntilServing(port: port)
        // Twenty clients connect and say nothing (the old server read each for 2 s in turn).
        var idle: [Int32] = []
        defer { idle.forEach { close($0) } }
        for _ in 0..<20 {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var addr = sockaddr_in()
            addr.sin_family = sa_family_t(AF_INET)
            addr.sin_port = UInt16(port).bigEndian
            addr.sin_addr.s_addr = inet_addr("127.0.0.1")
            let connected = withUnsafePointer(to: &addr) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            #expect(connected == 0)
            idle.append(fd)
        }
        try await Task.sleep(for: .milliseconds(200))
        for _ in 0..<3 {
            // Each probe gets 3 s; behind twenty 2-second reads it needed 40.
            let health = await request(port: port, path: "/healthz", timeout: 3)
            #expect(health?.0 == 200, "/healthz did not answer while 20 clients sat idle")
        }
        let head = await request("HEAD", port: port, path: "/metrics")
        #expect(head?.0 == 200 && head?.2 == "", "\(String(describing: head))")
        #expect(Int(head?.1["Content-Length"] as? String ?? "") ?? 0 > 0, "HEAD must announce the GET body's length")
        let post = await request("POST", port: port, path: "/metrics")
        #expect(post?.0 == 405)
    }

    @Test("IPv6: --metrics-address [::1]:PORT serves /healthz and /metrics")
    func ipv6() async throws {
        let probe = socket(AF_INET6, Int32(SOCK_STREAM.rawValue), 0)
        var loopback = sockaddr_in6()
        loopback.sin6_family = sa_family_t(AF_INET6)
        loopback.sin6_addr = in6addr_loopback
        let hasIPv6 = withUnsafePointer(to: &loopback) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(probe, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) == 0 }
        }
        close(probe)
        try #require(hasIPv6, "this machine has no IPv6 loopback")
        let (_, run, port, _) = try await start("ipv6", address: { "[::1]:\($0)" })
        defer { run.signal(SIGKILL) }
        try await waitUntilServing(host: "[::1]", port: port)
        let metrics = getIPv6(port: port, path: "/metrics")
        #expect(metrics?.0 == 200 && metrics?.1.contains("# HELP etl_build_info") == true)
        #expect(await request(host: "127.0.0.1", port: port, path: "/healthz", timeout: 1) == nil, "bound to ::1 only")
    }

    @Test("etl ingest serves metrics only when asked: METRICS_ADDRESS on a taken port does not stop a backfill")
    func ingestDoesNotListen() async throws {
        let fixture = try await PipelineFixture.make("ingestport")
        // Something (an `etl run`) already listens on the configured address.
        let taken = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(taken) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(taken, $0, length) == 0 && listen(taken, 4) == 0 && getsockname(taken, $0, &length) == 0 }
        }
        try #require(bound)
        let port = Int(UInt16(bigEndian: addr.sin_port))
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("ingest-\(UUID().uuidString).jsonl")
        defer { try? FileManager.default.removeItem(at: file) }
        try DemoData(count: 5, malformedEvery: 0, seed: 1).bodies().joined(separator: "\n").write(to: file, atomically: true, encoding: .utf8)
        let ingest = try ChildProcess.etl(["ingest", file.path], environment: [
            "DATABASE_URL": fixture.database.url, "KEYS_DIR": fixture.keys.directory.path, "METRICS_ADDRESS": "127.0.0.1:\(port)",
        ])
        #expect(await ingest.exitStatus(timeout: .seconds(60)) == 0, "\(ingest.stderr)")
        #expect(try await fixture.database.scalar("SELECT count(*) FROM user_logins") == 5)
        // Asked for, it serves (and a taken port is then an error, as for etl run).
        let asked = try ChildProcess.etl(["ingest", file.path, "--metrics-address", "127.0.0.1:\(port)"], environment: [
            "DATABASE_URL": fixture.database.url, "KEYS_DIR": fixture.keys.directory.path,
        ])
        #expect(await asked.exitStatus(timeout: .seconds(60)) == 1)
        #expect(asked.stderr.contains("cannot listen"), "\(asked.stderr)")
    }
}
