import Foundation
import Synchronization

/// A one-line progress display of a long run on a terminal (stderr), quiet otherwise; at
/// most four updates a second.
final class TerminalProgress: Sendable {
    private let enabled: Bool
    private let last = Mutex((time: ContinuousClock.now - .seconds(1), label: ""))

    init(enabled: Bool) { self.enabled = enabled }

    func update(_ label: String, _ done: Int, _ total: Int, unit: String) {
        guard enabled else { return }
        let (show, newLine) = last.withLock { last -> (Bool, Bool) in
            let newLine = !last.label.isEmpty && last.label != label
            guard newLine || ContinuousClock.now - last.time >= .milliseconds(250) || done >= total else { return (false, false) }
            last = (ContinuousClock.now, label)
            return (true, newLine)
        }
        if show {
            FileHandle.standardError.write(Data("\(newLine ? "\n" : "\r")\(label): \(done)/\(total) \(unit)   ".utf8))
        }
    }

    func finish() {
        if enabled { FileHandle.standardError.write(Data("\n".utf8)) }
    }
}
