#if canImport(Glibc)
import Glibc
#endif

/// Reads a file descriptor in large chunks and yields its lines (without the newline,
/// `\r\n` accepted), with their 1-based numbers. Blank lines are skipped.
struct LineReader {
    private let descriptor: Int32
    private var buffer: [UInt8] = []
    private var start = 0
    private var finished = false
    private(set) var lineNumber = 0

    init(descriptor: Int32) {
        self.descriptor = descriptor
    }

    /// The next non-blank line, or nil at the end of input.
    mutating func next() throws -> (number: Int, bytes: ArraySlice<UInt8>)? {
        while true {
            if let newline = buffer[start...].firstIndex(of: UInt8(ascii: "\n")) {
                var end = newline
                if end > start && buffer[end - 1] == UInt8(ascii: "\r") { end -= 1 }
                let line = buffer[start..<end]
                start = newline + 1
                lineNumber += 1
                if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { continue }
                return (lineNumber, line)
            }
            if finished {
                guard start < buffer.count else { return nil }
                let line = buffer[start...]
                start = buffer.count
                lineNumber += 1
                if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0d }) { return nil }
                return (lineNumber, line)
            }
            try fill()
        }
    }

    private mutating func fill() throws {
        if start > 0 {
            buffer.removeFirst(start)
            start = 0
        }
        let chunk = 1 << 20
        let old = buffer.count
        buffer.append(contentsOf: repeatElement(0, count: chunk))
        let count = buffer.withUnsafeMutableBytes { raw in
            read(descriptor, raw.baseAddress! + old, chunk)
        }
        if count < 0 {
            buffer.removeLast(chunk)
            throw PipelineError(.input, "cannot read the input (errno \(errno))")
        }
        buffer.removeLast(chunk - count)
        if count == 0 { finished = true }
    }
}
