/// The `app_version` column's encoding.
public enum AppVersion {
    /// The order-preserving encoding `major*1_000_000 + minor*1_000 + patch` of `"N"`, `"N.N"`
    /// or `"N.N.N"` (a missing minor or patch counts as 0), else nil.
    ///
    /// Each part is one or more ASCII digits `0-9` with a value 0–999; no sign, no whitespace,
    /// no empty part, at most three parts. Leading zeros are accepted and ignored (`"01"` is 1,
    /// `"2.03"` is 2_003_000, like `"2.3"`): the raw string is stored as well, so nothing is lost.
    /// Examples: `"2.3.0"` → 2_003_000, `"3.7"` → 3_007_000, `"0.96"` → 96_000, `"5"` →
    /// 5_000_000; `"1000"`, `"1.2.3.4"`, `""`, `"v1"`, `"1."`, `" 1"` → nil. Maximum 999_999_999.
    public static func encode(_ raw: String?) -> Int32? {
        guard let raw else { return nil }
        var parts: (Int32, Int32, Int32) = (0, 0, 0)
        var index = 0
        var current: Int32 = 0
        var digits = 0
        for byte in raw.utf8 {
            if byte == 0x2E {  // "."
                guard digits > 0, index < 2 else { return nil }
                store(current, at: index, in: &parts)
                index += 1
                current = 0
                digits = 0
            } else if byte &- 0x30 <= 9 {
                current = current * 10 + Int32(byte &- 0x30)
                guard current <= 999 else { return nil }
                digits += 1
            } else {
                return nil
            }
        }
        guard digits > 0 else { return nil }
        store(current, at: index, in: &parts)
        return parts.0 * 1_000_000 + parts.1 * 1_000 + parts.2
    }

    @inline(__always)
    private static func store(_ value: Int32, at index: Int, in parts: inout (Int32, Int32, Int32)) {
        switch index {
        case 0: parts.0 = value
        case 1: parts.1 = value
        default: parts.2 = value
        }
    }
}
