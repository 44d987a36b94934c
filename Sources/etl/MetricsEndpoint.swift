#if canImport(Glibc)
import Glibc
#endif
import CommandSupport
import Foundation
import Logging
import Metrics
import Pipeline
import Prometheus

/// Serves `/metrics` (Prometheus text), `/healthz` and `/readyz` over plain HTTP/1.1 (GET and
/// HEAD, one request per connection) from one event-loop thread: every connection is
/// non-blocking and polled together, so idle or slow clients cannot hold up a probe. Each
/// connection has a deadline (``connectionDeadline``) from its accept; past
/// ``maxConnections`` the oldest one is dropped for the newcomer; accept errors other than a
/// closed listener (EMFILE, ECONNABORTED, …) pause accepting briefly and never end the loop.
/// IPv4 and IPv6 (`[::1]:9102`); a host name binds every address it resolves to.
/// Deliberately small: it answers scrapes and probes, nothing else, and keeps SwiftNIO out.
final class MetricsEndpoint: @unchecked Sendable {
    // @unchecked: the listeners and connections belong to the server thread alone; `stop()`
    // only writes one byte to `wakeWrite` and waits for `finished`.
    static let connectionDeadline: Duration = .seconds(10)
    static let maxConnections = 64
    static let maxRequestBytes = 8192

    private let listeners: [Int32]
    private let wakeRead: Int32
    private let wakeWrite: Int32
    private let finished = DispatchSemaphore(value: 0)
    private let registry: PrometheusCollectorRegistry
    private let health: HealthState
    private let logger: Logger

    private init(listeners: [Int32], wake: (Int32, Int32), registry: PrometheusCollectorRegistry, health: HealthState, logger: Logger) {
        self.listeners = listeners
        (wakeRead, wakeWrite) = wake
        self.registry = registry
        self.health = health
        self.logger = logger
    }

    /// Bootstraps swift-metrics with Prometheus (``PipelineMetricsCatalog``'s help texts) and
    /// serves on `address` (`HOST:PORT`, `[IPv6]:PORT`), or returns nil when `address` is nil.
    /// A taken port is an error (exit 1, one line).
    static func start(address: String?, health: HealthState, logger: Logger) async throws -> MetricsEndpoint? {
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(HelpfulPrometheusFactory(registry: registry))
        PipelineMetricsCatalog.recordBuildInfo(version: FetchDEVersion.current)
        guard let address else { return nil }
        let (host, port) = try parse(address)
        let listeners = try listen(host: host, port: port, address: address)
        var pipeFDs: [Int32] = [0, 0]
        guard pipe(&pipeFDs) == 0, pipeFDs.allSatisfy(nonBlocking) else {
            listeners.forEach { close($0) }
            throw CommandError(.localFailure, "cannot create the metrics endpoint's wake-up pipe")
        }
        let endpoint = MetricsEndpoint(listeners: listeners, wake: (pipeFDs[0], pipeFDs[1]), registry: registry, health: health, logger: logger)
        let thread = Thread { endpoint.serve() }
        thread.name = "fetchde-metrics"
        thread.start()
        logger.info("metrics endpoint listening", metadata: [LogKey.address: "\(address)"])
        return endpoint
    }

    /// Stops serving and closes every socket (waits up to a second for the loop to finish).
    func stop() {
        var byte: UInt8 = 1
        _ = Glibc.write(wakeWrite, &byte, 1)
        _ = finished.wait(timeout: .now() + 1)
    }

    /// `HOST:PORT` or `[IPV6]:PORT` → (host, port); an empty host or `*` means every address.
    static func parse(_ address: String) throws -> (host: String?, port: UInt16) {
        let usage = CommandError(.invalidArgument, "--metrics-address must be HOST:PORT, [IPV6]:PORT or off")
        guard let colon = address.lastIndex(of: ":"), let port = UInt16(address[address.index(after: colon)...]) else { throw usage }
        var host = String(address[..<colon])
        if host.hasPrefix("[") {
            guard host.hasSuffix("]"), host.count > 2 else { throw usage }
            host = String(host.dropFirst().dropLast())
        } else if host.contains(":") {
            throw usage  // an IPv6 address needs its brackets
        }
        return (host.isEmpty || host == "*" ? nil : host, port)
    }

