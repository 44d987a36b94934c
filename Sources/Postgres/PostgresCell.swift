/// One value of a result row, in PostgreSQL's text format, with typed accessors.
///
/// The optional accessors return nil for NULL and for text that does not parse as the
/// type; the `require…` variants throw instead (naming the column, never the value).
public struct PostgresCell: Sendable {
    /// The column's name.
    public let column: String
    let value: String?
    let isMissing: Bool

    init(column: String, value: String?, isMissing: Bool = false) {
        self.column = column
        self.value = value
        self.isMissing = isMissing
    }

    /// True for SQL NULL (and for a column the result does not have).
    public var isNull: Bool { value == nil }

    /// The text form, as the server sent it.
    public var string: String? { value }

    /// The value as an integer (`smallint`, `integer`, `bigint`).
    public var int: Int64? { value.flatMap { Int64($0) } }

    /// The value as a boolean (`t`/`f`, as the server sends `boolean`).
    public var bool: Bool? {
        switch value {
        case "t", "true": return true
        case "f", "false": return false
        default: return nil
        }
    }

    /// The value as a double (`double precision`, `real`, `numeric`), including NaN and infinities.
    public var double: Double? {
        switch value {
        case nil: return nil
        case "NaN": return .nan
        case "Infinity": return .infinity
        case "-Infinity": return -.infinity
        case let text?: return Double(text)
        }
    }

    /// The value as bytes: a `bytea` in hex (`\x…`) or escape output format.
    public var bytes: [UInt8]? { value.flatMap(ByteaText.decode) }

    /// ``string``, or throws when NULL.
    public func requireString() throws -> String {
        guard let value else { throw failure("is NULL") }
        return value
    }

    /// ``int``, or throws when NULL or not an integer.
    public func requireInt() throws -> Int64 {
        guard let int else { throw failure(value == nil ? "is NULL" : "is not an integer") }
        return int
    }

    /// ``bool``, or throws when NULL or not a boolean.
    public func requireBool() throws -> Bool {
        guard let bool else { throw failure(value == nil ? "is NULL" : "is not a boolean") }
        return bool
    }

    /// ``double``, or throws when NULL or not a number.
    public func requireDouble() throws -> Double {
        guard let double else { throw failure(value == nil ? "is NULL" : "is not a number") }
        return double
    }

    /// ``bytes``, or throws when NULL or not bytea text.
    public func requireBytes() throws -> [UInt8] {
        guard let bytes else { throw failure(value == nil ? "is NULL" : "is not bytea") }
        return bytes
    }

    private func failure(_ problem: String) -> PostgresError {
        PostgresError(
            code: .decodingFailed, column: column,
            reason: isMissing ? "the result has no such column" : "value \(problem)")
    }
}

/// bytea's text output forms: hex (`\x0aff`, the default) and the older escape format.
enum ByteaText {
    static func decode(_ text: String) -> [UInt8]? {
        let utf8 = Array(text.utf8)
        if utf8.count >= 2, utf8[0] == UInt8(ascii: "\\"), utf8[1] == UInt8(ascii: "x") {
            return decodeHex(utf8[2...])
        }
        return decodeEscape(utf8)
    }

    private static func decodeHex(_ digits: ArraySlice<UInt8>) -> [UInt8]? {
        guard digits.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(digits.count / 2)
        var index = digits.startIndex
        while index < digits.endIndex {
            guard let high = nibble(digits[index]), let low = nibble(digits[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
            index += 2
        }
        return bytes
    }

    private static func nibble(_ digit: UInt8) -> UInt8? {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return digit - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return digit - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return digit - UInt8(ascii: "A") + 10
        default: return nil
        }
    }

    private static func decodeEscape(_ text: [UInt8]) -> [UInt8]? {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.count)
        var index = 0
        while index < text.count {
            let byte = text[index]
            guard byte == UInt8(ascii: "\\") else {
                bytes.append(byte)
                index += 1
                continue
            }
            if index + 1 < text.count, text[index + 1] == UInt8(ascii: "\\") {
                bytes.append(byte)
                index += 2
                continue
            }
            guard index + 3 < text.count else { return nil }
            var value: UInt16 = 0
            for digit in text[(index + 1)...(index + 3)] {
                guard digit >= UInt8(ascii: "0"), digit <= UInt8(ascii: "7") else { return nil }
                value = value * 8 + UInt16(digit - UInt8(ascii: "0"))
            }
            guard value <= 0xFF else { return nil }
            bytes.append(UInt8(value))
            index += 4
        }
        return bytes
    }
}
