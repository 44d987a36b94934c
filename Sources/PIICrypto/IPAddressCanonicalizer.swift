#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Canonical text for IP addresses, so that every spelling of one address gets one token.
///
/// IPv4 is parsed with `inet_pton` (which refuses leading zeros, octal, short forms and
/// trailing junk) and re-printed as a dotted quad. IPv6 is parsed with `inet_pton` and printed
/// per RFC 5952: lowercase, no leading zeros, the longest run (first on a tie) of two or more
/// zero groups as `::`, and IPv4-mapped addresses as `::ffff:a.b.c.d`. Anything that does not
/// parse (names, zone ids, ports, garbage) is returned unchanged.
public enum IPAddressCanonicalizer {
    /// Longest canonical form: `ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255` is 45 bytes,
    /// and longer input cannot be an address.
    static let maxTextLength = 45

    /// Bytes a caller must provide to ``canonicalize(_:into:)``.
    static let bufferSize = 64

    /// The canonical text of `value`, or `value` itself when it is not an IP address.
    public static func canonical(_ value: String) -> String {
        var value = value
        return value.withUTF8 { utf8 in
            withUnsafeTemporaryAllocation(of: UInt8.self, capacity: bufferSize) { buffer in
                guard let length = canonicalize(utf8, into: buffer.baseAddress!) else { return nil }
                return String(decoding: UnsafeBufferPointer(start: buffer.baseAddress!, count: length), as: UTF8.self)
            }
        } ?? value
    }

    /// Writes the canonical UTF-8 of the address in `utf8` to `out` (at least ``bufferSize``
    /// bytes) and returns its length, or returns `nil` if `utf8` is not an IP address.
    static func canonicalize(_ utf8: UnsafeBufferPointer<UInt8>, into out: UnsafeMutablePointer<UInt8>) -> Int? {
        let length = utf8.count
        guard length >= 2, length <= maxTextLength, let source = utf8.baseAddress else { return nil }
        // Fast path: a dotted quad is already canonical exactly when inet_pton(AF_INET) accepts
        // it (glibc refuses leading zeros, so every accepted IPv4 text re-prints as itself).
        // Even a disagreement could not change a token: for colon-free text, "address" and "not
        // an address" both hash the input bytes unchanged.
        if isDottedQuad(source, length) {
            out.update(from: source, count: length)
            return length
        }
        // `out` first holds a NUL-terminated copy for inet_pton (an embedded NUL would let it see
        // only a prefix), then the canonical text.
        var sawColon = false
        for i in 0..<length {
            let c = source[i]
            if c == 0 { return nil }
            if c == UInt8(ascii: ":") { sawColon = true }
            out[i] = c
        }
        out[length] = 0
        var address = (UInt64(0), UInt64(0))
        return withUnsafeMutableBytes(of: &address) { raw -> Int? in
            let text = UnsafeRawPointer(out).assumingMemoryBound(to: CChar.self)
            if sawColon {
                guard inet_pton(AF_INET6, text, raw.baseAddress) == 1 else { return nil }
                return formatIPv6(UnsafeRawBufferPointer(raw), into: out)
            } else {
                guard inet_pton(AF_INET, text, raw.baseAddress) == 1 else { return nil }
                return formatIPv4(UnsafeRawBufferPointer(rebasing: raw[0..<4]), into: out, at: 0)
            }
        }
    }

    /// Whether `text` is four decimal octets `0`–`255` without leading zeros, separated by
    /// dots: the exact set of strings inet_pton(AF_INET) accepts. Anything else (including
    /// IPv4 spellings inet_pton refuses) takes the inet_pton path.
    @inline(__always)
    static func isDottedQuad(_ text: UnsafePointer<UInt8>, _ length: Int) -> Bool {
        guard length >= 7, length <= 15 else { return false }
        var octets = 0
        var digits = 0
        var value = 0
        var first: UInt8 = 0
        for i in 0..<length {
            let c = text[i]
            if c == UInt8(ascii: ".") {
                guard digits > 0, octets < 3 else { return false }
                octets += 1
                digits = 0
                value = 0
            } else if c >= 0x30, c <= 0x39 {
                if digits == 0 { first = c }
                digits += 1
                value = value * 10 + Int(c - 0x30)
                guard digits <= 3, value <= 255, !(digits > 1 && first == 0x30) else { return false }
            } else {
                return false
            }
        }
        return octets == 3 && digits > 0
    }

    /// Writes `a.b.c.d` at `start`; returns the end index.
    private static func formatIPv4(_ b: UnsafeRawBufferPointer, into out: UnsafeMutablePointer<UInt8>, at start: Int) -> Int {
        var i = start
        for k in 0..<4 {
            if k > 0 { out[i] = UInt8(ascii: "."); i += 1 }
            let v = b[k]
            if v >= 100 { out[i] = 0x30 + v / 100; i += 1 }
            if v >= 10 { out[i] = 0x30 + (v / 10) % 10; i += 1 }
            out[i] = 0x30 + v % 10; i += 1
        }
        return i
    }

    /// RFC 5952 text of a 16-byte IPv6 address; returns its length.
    private static func formatIPv6(_ b: UnsafeRawBufferPointer, into out: UnsafeMutablePointer<UInt8>) -> Int {
        var groups: (UInt16, UInt16, UInt16, UInt16, UInt16, UInt16, UInt16, UInt16) = (0, 0, 0, 0, 0, 0, 0, 0)
        return withUnsafeMutableBytes(of: &groups) { raw in
            let g = raw.bindMemory(to: UInt16.self)
            for k in 0..<8 { g[k] = UInt16(b[2 * k]) << 8 | UInt16(b[2 * k + 1]) }

            // IPv4-mapped (::ffff:0:0/96): RFC 5952 §5 mixed notation.
            if g[0] == 0, g[1] == 0, g[2] == 0, g[3] == 0, g[4] == 0, g[5] == 0xffff {
                let prefix: StaticString = "::ffff:"
                var i = 0
                prefix.withUTF8Buffer { for c in $0 { out[i] = c; i += 1 } }
                return formatIPv4(UnsafeRawBufferPointer(rebasing: b[12..<16]), into: out, at: i)
            }

            // Longest run of zero groups, length >= 2, first one on a tie (RFC 5952 §4.2).
            var bestStart = -1, bestLength = 0, runStart = -1
            for k in 0...8 {
                if k < 8, g[k] == 0 {
                    if runStart < 0 { runStart = k }
                } else if runStart >= 0 {
                    let runLength = k - runStart
                    if runLength > bestLength { bestStart = runStart; bestLength = runLength }
                    runStart = -1
                }
            }
            if bestLength < 2 { bestStart = -1 }

            var i = 0
            var k = 0
            while k < 8 {
                if k == bestStart {
                    out[i] = UInt8(ascii: ":"); i += 1
                    if k == 0 { out[i] = UInt8(ascii: ":"); i += 1 }
                    k += bestLength
                    continue
                }
                i = writeHexGroup(g[k], into: out, at: i)
                if k < 7 { out[i] = UInt8(ascii: ":"); i += 1 }
                k += 1
            }
            return i
        }
    }

    /// Lowercase hex of one group without leading zeros.
    @inline(__always)
    private static func writeHexGroup(_ value: UInt16, into out: UnsafeMutablePointer<UInt8>, at start: Int) -> Int {
        var i = start
        var started = false
        for shift in stride(from: 12, through: 0, by: -4) {
            let nibble = UInt8((value >> UInt16(shift)) & 0xf)
            if nibble != 0 || started || shift == 0 {
                out[i] = Hex.digit(nibble); i += 1
                started = true
            }
        }
        return i
    }
}
