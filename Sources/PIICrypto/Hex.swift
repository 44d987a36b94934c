/// Lowercase hex encoding without Foundation (used on the token hot path).
enum Hex {
    @inline(__always)
    static func digit(_ nibble: UInt8) -> UInt8 {
        nibble &+ (nibble < 10 ? 0x30 : 0x57)
    }

    /// Lowercase hex of `bytes`.
    static func encode(_ bytes: UnsafeRawBufferPointer) -> String {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return "" }
        return encode(base.assumingMemoryBound(to: UInt8.self), count: bytes.count)
    }

    static func encode(_ bytes: [UInt8]) -> String {
        bytes.withUnsafeBytes { encode($0) }
    }

    /// Lowercase hex of the 32 bytes at `bytes` (a MAC or digest).
    @inline(__always)
    static func encode32(_ bytes: UnsafePointer<UInt8>) -> String {
        encode(bytes, count: 32)
    }

    @inline(__always)
    static func encode(_ bytes: UnsafePointer<UInt8>, count: Int) -> String {
        String(unsafeUninitializedCapacity: count &* 2) { out in
            let o = out.baseAddress!
            for i in 0..<count {
                let byte = bytes[i]
                o[2 &* i] = digit(byte &>> 4)
                o[2 &* i &+ 1] = digit(byte & 0x0f)
            }
            return count &* 2
        }
    }

    @inline(__always)
    static func value(_ c: UInt8) -> UInt8? {
        switch c {
        case 0x30...0x39: c - 0x30
        case 0x61...0x66: c - 0x57
        case 0x41...0x46: c - 0x37
        default: nil
        }
    }

    /// Decodes `hex` (even length, either case) into `out` (`hex.count / 2` bytes).
    static func decode(_ hex: UnsafeRawBufferPointer, into out: UnsafeMutableRawBufferPointer) -> Bool {
        guard hex.count == out.count * 2 else { return false }
        for i in 0..<out.count {
            guard let hi = value(hex[2 * i]), let lo = value(hex[2 * i + 1]) else { return false }
            out[i] = hi << 4 | lo
        }
        return true
    }
}

/// Lowercase hex of `bytes` (ids, check values, fingerprints).
public func lowercaseHex(_ bytes: some Collection<UInt8>) -> String {
    Hex.encode(Array(bytes))
}
