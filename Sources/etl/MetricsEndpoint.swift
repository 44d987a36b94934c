#if canImport(Glibc)
import Glibc
#endif
import CommandSupport
import Foundation
import Logging
import Metrics
import Pipeline
import Prometheus

/// Serves `/metrics` (Prometheus text), `/healthz` and `/readyz` over plain HTTP/1.1 on one
/// dedicated thread. Deliberately tiny (GET only, one request per connection): it answers
/// scrapes and probes, nothing else, and keeps SwiftNIO out of the build.
final class MetricsEndpoint: @unchecked Sendable {
    // @unchecked: `socket` is written once in init, read by the server thread and by
    // `stop()`; shutting the socket down is the only cross-thread interaction.
    private let socket: Int32
    private let registry: PrometheusCollectorRegistry
    private let health: HealthState

    private init(socket: Int32, registry: PrometheusCollectorRegistry, health: HealthState) {
        self.socket = socket
        self.registry = registry
        self.health = health
    }

    /// Bootstraps swift-metrics with Prometheus and serves on `address` (`HOST:PORT`), or
    /// returns nil when `address` is nil. A taken port is an error (exit 1, one line).
    static func start(address: String?, health: HealthState, logger: Logger) async throws -> MetricsEndpoint? {
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        guard let address else { return nil }
        guard let colon = address.lastIndex(of: ":"), let port = UInt16(address[address.index(after: colon)...]) else {
            throw CommandError(.usage, "--metrics-address must be HOST:PORT or off")
        }
        let host = String(address[..<colon])
        let fd = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw CommandError(.failure, "cannot create the metrics socket") }
        var yes: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = port.bigEndian
        guard inet_pton(AF_INET, host == "localhost" ? "127.0.0.1" : host, &addr.sin_addr) == 1 else {
            close(fd)
            throw CommandError(.usage, "--metrics-address host must be an IPv4 address")
        }
        let bound = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 16) == 0 else {
            close(fd)
            throw CommandError(.failure, "cannot listen on \(address) for metrics (in use?); pass --metrics-address or off")
        }
        let endpoint = MetricsEndpoint(socket: fd, registry: registry, health: health)
        let thread = Thread { endpoint.serve() }
        thread.name = "fetchde-metrics"
        thread.start()
        logger.info("metrics endpoint listening", metadata: ["address": "\(address)"])
        return endpoint
    }

    /// Stops serving.
    func stop() {
        shutdown(socket, Int32(SHUT_RDWR))
        close(socket)
    }

    private func serve() {
        while true {
            let client = accept(socket, nil, nil)
            if client < 0 {
                if errno == EINTR { continue }
                return
            }
            var timeout = timeval(tv_sec: 2, tv_usec: 0)
            setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            respond(client)
            close(client)
        }
    }

    private func respond(_ client: Int32) {
        var request = [UInt8](repeating: 0, count: 4096)
        let count = recv(client, &request, request.count, 0)
        guard count > 0 else { return }
        let line = String(decoding: request[0..<count].prefix { $0 != 13 && $0 != 10 }, as: UTF8.self)
        let parts = line.split(separator: " ")
        let path = parts.count >= 2 ? String(parts[1]) : ""
        let (status, type, body): (String, String, [UInt8])
        switch (parts.first.map(String.init), path) {
        case ("GET", "/metrics"):
            (status, type, body) = ("200 OK", "text/plain; version=0.0.4", registry.emitToBuffer())
        case ("GET", "/healthz"):
            let live = health.isLive
            (status, type, body) = (live ? "200 OK" : "503 Service Unavailable", "text/plain", Array("\(live ? "ok" : "stalled") \(health.liveness)\n".utf8))
        case ("GET", "/readyz"):
            let ready = health.isReady
            (status, type, body) = (ready ? "200 OK" : "503 Service Unavailable", "text/plain", Array("\(ready ? "ready" : "not ready") \(health.summary)\n".utf8))
        case ("GET", _):
            (status, type, body) = ("404 Not Found", "text/plain", Array("not found\n".utf8))
        default:
            (status, type, body) = ("405 Method Not Allowed", "text/plain", Array("GET only\n".utf8))
        }
        var response = Array("HTTP/1.1 \(status)\r\nContent-Type: \(type)\r\nContent-Length: \(body.count)\r\nConnection: close\r\n\r\n".utf8)
        response.append(contentsOf: body)
        var sent = 0
        while sent < response.count {
            let n = response.withUnsafeBytes { send(client, $0.baseAddress! + sent, response.count - sent, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return }
            sent += n
        }
    }
}
