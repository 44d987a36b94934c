#if canImport(Glibc)
import Glibc
#endif
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import PIICrypto
import Testing
import TestSupport

/// A loopback TCP proxy (`scripts/tcp-proxy.py`) in front of a service: `cut()` makes the
/// service unreachable for whoever connects through it, `restore()` brings it back on the
/// same port, `freeze()` silences the connections open now without closing them.
final class TCPProxy: @unchecked Sendable {
    // @unchecked: used from one test task at a time.
    let port: Int
    let target: Int
    let script: String
    private var process: ChildProcess?

    /// `script`: the proxy under scripts/ (`sqs-fault-proxy.py` fails a delete entry once).
    init(target: Int, script: String = "tcp-proxy.py") throws {
        self.port = try freePort()
        self.target = target
        self.script = script
    }

    func restore() async throws {
        guard process == nil else { return }
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("scripts/\(self.script)")
        let process = try ChildProcess(path: "/usr/bin/env", ["python3", script.path, "\(port)", "\(target)"])
        guard try await process.waitForOutput("ready") else {
            throw MissingService(variable: "\(self.script) listening (\(await process.kill()))")
        }
        self.process = process
    }

    func cut() async {
        guard let process else { return }
        await process.kill()
        self.process = nil
    }

    /// Freezes every connection open now: kept open, nothing forwarded any more (a half-open
    /// connection); new connections are forwarded as before.
    func freeze() {
        process?.signal(SIGUSR1)
    }
    // Dropping the proxy kills it (`ChildProcess` does on deinit).
}

/// A free TCP port on 127.0.0.1.
func freePort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    addr.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let ok = withUnsafeMutablePointer(to: &addr) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
    }
    guard ok else { throw MissingService(variable: "a free port") }
    return Int(UInt16(bigEndian: addr.sin_port))
}

/// The port of a URL (`postgresql://…:PORT/…`, `http://…:PORT/…`).
func port(of url: String) -> Int? {
    URLComponents(string: url)?.port
}

/// `url` with its port replaced.
func replacingPort(of url: String, with port: Int) -> String {
    var components = URLComponents(string: url)!
    components.port = port
    return components.string!
}

/// GET http://127.0.0.1:port/path → (status, body), or nil when nothing answers.
func httpGet(port: Int, path: String) async -> (Int, String)? {
    guard let url = URL(string: "http://127.0.0.1:\(port)\(path)") else { return nil }
    var request = URLRequest(url: url)
    request.timeoutInterval = 2
    guard let (data, response) = try? await URLSession.shared.data(for: request),
          let http = response as? HTTPURLResponse else { return nil }
    return (http.statusCode, String(decoding: data, as: UTF8.self))
}

/// Seconds since `start`, for the recovery times the fault tests print.
func seconds(since start: ContinuousClock.Instant) -> String {
    let elapsed = ContinuousClock.now - start
    return String(format: "%.1f", Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
}
