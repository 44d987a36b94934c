// The message hot path: a strict RFC 8259 parser for one JSON value per message body.
// Standard library only (no Foundation): it runs once per message, ≥ 1M times a second.

/// A strict, allocation-light parser of ONE JSON value, on UTF-8 bytes, that extracts the six
/// top-level members of a login message.
///
/// Conformance (RFC 8259):
/// - The whole body must be exactly one JSON value, with optional whitespace (space, tab, LF,
///   CR) before and after it; anything after it is invalid. A UTF-8 byte order mark is not
///   whitespace and is rejected (RFC 8259 §8.1 lets parsers reject it).
/// - The top level must be an object; a valid non-object value gives `.notAnObject`.
/// - Every value is fully validated, also the ones that are skipped: nested objects and arrays
///   (at most ``maxDepth`` levels, counting the top-level object), numbers per the grammar
///   (`-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`, any magnitude), `true`/`false`/`null`.
/// - Strings: all escapes (`\" \\ \/ \b \f \n \r \t \uXXXX`); a `\uXXXX` surrogate must be a
///   high surrogate immediately followed by an escaped low surrogate (lone or reversed
///   surrogates are invalid); raw control characters (< 0x20) are invalid; the bytes must be
///   well-formed UTF-8 (no overlongs, no encoded surrogates, nothing above U+10FFFF).
/// - Keys are compared after unescaping (`"user\u005fid"` is `user_id`); duplicate keys: the
///   LAST occurrence wins (as in JSONSerialization/JavaScript); earlier ones are still validated.
///
/// `.invalidUTF8` is returned exactly when the body is not well-formed UTF-8 (whatever else is
/// wrong with it); otherwise an unparsable body is `.notJSON` (this includes nesting deeper
/// than ``maxDepth``).
struct JSONObjectScanner {
    /// The top-level members the pipeline reads.
    enum Key: Int, CaseIterable, Sendable {
        case userID, deviceType, ip, locale, deviceID, appVersion

        /// The JSON member name.
        var name: String {
            switch self {
            case .userID: "user_id"
            case .deviceType: "device_type"
            case .ip: "ip"
            case .locale: "locale"
            case .deviceID: "device_id"
            case .appVersion: "app_version"
            }
        }
    }

    /// What a top-level member holds.
    enum Value: Sendable, Equatable {
        case absent
        case null
        case string(String)
        /// A number, boolean, object or array (validated, not decoded).
        case other
    }

    /// The six members (``Value/absent`` when the object does not have them).
    struct Fields: Sendable, Equatable {
        var userID = Value.absent
        var deviceType = Value.absent
        var ip = Value.absent
        var locale = Value.absent
        var deviceID = Value.absent
        var appVersion = Value.absent
        /// Bit `key.rawValue` set when the scanner decoded that member's string from escapes
        /// (only those can contain U+0000: a raw NUL byte is invalid JSON). A hint for callers
        /// that must look for characters that need escaping; not part of `==`.
        var escapedKeys: UInt8 = 0

        /// Whether the string member `key` was decoded from escapes (see ``escapedKeys``).
        func isEscaped(_ key: Key) -> Bool { escapedKeys & (1 << UInt8(key.rawValue)) != 0 }

        static func == (lhs: Fields, rhs: Fields) -> Bool {
            lhs.userID == rhs.userID && lhs.deviceType == rhs.deviceType && lhs.ip == rhs.ip
                && lhs.locale == rhs.locale && lhs.deviceID == rhs.deviceID && lhs.appVersion == rhs.appVersion
        }

        subscript(key: Key) -> Value {
            get {
                switch key {
                case .userID: userID
                case .deviceType: deviceType
                case .ip: ip
                case .locale: locale
                case .deviceID: deviceID
                case .appVersion: appVersion
                }
            }
            set {
                switch key {
                case .userID: userID = newValue
                case .deviceType: deviceType = newValue
                case .ip: ip = newValue
                case .locale: locale = newValue
                case .deviceID: deviceID = newValue
                case .appVersion: appVersion = newValue
                }
            }
        }
    }