    /// Binds and listens on every address `host` resolves to (IPv6 sockets are v6-only, so
    /// `[::]` and `0.0.0.0` can share a port).
    private static func listen(host: String?, port: UInt16, address: String) throws -> [Int32] {
        var hints = addrinfo()
        hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &list) == 0, let first = list else {
            throw CommandError(.invalidArgument, "--metrics-address: cannot resolve the host of \(address)")
        }
        defer { freeaddrinfo(list) }
        var listeners: [Int32] = []
        var inUse = false
        var next: UnsafeMutablePointer<addrinfo>? = first
        while let info = next {
            next = info.pointee.ai_next
            let fd = socket(info.pointee.ai_family, info.pointee.ai_socktype | Int32(SOCK_NONBLOCK.rawValue | SOCK_CLOEXEC.rawValue), 0)
            guard fd >= 0 else { continue }
            var yes: Int32 = 1
            setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
            if info.pointee.ai_family == AF_INET6 {
                setsockopt(fd, Int32(IPPROTO_IPV6), IPV6_V6ONLY, &yes, socklen_t(MemoryLayout<Int32>.size))
            }
            if bind(fd, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0, Glibc.listen(fd, 128) == 0 {
                listeners.append(fd)
            } else {
                if errno == EADDRINUSE { inUse = true }
                close(fd)
            }
        }
        guard !inUse, !listeners.isEmpty else {
            listeners.forEach { close($0) }
            throw CommandError(.localFailure, "cannot listen on \(address) for metrics (in use?); pass --metrics-address or off")
        }
        return listeners
    }

    /// Sets O_NONBLOCK and FD_CLOEXEC on `fd`.
    private static func nonBlocking(_ fd: Int32) -> Bool {
        let flags = fcntl(fd, F_GETFL)
        return flags >= 0 && fcntl(fd, F_SETFL, flags | O_NONBLOCK) == 0 && fcntl(fd, F_SETFD, FD_CLOEXEC) == 0
    }

    // MARK: The event loop (server thread only)

    private struct Connection {
        let fd: Int32
        let deadline: ContinuousClock.Instant
        var request: [UInt8] = []
        var response: [UInt8]?
        var sent = 0
    }

    private func serve() {
        var connections: [Connection] = []
        var acceptPausedUntil = ContinuousClock.now
        defer {
            connections.forEach { close($0.fd) }
            listeners.forEach { close($0) }
            close(wakeRead)
            close(wakeWrite)
            finished.signal()
        }
        while true {
            let now = ContinuousClock.now
            let accepting = now >= acceptPausedUntil
            var fds = [pollfd(fd: wakeRead, events: Int16(POLLIN), revents: 0)]
            if accepting { fds += listeners.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) } }
            fds += connections.map { pollfd(fd: $0.fd, events: Int16($0.response == nil ? POLLIN : POLLOUT), revents: 0) }
            var wait = connections.map { $0.deadline - now }.min() ?? .seconds(1)
            if !accepting { wait = min(wait, acceptPausedUntil - now) }
            let timeout = Int32(max(0, min(1000, wait.milliseconds + 1)))
            let ready = poll(&fds, nfds_t(fds.count), timeout)
            if ready < 0 && errno != EINTR { Thread.sleep(forTimeInterval: 0.01) }
            if fds[0].revents != 0 { return }  // stop()

            // Existing connections first (their indices match `fds` after the listeners).
            let base = 1 + (accepting ? listeners.count : 0)
            var keep: [Connection] = []
            let after = ContinuousClock.now
            for (index, var connection) in connections.enumerated() {
                let events = Int32(fds[base + index].revents)
                var open = after < connection.deadline
                if open && events & Int32(POLLIN | POLLHUP | POLLERR) != 0 && connection.response == nil {
                    open = readRequest(&connection)
                }
                if open && connection.response != nil && events & Int32(POLLOUT | POLLIN | POLLHUP | POLLERR) != 0 {
                    open = sendResponse(&connection)
                } else if open && events & Int32(POLLHUP | POLLERR | POLLNVAL) != 0 && connection.response != nil {
                    open = false
                }
                if open { keep.append(connection) } else { close(connection.fd) }
            }
            connections = keep

