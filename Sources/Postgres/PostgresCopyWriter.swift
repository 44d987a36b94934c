/// Writes rows into a running `COPY … FROM STDIN` (text format), in ~64 KiB chunks.
///
/// Only valid inside the ``PostgresSession/copyIn(_:_:)`` body that received it.
public struct PostgresCopyWriter {
    static let chunkSize = 64 * 1024

    let connection: LibPQConnection
    private var buffer: [UInt8] = []
    /// Rows appended so far.
    public private(set) var rowCount = 0

    init(connection: LibPQConnection) {
        self.connection = connection
        buffer.reserveCapacity(Self.chunkSize + 4096)
    }

    /// Appends one row; its values must match the COPY's column list in number and order.
    public mutating func appendRow(_ values: [PostgresValue]) throws {
        let rowStart = buffer.count
        for (index, value) in values.enumerated() {
            if index > 0 { buffer.append(UInt8(ascii: "\t")) }
            do {
                try Self.appendField(value, to: &buffer)
            } catch {
                buffer.removeSubrange(rowStart...)
                throw PostgresError(code: .encodingFailed, reason: "COPY field \(index + 1) of row \(rowCount + 1) contains a NUL byte")
            }
        }
        buffer.append(UInt8(ascii: "\n"))
        rowCount += 1
        if buffer.count >= Self.chunkSize { try flush() }
    }

    /// Sends what is buffered.
    mutating func flush() throws {
        guard !buffer.isEmpty else { return }
        try buffer.withUnsafeBytes { try connection.putCopyData($0) }
        buffer.removeAll(keepingCapacity: true)
    }

    private struct NulByte: Error {}

    /// One field in COPY's text format: `\N` for NULL; backslash, tab, newline and carriage
    /// return escaped; bytea as `\\x` + hex (bytea's hex input, with its backslash escaped).
    static func appendField(_ value: PostgresValue, to buffer: inout [UInt8]) throws {
        switch value {
        case .null:
            buffer.append(UInt8(ascii: "\\"))
            buffer.append(UInt8(ascii: "N"))
        case .bytea(let bytes):
            buffer.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\"), UInt8(ascii: "x")])
            let start = buffer.count
            buffer.append(contentsOf: repeatElement(0, count: 2 * bytes.count))
            buffer.withUnsafeMutableBufferPointer { out in
                for (index, byte) in bytes.enumerated() {
                    out[start + 2 * index] = hexDigits[Int(byte >> 4)]
                    out[start + 2 * index + 1] = hexDigits[Int(byte & 0x0F)]
                }
            }
        case .text(let text):
            try appendEscaped(text, to: &buffer)
        default:
            buffer.append(contentsOf: (value.textForm ?? "").utf8)
        }
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)

    private static func appendEscaped(_ text: String, to buffer: inout [UInt8]) throws {
        // Most values (tokens, ids, dates, versions) hold no byte to escape: one copy.
        let plain = text.utf8.withContiguousStorageIfAvailable { utf8 -> Bool in
            guard !utf8.contains(where: { $0 <= UInt8(ascii: "\r") || $0 == UInt8(ascii: "\\") }) else { return false }
            buffer.append(contentsOf: utf8)
            return true
        }
        if plain == true { return }
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\\"): buffer.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
            case UInt8(ascii: "\t"): buffer.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
            case UInt8(ascii: "\n"): buffer.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
            case UInt8(ascii: "\r"): buffer.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
            case 0: throw NulByte()
            default: buffer.append(byte)
            }
        }
    }
}

@available(*, unavailable, message: "a COPY writer is bound to its connection's thread")
extension PostgresCopyWriter: Sendable {}
