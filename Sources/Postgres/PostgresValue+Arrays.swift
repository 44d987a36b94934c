extension PostgresValue {
    /// A `text[]` parameter (bind as `$n::text[]`, use with `= ANY($n)`): each element quoted
    /// unless it is plain letters and digits (tokens, hashes and ids, the common case) and not
    /// the word `NULL`, so any string round-trips.
    public static func textArray<C: Collection>(_ values: C) -> PostgresValue where C.Element: StringProtocol {
        var out = "{"
        out.reserveCapacity(values.count * 66 + 2)
        var first = true
        for value in values {
            if !first { out += "," }
            first = false
            if !value.isEmpty, value.utf8.allSatisfy({ isPlain($0) }), !isNullWord(value) {
                out += value
            } else {
                out += "\""
                for scalar in value.unicodeScalars {
                    if scalar == "\"" || scalar == "\\" { out += "\\" }
                    out.unicodeScalars.append(scalar)
                }
                out += "\""
            }
        }
        return .text(out + "}")
    }

    /// A `bigint[]` parameter (bind as `$n::bigint[]`).
    public static func int64Array<C: Collection>(_ values: C) -> PostgresValue where C.Element == Int64 {
        .text("{" + values.map(String.init).joined(separator: ",") + "}")
    }

    /// `NULL` in any case: an unquoted element PostgreSQL would read as a null (checked
    /// without building an uppercased copy of every element).
    private static func isNullWord<S: StringProtocol>(_ value: S) -> Bool {
        value.utf8.count == 4 && value.uppercased() == "NULL"
    }

    private static func isPlain(_ byte: UInt8) -> Bool {
        (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A) || byte == 0x5F
    }
}