            // New connections: accept until the backlog is empty.
            guard accepting else { continue }
            for (index, listener) in listeners.enumerated() where fds[1 + index].revents != 0 {
                while true {
                    let client = accept(listener, nil, nil)
                    if client >= 0 {
                        guard Self.nonBlocking(client) else {
                            close(client)
                            continue
                        }
                        if connections.count >= Self.maxConnections {
                            close(connections.removeFirst().fd)  // the oldest: a flood cannot lock probes out
                        }
                        connections.append(Connection(fd: client, deadline: ContinuousClock.now + Self.connectionDeadline))
                        continue
                    }
                    let code = errno
                    if code == EAGAIN || code == EWOULDBLOCK { break }
                    if code == EINTR || code == ECONNABORTED || code == EPROTO { continue }
                    // EMFILE, ENFILE, ENOBUFS, ENOMEM, …: transient; retry shortly.
                    logger.warning("metrics endpoint cannot accept; retrying", metadata: [LogKey.errno: "\(code)"])
                    acceptPausedUntil = ContinuousClock.now + .milliseconds(100)
                    break
                }
            }
        }
    }

    /// Reads what is there; once the request head is complete, prepares the response.
    /// False when the connection is finished.
    private func readRequest(_ connection: inout Connection) -> Bool {
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = recv(connection.fd, &buffer, buffer.count, 0)
        if count < 0 { return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR }
        if count == 0 { return false }
        connection.request += buffer[0..<count]
        let complete = connection.request.count >= 4 && connection.request.indices.dropFirst(3).contains {
            connection.request[$0 - 3] == 13 && connection.request[$0 - 2] == 10 && connection.request[$0 - 1] == 13 && connection.request[$0] == 10
        }
        if complete {
            connection.response = response(to: connection.request)
        } else if connection.request.count > Self.maxRequestBytes {
            connection.response = Self.http(status: "431 Request Header Fields Too Large", type: "text/plain", body: Array("request too large\n".utf8), head: false)
        }
        return true
    }

    /// Sends what the socket takes; false once everything went (or the peer is gone).
    private func sendResponse(_ connection: inout Connection) -> Bool {
        guard let response = connection.response else { return true }
        while connection.sent < response.count {
            let n = response.withUnsafeBytes { send(connection.fd, $0.baseAddress! + connection.sent, response.count - connection.sent, Int32(MSG_NOSIGNAL)) }
            if n < 0 { return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR }
            if n == 0 { return false }
            connection.sent += n
        }
        shutdown(connection.fd, Int32(SHUT_WR))
        return false
    }

    private func response(to request: [UInt8]) -> [UInt8] {
        let line = String(decoding: request.prefix { $0 != 13 && $0 != 10 }, as: UTF8.self)
        let parts = line.split(separator: " ")
        let method = parts.first.map(String.init) ?? ""
        let path = parts.count >= 2 ? String(parts[1].prefix { $0 != "?" }) : ""
        guard method == "GET" || method == "HEAD" else {
            return Self.http(status: "405 Method Not Allowed", type: "text/plain", body: Array("GET or HEAD only\n".utf8), head: false, extra: "Allow: GET, HEAD\r\n")
        }
        let head = method == "HEAD"
        switch path {
        case "/metrics":
            PipelineMetricsCatalog.recordReady(health.isReady)
            var body = registry.emitToBuffer()
            body += ProcessMetrics.exposition()
            return Self.http(status: "200 OK", type: "text/plain; version=0.0.4; charset=utf-8", body: body, head: head)
        case "/healthz":
            let live = health.isLive
            return Self.http(status: live ? "200 OK" : "503 Service Unavailable", type: "text/plain", body: Array("\(live ? "ok" : "stalled") \(health.liveness)\n".utf8), head: head)
        case "/readyz":
            let ready = health.isReady
            return Self.http(status: ready ? "200 OK" : "503 Service Unavailable", type: "text/plain", body: Array("\(ready ? "ready" : "not ready") \(health.summary)\n".utf8), head: head)
        default:
            return Self.http(status: "404 Not Found", type: "text/plain", body: Array("not found\n".utf8), head: head)
        }
    }

    private static func http(status: String, type: String, body: [UInt8], head: Bool, extra: String = "") -> [UInt8] {
        var response = Array("HTTP/1.1 \(status)\r\nContent-Type: \(type)\r\nContent-Length: \(body.count)\r\n\(extra)Connection: close\r\n\r\n".utf8)
        if !head { response += body }
        return response
    }
}

extension Duration {
    fileprivate var milliseconds: Int64 {
        components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000
    }
}
