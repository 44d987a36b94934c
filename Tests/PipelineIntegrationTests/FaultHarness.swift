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
    private var process: Process?

    /// `script`: the proxy under scripts/ (`sqs-fault-proxy.py` fails a delete entry once).
    init(target: Int, script: String = "tcp-proxy.py") throws {
        self.port = try freePort()
        self.target = target
        self.script = script
    }

    func restore() throws {
        guard process == nil else { return }
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("scripts/\(self.script)")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script.path, "\(port)", "\(target)"]
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        _ = out.fileHandleForReading.availableData  // "ready"
        self.process = process
    }

    func cut() {
        guard let process else { return }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        self.process = nil
    }

    /// Freezes every connection open now: kept open, nothing forwarded any more (a half-open
    /// connection); new connections are forwarded as before.
    func freeze() {
        guard let process else { return }
        kill(process.processIdentifier, SIGUSR1)
    }

    deinit { cut() }
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

/// One `etl` process whose stderr is collected in the background.
final class ETLProcess: @unchecked Sendable {
    // @unchecked: `stderr` is appended by the pipe's handler and read after exit.
    let process = Process()
    private let errors = Pipe()
    private let output = Pipe()
    private let lock = NSLock()
    private var collected = Data()
    private var collectedOut = Data()

    init(_ arguments: [String], environment extra: [String: String]) throws {
        process.executableURL = URL(fileURLWithPath: try TestServices.executable("etl"))
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        environment["METRICS_ADDRESS"] = "off"
        environment["ETL_WAIT_TIME_SECONDS"] = "1"
        environment["ETL_BATCH_SIZE"] = "25"
        environment["LOG_LEVEL"] = "info"
        for (key, value) in extra { environment[key] = value }
        process.environment = environment
        process.standardError = errors
        process.standardOutput = output
        errors.fileHandleForReading.readabilityHandler = { [weak self] handle in
            let data = handle.availableData
            self?.lock.withLock { self?.collected.append(data) }
        }
        output.fileHandleForReading.readabilityHandler = { [weak self] handle in
            let data = handle.availableData
            self?.lock.withLock { self?.collectedOut.append(data) }
        }
        try process.run()
    }

    var stderr: String { lock.withLock { String(decoding: collected, as: UTF8.self) } }
    var stdout: String { lock.withLock { String(decoding: collectedOut, as: UTF8.self) } }

    func kill9() {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// Waits for exit (terminating it after `timeout`) and returns the status.
    @discardableResult
    func wait(timeout: Duration = .seconds(120)) async throws -> Int32 {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning {
            if ContinuousClock.now > deadline {
                kill9()
                Issue.record("etl did not finish in time; stderr:\n\(stderr.suffix(2000))")
                return -1
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        try await Task.sleep(for: .milliseconds(100))
        return process.terminationStatus
    }
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
