import Foundation

/// A dedicated thread that runs one connection's jobs in order, so blocking libpq calls
/// never occupy Swift's cooperative thread pool.
///
/// `@unchecked Sendable` is safe because `jobs` and `accepting` are only read or written
/// while holding `condition`, and the jobs themselves are `@Sendable`; everything a job
/// touches that is not Sendable (the `PGconn` and its session) is reached only from the
/// worker thread, which runs one job at a time.
final class ConnectionWorker: @unchecked Sendable {
    private let condition = NSCondition()
    private var jobs: [@Sendable () -> Void] = []
    private var accepting = true

    init(name: String) {
        let thread = Thread { [self] in self.loop() }  // retains self until the loop ends
        thread.name = name
        thread.start()
    }

    /// Queues `job`; returns false (and drops it) once ``shutdown(after:)`` was called.
    @discardableResult
    func submit(_ job: @escaping @Sendable () -> Void) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        guard accepting else { return false }
        jobs.append(job)
        condition.signal()
        return true
    }

    /// Stops accepting jobs; the thread runs what is queued, then `last`, then exits.
    /// Returns false (and drops `last`) when already shut down.
    @discardableResult
    func shutdown(after last: @escaping @Sendable () -> Void) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        guard accepting else { return false }
        jobs.append(last)
        accepting = false
        condition.signal()
        return true
    }

    /// Runs `body` on the worker thread and returns its result to the awaiting task.
    func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            let queued = submit {
                continuation.resume(with: Result { try body() })
            }
            if !queued { continuation.resume(throwing: PostgresError(code: .connectionClosed)) }
        }
    }

    private func loop() {
        while true {
            condition.lock()
            while jobs.isEmpty && accepting { condition.wait() }
            if jobs.isEmpty {  // not accepting and drained
                condition.unlock()
                return
            }
            let batch = jobs
            jobs.removeAll(keepingCapacity: true)
            condition.unlock()
            for job in batch { job() }
        }
    }
}
