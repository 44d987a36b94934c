#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Synchronization
public import Testing

/// A program a test runs: a product of this package (`etl`, `vault`) or a tool (`openssl`,
/// `promtool`, a script), as swift-argument-parser's `AssertExecuteCommand` runs its examples.
///
///     let result = try await ChildProcess.run(product: "vault", ["status"], environment: env)
///     #expect(result.status == 0, "\(result)")
///
/// or, for a long-running one (`etl run`), `ChildProcess(product:…)` starts it; then `signal`,
/// `kill` or `wait`, reading `stdout` and `stderr` meanwhile.
///
/// Nothing here blocks a thread of Swift's cooperative pool (two threads on a two-core
/// machine): the exit is awaited through `Process.terminationHandler` and a continuation,
/// and stdout and stderr go to temporary files, which never fill up and block the program
/// (as a pipe nobody reads would), can be read at any time while it runs, and do not keep
/// the test waiting on a grandchild (a database cluster a script started) that inherited them.
public final class ChildProcess: @unchecked Sendable {
    // @unchecked: `process` is configured and started in `init` and afterwards only asked
    // for its (immutable) pid; everything that changes is in `box.state`, behind its mutex.

    /// How a program ended, and what it wrote.
    public struct Result: Sendable, CustomStringConvertible {
        /// The exit status, or the number of the signal that ended it (see `signalled`).
        public let status: Int32
        /// Whether a signal ended it (`status` is then the signal's number).
        public let signalled: Bool
        /// Whether it was killed for outliving its timeout.
        public let timedOut: Bool
        public let stdout: String
        public let stderr: String

        public var stdoutLines: [String] { stdout.split(separator: "\n").map(String.init) }
        public var stderrLines: [String] { stderr.split(separator: "\n").map(String.init) }
        public var description: String {
            let how = timedOut ? "timed out, killed" : signalled ? "signal \(status)" : "exit \(status)"
            return "\(how)\n--- stdout\n\(stdout.suffix(2000))\n--- stderr\n\(stderr.suffix(2000))"
        }
    }

    private struct State {
        var exit: (status: Int32, signalled: Bool)?
        var timedOut = false
        var waiters: [CheckedContinuation<Void, Never>] = []
    }

    /// The state, in a box of its own: the termination handler holds the box, not `self`
    /// (which would keep a running child's owner alive, and deinit from killing it).
    private final class Box: Sendable {
        let state = Mutex(State())
    }

    private let process = Process()
    private let directory: String
    private let box = Box()

    /// The process id.
    public let pid: Int32

    /// Starts `path` with `arguments`. `environment` is the whole environment (nil: this
    /// process's; see `inheritedEnvironment(merging:)`); `stdin` is what it reads (nil: nothing,
    /// at once end of file); `directory` its working directory.
    public init(
        path: String, _ arguments: [String], environment: [String: String]? = nil,
        stdin: String? = nil, directory: String? = nil
    ) throws {
        let files = FileManager.default
        self.directory = files.temporaryDirectory.appendingPathComponent(TestServices.uniqueName("child")).path
        try files.createDirectory(atPath: self.directory, withIntermediateDirectories: true)
        _ = files.createFile(atPath: self.directory + "/stdin", contents: Data((stdin ?? "").utf8))
        _ = files.createFile(atPath: self.directory + "/stdout", contents: nil)
        _ = files.createFile(atPath: self.directory + "/stderr", contents: nil)
        let input = try FileHandle(forReadingFrom: URL(fileURLWithPath: self.directory + "/stdin"))
        let output = try FileHandle(forWritingTo: URL(fileURLWithPath: self.directory + "/stdout"))
        let errors = try FileHandle(forWritingTo: URL(fileURLWithPath: self.directory + "/stderr"))
        defer {
            // The child has its own copies once it runs.
            try? input.close()
            try? output.close()
            try? errors.close()
        }
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        if let environment { process.environment = environment }
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        process.standardInput = input
        process.standardOutput = output
        process.standardError = errors
        // Set before `run`, so an exit however early is seen; runs on a thread of Foundation's.
        process.terminationHandler = { [box] process in
            let waiters = box.state.withLock { s in
                s.exit = (process.terminationStatus, process.terminationReason == .uncaughtSignal)
                defer { s.waiters = [] }
                return s.waiters
            }
            for waiter in waiters { waiter.resume() }
        }
        do {
            try process.run()
        } catch {
            try? files.removeItem(atPath: self.directory)
            throw error
        }
        pid = process.processIdentifier
    }

    /// Starts the product `name` of this package (see `TestServices.executable`).
    public convenience init(
        product name: String, _ arguments: [String], environment: [String: String]? = nil,
        stdin: String? = nil, directory: String? = nil
    ) throws {
        try self.init(path: try TestServices.executable(name), arguments, environment: environment, stdin: stdin, directory: directory)
    }