    enum Failure: Error, Sendable, Equatable {
        /// Not one well-formed JSON value (or nested deeper than ``JSONObjectScanner/maxDepth``).
        case notJSON
        /// One well-formed JSON value, but not an object.
        case notAnObject
        /// The body is not well-formed UTF-8.
        case invalidUTF8
    }

    /// Maximum nesting of objects and arrays, the top-level object counting as 1.
    static let maxDepth = 64

    /// Scans `bytes` (one message body).
    static func scan(_ bytes: UnsafeBufferPointer<UInt8>) -> Result<Fields, Failure> {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return .failure(.notJSON) }
        var cursor = Cursor(base: base, count: bytes.count)
        do throws(Failure) {
            return .success(try cursor.scanTopLevel())
        } catch .notJSON {
            // Cold path: report invalid UTF-8 whenever the body is not UTF-8 at all.
            return .failure(UTF8Check.isValid(base, count: bytes.count) ? .notJSON : .invalidUTF8)
        } catch {
            return .failure(error)
        }
    }

    /// Scans `bytes` (one message body).
    static func scan(_ bytes: [UInt8]) -> Result<Fields, Failure> {
        bytes.withUnsafeBufferPointer { scan($0) }
    }

    /// Scans the UTF-8 of `string` (no copy when the string is native).
    static func scan(_ string: String) -> Result<Fields, Failure> {
        if let result = string.utf8.withContiguousStorageIfAvailable({ scan($0) }) { return result }
        return scan(Array(string.utf8))
    }
}

// MARK: - Bytes

private enum Byte {
    static let quote: UInt8 = 0x22  // "
    static let backslash: UInt8 = 0x5C  // \
    static let slash: UInt8 = 0x2F  // /
    static let comma: UInt8 = 0x2C  // ,
    static let colon: UInt8 = 0x3A  // :
    static let openBrace: UInt8 = 0x7B  // {
    static let closeBrace: UInt8 = 0x7D  // }
    static let openBracket: UInt8 = 0x5B  // [
    static let closeBracket: UInt8 = 0x5D  // ]
    static let minus: UInt8 = 0x2D  // -
    static let plus: UInt8 = 0x2B  // +
    static let dot: UInt8 = 0x2E  // .
    static let zero: UInt8 = 0x30
    static let nine: UInt8 = 0x39
    static let lowerE: UInt8 = 0x65
    static let upperE: UInt8 = 0x45
    static let lowerT: UInt8 = 0x74
    static let lowerF: UInt8 = 0x66
    static let lowerN: UInt8 = 0x6E
    static let lowerU: UInt8 = 0x75
    static let lowerB: UInt8 = 0x62
    static let lowerR: UInt8 = 0x72

    @inline(__always) static func isDigit(_ b: UInt8) -> Bool { b &- zero <= 9 }
}

// MARK: - UTF-8 validation

extension JSONObjectScanner {
    enum UTF8Check {
        /// Length of the well-formed UTF-8 sequence (2–4 bytes) whose lead byte (≥ 0x80) is at
        /// `p[i]`, or 0 when it is ill-formed or truncated at `count` (Unicode Table 3-7).
        @inline(__always)
        static func sequenceLength(_ p: UnsafePointer<UInt8>, _ i: Int, _ count: Int) -> Int {
            let b0 = p[i]
            if b0 < 0xC2 { return 0 }  // continuation byte or overlong 2-byte lead
            if b0 < 0xE0 {
                guard i + 1 < count, p[i + 1] & 0xC0 == 0x80 else { return 0 }
                return 2
            }
            if b0 < 0xF0 {
                guard i + 2 < count else { return 0 }
                let b1 = p[i + 1]
                let low: UInt8 = b0 == 0xE0 ? 0xA0 : 0x80  // no overlongs
                let high: UInt8 = b0 == 0xED ? 0x9F : 0xBF  // no surrogates
                guard b1 >= low, b1 <= high, p[i + 2] & 0xC0 == 0x80 else { return 0 }
                return 3
            }
            if b0 < 0xF5 {
                guard i + 3 < count else { return 0 }
                let b1 = p[i + 1]
                let low: UInt8 = b0 == 0xF0 ? 0x90 : 0x80  // no overlongs
                let high: UInt8 = b0 == 0xF4 ? 0x8F : 0xBF  // ≤ U+10FFFF
                guard b1 >= low, b1 <= high, p[i + 2] & 0xC0 == 0x80, p[i + 3] & 0xC0 == 0x80 else { return 0 }
                return 4
            }
            return 0
        }

