import Dispatch
import Synchronization

/// A value computed on a background thread while the caller does something else (the next
/// replay step is transformed while the current one is written); ``value()`` waits for it.
/// For callers on a thread of their own (a connection's), never on the cooperative pool.
final class BackgroundWork<Value: Sendable>: Sendable {
    private let result = Mutex<Result<Value, any Error>?>(nil)
    private let done = DispatchSemaphore(value: 0)

    init(_ work: @escaping @Sendable () throws -> Value) {
        DispatchQueue.global().async { [self] in
            let outcome = Result { try work() }
            result.withLock { $0 = outcome }
            done.signal()
        }
    }

    /// Waits for the work; returns its value or throws its error.
    func value() throws -> Value {
        done.wait()
        done.signal()  // a second call does not wait forever
        return try result.withLock { $0! }.get()
    }
}