    /// Runs `path` to completion (killed after `timeout`) and returns how it ended.
    public static func run(
        path: String, _ arguments: [String], environment: [String: String]? = nil,
        stdin: String? = nil, directory: String? = nil, timeout: Duration = .seconds(120)
    ) async throws -> Result {
        let child = try ChildProcess(path: path, arguments, environment: environment, stdin: stdin, directory: directory)
        return await child.wait(timeout: timeout)
    }

    /// Runs the product `name` to completion (killed after `timeout`) and returns how it ended.
    public static func run(
        product name: String, _ arguments: [String], environment: [String: String]? = nil,
        stdin: String? = nil, directory: String? = nil, timeout: Duration = .seconds(120)
    ) async throws -> Result {
        try await run(path: try TestServices.executable(name), arguments, environment: environment, stdin: stdin,
                      directory: directory, timeout: timeout)
    }

    /// This process's environment with `extra` laid over it; an empty value removes the variable.
    public static func inheritedEnvironment(merging extra: [String: String] = [:]) -> [String: String] {
        var environment = ProcessInfo.processInfo.environment
        for (key, value) in extra { environment[key] = value.isEmpty ? nil : value }
        return environment
    }

    deinit {
        // A test that forgot its child must not leave it running.
        if isRunning { Glibc.kill(pid, SIGKILL) }
        try? FileManager.default.removeItem(atPath: directory)
    }

    // MARK: While it runs

    public var isRunning: Bool { box.state.withLock { $0.exit == nil } }

    /// What it wrote to stdout so far.
    public var stdout: String { read("stdout") }
    /// What it wrote to stderr so far.
    public var stderr: String { read("stderr") }

    private func read(_ name: String) -> String {
        String(decoding: FileManager.default.contents(atPath: directory + "/" + name) ?? Data(), as: UTF8.self)
    }

    /// Sends `signal` (SIGTERM, SIGINT, SIGUSR1…) unless it has exited already.
    public func signal(_ signal: Int32) {
        // Not after the termination handler has recorded the exit (the pid may be reused).
        box.state.withLock { s in
            if s.exit == nil { _ = Glibc.kill(pid, signal) }
        }
    }

    /// SIGKILL, then waits for the exit.
    @discardableResult
    public func kill() async -> Result {
        signal(SIGKILL)
        return await wait(timeout: .seconds(60))
    }

    /// Waits until stdout (or stderr) holds `text`, or the program exits, or `timeout` passes;
    /// whether it does.
    @discardableResult
    public func waitForOutput(
        _ text: String, inStderr: Bool = false, timeout: Duration = .seconds(60)
    ) async throws -> Bool {
        let deadline = ContinuousClock.now + timeout
        while true {
            if (inStderr ? stderr : stdout).contains(text) { return true }
            guard isRunning, ContinuousClock.now < deadline else { return (inStderr ? stderr : stdout).contains(text) }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    // MARK: Waiting for the exit

    /// Waits for the exit, killing the program (SIGKILL) if it runs `timeout` longer, and
    /// returns how it ended and everything it wrote.
    @discardableResult
    public func wait(timeout: Duration = .seconds(120)) async -> Result {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.exited() }
            group.addTask {
                guard (try? await Task.sleep(for: timeout)) != nil else { return }  // cancelled: it exited
                let killed = self.box.state.withLock { s in
                    guard s.exit == nil else { return false }
                    s.timedOut = true
                    _ = Glibc.kill(self.pid, SIGKILL)
                    return true
                }
                if killed { await self.exited() }
            }
            await group.next()
            group.cancelAll()
        }
        let (exit, timedOut) = box.state.withLock { ($0.exit!, $0.timedOut) }
        return Result(status: exit.status, signalled: exit.signalled, timedOut: timedOut, stdout: stdout, stderr: stderr)
    }

    /// Waits for the exit like `wait` and returns the exit status; one still running at
    /// `timeout` is killed and recorded as a test issue (with the end of its stderr), and -1
    /// returned.
    public func exitStatus(timeout: Duration = .seconds(120), sourceLocation: SourceLocation = #_sourceLocation) async -> Int32 {
        let result = await wait(timeout: timeout)
        guard !result.timedOut else {
            Issue.record("the program did not finish in time; stderr:\n\(result.stderr.suffix(2000))", sourceLocation: sourceLocation)
            return -1
        }
        return result.status
    }

    /// Returns once the termination handler has run.
    private func exited() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let done = box.state.withLock { s in
                if s.exit != nil { return true }
                s.waiters.append(continuation)
                return false
            }
            if done { continuation.resume() }
        }
    }
}