        /// Whether `count` bytes at `p` are well-formed UTF-8.
        static func isValid(_ p: UnsafePointer<UInt8>, count: Int) -> Bool {
            var i = 0
            while i < count {
                if p[i] < 0x80 {
                    i += 1
                } else {
                    let n = sequenceLength(p, i, count)
                    if n == 0 { return false }
                    i += n
                }
            }
            return true
        }
    }
}

// MARK: - Cursor

extension JSONObjectScanner {
    /// The parsing state over one body. Every read is preceded by an `i < count` check (except
    /// in `unescape`, which re-reads a range `scanString` has already validated).
    fileprivate struct Cursor {
        let base: UnsafePointer<UInt8>
        let count: Int
        var i = 0
        /// Unescaped bytes of the current string (only used for strings with escapes).
        var scratch: [UInt8] = []

        init(base: UnsafePointer<UInt8>, count: Int) {
            self.base = base
            self.count = count
        }

        // MARK: Top level

        mutating func scanTopLevel() throws(Failure) -> Fields {
            skipWhitespace()
            guard i < count else { throw .notJSON }
            guard base[i] == Byte.openBrace else {
                try skipValue(depth: 0)
                skipWhitespace()
                throw i == count ? .notAnObject : .notJSON
            }
            i += 1
            var fields = Fields()
            skipWhitespace()
            guard i < count else { throw .notJSON }
            if base[i] == Byte.closeBrace {
                i += 1
            } else {
                while true {
                    guard i < count, base[i] == Byte.quote else { throw .notJSON }
                    i += 1
                    let key = try scanKey()
                    skipWhitespace()
                    guard i < count, base[i] == Byte.colon else { throw .notJSON }
                    i += 1
                    skipWhitespace()
                    guard i < count else { throw .notJSON }
                    if let key {
                        let bit = UInt8(1) << UInt8(key.rawValue)
                        let (value, escaped) = try scanMemberValue()
                        fields[key] = value
                        fields.escapedKeys = escaped ? fields.escapedKeys | bit : fields.escapedKeys & ~bit
                    } else {
                        try skipValue(depth: 1)
                    }
                    skipWhitespace()
                    guard i < count else { throw .notJSON }
                    let b = base[i]
                    i += 1
                    if b == Byte.comma {
                        skipWhitespace()
                        continue
                    }
                    if b == Byte.closeBrace { break }
                    throw .notJSON
                }
            }
            skipWhitespace()
            guard i == count else { throw .notJSON }
            return fields
        }

        /// The value of a member we read (and whether it is a string with escapes); `i` is at
        /// its first byte (in bounds).
        @inline(__always)
        mutating func scanMemberValue() throws(Failure) -> (Value, escaped: Bool) {
            switch base[i] {
            case Byte.quote:
                i += 1
                let (start, end, escaped) = try scanString()
                if escaped {
                    unescape(start, end)
                    return (.string(String(decoding: scratch, as: UTF8.self)), true)
                }
                return (.string(String(decoding: UnsafeBufferPointer(start: base + start, count: end - start), as: UTF8.self)), false)
            case Byte.lowerN:
                try expectLiteral("null")
                return (.null, false)
            default:
                try skipValue(depth: 1)
                return (.other, false)
            }
        }

        /// A top-level key after its opening quote: which ``Key`` it is, if any.
        @inline(__always)
        mutating func scanKey() throws(Failure) -> Key? {
            let (start, end, escaped) = try scanString()
            if !escaped {
                return Cursor.match(base + start, end - start)
            }
            unescape(start, end)
            return scratch.withUnsafeBufferPointer { buffer in
                buffer.baseAddress.flatMap { Cursor.match($0, buffer.count) }
            }
        }

        @inline(__always)
        static func match(_ p: UnsafePointer<UInt8>, _ n: Int) -> Key? {
            switch n {
            case 2: return equals(p, "ip") ? .ip : nil
            case 6: return equals(p, "locale") ? .locale : nil
            case 7: return equals(p, "user_id") ? .userID : nil
            case 9: return equals(p, "device_id") ? .deviceID : nil
            case 11:
                if equals(p, "device_type") { return .deviceType }
                if equals(p, "app_version") { return .appVersion }
                return nil
            default: return nil
            }
        }

        /// Whether `name.utf8CodeUnitCount` bytes at `p` are `name`.
        @inline(__always)
        static func equals(_ p: UnsafePointer<UInt8>, _ name: StaticString) -> Bool {
            let q = name.utf8Start
            for k in 0..<name.utf8CodeUnitCount where p[k] != q[k] { return false }
            return true
        }

        // MARK: Whitespace and literals

        @inline(__always)
        mutating func skipWhitespace() {
            while i < count {
                let b = base[i]
                guard b == 0x20 || b == 0x0A || b == 0x0D || b == 0x09 else { return }
                i += 1
            }
        }

        @inline(__always)
        mutating func expectLiteral(_ literal: StaticString) throws(Failure) {
            let n = literal.utf8CodeUnitCount
            guard count - i >= n, Cursor.equals(base + i, literal) else { throw .notJSON }
            i += n
        }

        // MARK: Values

        /// Validates one value starting at `i` (in bounds or not) inside `depth` containers.
        mutating func skipValue(depth: Int) throws(Failure) {
            guard i < count else { throw .notJSON }
            switch base[i] {
            case Byte.quote:
                i += 1
                _ = try scanString()
            case Byte.openBrace:
                guard depth < maxDepth else { throw .notJSON }
                i += 1
                skipWhitespace()
                guard i < count else { throw .notJSON }
                if base[i] == Byte.closeBrace {
                    i += 1
                    return
                }
                while true {
                    guard i < count, base[i] == Byte.quote else { throw .notJSON }
                    i += 1
                    _ = try scanString()
                    skipWhitespace()
                    guard i < count, base[i] == Byte.colon else { throw .notJSON }
                    i += 1
                    skipWhitespace()
                    try skipValue(depth: depth + 1)
                    skipWhitespace()
                    guard i < count else { throw .notJSON }
                    let b = base[i]
                    i += 1
                    if b == Byte.comma {
                        skipWhitespace()
                        continue
                    }
                    if b == Byte.closeBrace { return }
                    throw .notJSON
                }
            case Byte.openBracket:
                guard depth < maxDepth else { throw .notJSON }
                i += 1
                skipWhitespace()
                guard i < count else { throw .notJSON }
                if base[i] == Byte.closeBracket {
                    i += 1
                    return
                }
                while true {
                    try skipValue(depth: depth + 1)
                    skipWhitespace()
                    guard i < count else { throw .notJSON }
                    let b = base[i]
                    i += 1
                    if b == Byte.comma {
                        skipWhitespace()
                        continue
                    }
                    if b == Byte.closeBracket { return }
                    throw .notJSON
                }
            case Byte.lowerT:
                try expectLiteral("true")
            case Byte.lowerF:
                try expectLiteral("false")
            case Byte.lowerN:
                try expectLiteral("null")
            case Byte.minus, Byte.zero...Byte.nine:
                try skipNumber()
            default:
                throw .notJSON
            }
        }

        /// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`; what follows is the caller's business.
        mutating func skipNumber() throws(Failure) {
            if base[i] == Byte.minus { i += 1 }
            guard i < count else { throw .notJSON }
            let first = base[i]
            if first == Byte.zero {
                i += 1
            } else if Byte.isDigit(first) {
                i += 1
                skipDigits()
            } else {
                throw .notJSON
            }
            if i < count, base[i] == Byte.dot {
                i += 1
                guard i < count, Byte.isDigit(base[i]) else { throw .notJSON }
                skipDigits()
            }
            if i < count, base[i] == Byte.lowerE || base[i] == Byte.upperE {
                i += 1
                if i < count, base[i] == Byte.plus || base[i] == Byte.minus { i += 1 }
                guard i < count, Byte.isDigit(base[i]) else { throw .notJSON }
                skipDigits()
            }
        }

        @inline(__always)
        mutating func skipDigits() {
            while i < count, Byte.isDigit(base[i]) { i += 1 }
        }

        // MARK: Strings

        /// Validates a string whose opening quote has been consumed; leaves `i` after the closing
        /// quote. Returns the raw content's byte range and whether it contains escapes.
        @inline(__always)
        mutating func scanString() throws(Failure) -> (start: Int, end: Int, escaped: Bool) {
            let start = i
            var escaped = false
            while true {
                // Fast path: skip printable ASCII other than `"` and `\`, 8 bytes at a time, to
                // the first byte that needs attention.
                while count - i >= 8 {
                    let word = UnsafeRawPointer(base + i).loadUnaligned(as: UInt64.self)
                    let mask = Cursor.attentionMask(word)
                    if mask != 0 {
                        i += Cursor.firstMarkedByte(mask)
                        break
                    }
                    i += 8
                }
                guard i < count else { throw .notJSON }
                let b = base[i]
                if b == Byte.quote {
                    let end = i
                    i += 1
                    return (start, end, escaped)
                }
                if b == Byte.backslash {
                    escaped = true
                    i += 1
                    try validateEscape()
                } else if b < 0x20 {
                    throw .notJSON
                } else if b < 0x80 {
                    i += 1
                } else {
                    let n = UTF8Check.sequenceLength(base, i, count)
                    guard n != 0 else { throw .invalidUTF8 }
                    i += n
                }
            }
        }

        /// The high bit of every byte of `word` that is `"`, `\`, < 0x20 or ≥ 0x80, exactly
        /// (SWAR without carries between bytes).
        @inline(__always)
        static func attentionMask(_ word: UInt64) -> UInt64 {
            let low7: UInt64 = 0x7F7F_7F7F_7F7F_7F7F
            let highs: UInt64 = 0x8080_8080_8080_8080
            let ones: UInt64 = 0x0101_0101_0101_0101
            let seven = word & low7
            // High bit clear after adding 0x60 to the low 7 bits ⇔ byte < 0x20 (for ASCII).
            let control = ~((seven &+ 0x6060_6060_6060_6060) | word)
            // High bit clear after adding 0x7F to the low 7 bits of x ⇔ x's byte is 0.
            @inline(__always) func zeroBytes(_ x: UInt64) -> UInt64 { ~(((x & low7) &+ low7) | x) }
            let quote = zeroBytes(word ^ (ones &* UInt64(Byte.quote)))
            let backslash = zeroBytes(word ^ (ones &* UInt64(Byte.backslash)))
            return (word | control | quote | backslash) & highs
        }

        /// The offset (0–7) of the first byte in memory order marked in a non-zero `mask`.
        @inline(__always)
        static func firstMarkedByte(_ mask: UInt64) -> Int {
            #if _endian(little)
                mask.trailingZeroBitCount >> 3
            #else
                mask.leadingZeroBitCount >> 3
            #endif
        }

        /// Validates the escape after a backslash (at `i`) and moves past it.
        mutating func validateEscape() throws(Failure) {
            guard i < count else { throw .notJSON }
            switch base[i] {
            case Byte.quote, Byte.backslash, Byte.slash, Byte.lowerB, Byte.lowerF, Byte.lowerN, Byte.lowerR, Byte.lowerT:
                i += 1
            case Byte.lowerU:
                i += 1
                let unit = try hex4()
                switch unit {
                case 0xD800...0xDBFF:
                    guard count - i >= 2, base[i] == Byte.backslash, base[i + 1] == Byte.lowerU else { throw .notJSON }
                    i += 2
                    guard (0xDC00...0xDFFF).contains(try hex4()) else { throw .notJSON }
                case 0xDC00...0xDFFF:
                    throw .notJSON  // lone low surrogate
                default:
                    break
                }
            default:
                throw .notJSON
            }
        }

        /// Four hex digits at `i` (moves past them).
        @inline(__always)
        mutating func hex4() throws(Failure) -> UInt32 {
            guard count - i >= 4 else { throw .notJSON }
            var value: UInt32 = 0
            for k in 0..<4 {
                guard let digit = Cursor.hexValue(base[i + k]) else { throw .notJSON }
                value = value << 4 | digit
            }
            i += 4
            return value
        }

        @inline(__always)
        static func hexValue(_ b: UInt8) -> UInt32? {
            switch b {
            case 0x30...0x39: UInt32(b - 0x30)
            case 0x41...0x46: UInt32(b - 0x41 + 10)
            case 0x61...0x66: UInt32(b - 0x61 + 10)
            default: nil
            }
        }

        /// Decodes the already validated raw string content `start..<end` into `scratch`.
        mutating func unescape(_ start: Int, _ end: Int) {
            scratch.removeAll(keepingCapacity: true)
            var k = start
            while k < end {
                let b = base[k]
                guard b == Byte.backslash else {
                    scratch.append(b)
                    k += 1
                    continue
                }
                let e = base[k + 1]
                k += 2
                switch e {
                case Byte.lowerB: scratch.append(0x08)
                case Byte.lowerF: scratch.append(0x0C)
                case Byte.lowerN: scratch.append(0x0A)
                case Byte.lowerR: scratch.append(0x0D)
                case Byte.lowerT: scratch.append(0x09)
                case Byte.lowerU:
                    var scalar = Cursor.hex4Unchecked(base + k)
                    k += 4
                    if scalar >= 0xD800, scalar <= 0xDBFF {  // validated: a low surrogate follows
                        let low = Cursor.hex4Unchecked(base + k + 2)
                        k += 6
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    }
                    appendUTF8(scalar)
                default: scratch.append(e)  // " \ /
                }
            }
        }

        @inline(__always)
        static func hex4Unchecked(_ p: UnsafePointer<UInt8>) -> UInt32 {
            var value: UInt32 = 0
            for k in 0..<4 { value = value << 4 | (hexValue(p[k]) ?? 0) }
            return value
        }

        mutating func appendUTF8(_ scalar: UInt32) {
            switch scalar {
            case ..<0x80:
                scratch.append(UInt8(scalar))
            case ..<0x800:
                scratch.append(UInt8(0xC0 | scalar >> 6))
                scratch.append(UInt8(0x80 | scalar & 0x3F))
            case ..<0x10000:
                scratch.append(UInt8(0xE0 | scalar >> 12))
                scratch.append(UInt8(0x80 | scalar >> 6 & 0x3F))
                scratch.append(UInt8(0x80 | scalar & 0x3F))
            default:
                scratch.append(UInt8(0xF0 | scalar >> 18))
                scratch.append(UInt8(0x80 | scalar >> 12 & 0x3F))
                scratch.append(UInt8(0x80 | scalar >> 6 & 0x3F))
                scratch.append(UInt8(0x80 | scalar & 0x3F))
            }
        }
    }
}
