/// Tokens as the operator types them: 64 hexadecimal characters (SPEC §3).
public enum VaultToken {
    /// The token in canonical form (surrounding whitespace trimmed, lowercase), or nil when it
    /// is not exactly 64 hex digits. Only canonical tokens ever reach SQL or the audit log, so
    /// a mistyped value (perhaps an address pasted by mistake) is never stored anywhere.
    public static func normalize<S: StringProtocol>(_ raw: S) -> String? {
        // Fast path: already canonical (what --stdin from a query gives), no copy needed.
        if raw.utf8.count == 64, raw.utf8.allSatisfy({ isLowerHex($0) }) { return String(raw) }
        var utf8 = Substring(raw).utf8[...]
        while let first = utf8.first, isSpace(first) { utf8.removeFirst() }
        while let last = utf8.last, isSpace(last) { utf8.removeLast() }
        guard utf8.count == 64 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(64)
        for byte in utf8 {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "a")...UInt8(ascii: "f"):
                bytes.append(byte)
            case UInt8(ascii: "A")...UInt8(ascii: "F"):
                bytes.append(byte + 32)
            default:
                return nil
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Splits input (one token per line, as `--stdin` reads it) into lines, skipping blank
    /// ones. Works on bytes: 100,000 lines must not cost a grapheme-breaking pass.
    public static func lines(_ bytes: [UInt8]) -> [String] {
        var lines: [String] = []
        lines.reserveCapacity(bytes.count / 65 + 1)
        bytes.withUnsafeBufferPointer { buffer in
            var start = 0
            for index in 0...buffer.count {
                guard index == buffer.count || buffer[index] == 0x0a || buffer[index] == 0x0d else { continue }
                var lower = start, upper = index
                while lower < upper, isSpace(buffer[lower]) { lower += 1 }
                while upper > lower, isSpace(buffer[upper - 1]) { upper -= 1 }
                if lower < upper {
                    lines.append(String(decoding: UnsafeBufferPointer(rebasing: buffer[lower..<upper]), as: UTF8.self))
                }
                start = index + 1
            }
        }
        return lines
    }

    /// A shortened form for messages about input that is not a token: its length only, so a
    /// value pasted by mistake is not echoed.
    static func describeMalformed<S: StringProtocol>(_ raw: S) -> String {
        "malformed token (\(raw.count) characters; expected 64 hex digits)"
    }

    private static func isLowerHex(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "f"))
    }

    private static func isSpace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0d || byte == 0x0a
    }
}
