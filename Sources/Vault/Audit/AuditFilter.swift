import Foundation
import Postgres

/// Which audit rows `vault audit` lists (SPEC §5): a time range (since inclusive, until
/// exclusive), an action and an actor. Unset parts match every row.
public struct AuditFilter: Sendable, Equatable {
    /// Rows at or after this time (microseconds since the epoch).
    public var sinceMicros: Int64?
    /// Rows before this time (microseconds since the epoch).
    public var untilMicros: Int64?
    public var action: String?
    public var actor: String?

    public init(sinceMicros: Int64? = nil, untilMicros: Int64? = nil, action: String? = nil, actor: String? = nil) {
        self.sinceMicros = sinceMicros
        self.untilMicros = untilMicros
        self.action = action
        self.actor = actor
    }

    /// The WHERE condition after `seq > $1` (parameters $3 to $6, see ``parameters``).
    static let condition = """
        ($3::bigint IS NULL OR at_us >= $3) AND ($4::bigint IS NULL OR at_us < $4)
        AND ($5::text IS NULL OR action = $5) AND ($6::text IS NULL OR actor = $6)
        """

    var parameters: [PostgresValue] {
        [sinceMicros.map { .int($0) } ?? .null, untilMicros.map { .int($0) } ?? .null,
         action.map { .text($0) } ?? .null, actor.map { .text($0) } ?? .null]
    }

    /// Microseconds since the epoch of an ISO 8601 time: `2025-01-31` (midnight UTC),
    /// `2025-01-31T12:34:56Z`, with optional fraction (up to microseconds) and a `Z` or
    /// `±HH:MM` offset (none means UTC). Nil when `text` is not of that form.
    public static func parseTime(_ text: String) -> Int64? {
        let chars = Array(text.utf8)
        var index = 0
        func number(_ digits: Int) -> Int? {
            guard index + digits <= chars.count else { return nil }
            var value = 0
            for byte in chars[index..<(index + digits)] {
                guard byte >= 48, byte <= 57 else { return nil }
                value = value * 10 + Int(byte - 48)
            }
            index += digits
            return value
        }
        func expect(_ ascii: Character) -> Bool {
            guard index < chars.count, chars[index] == ascii.asciiValue! else { return false }
            index += 1
            return true
        }
        guard let year = number(4), expect("-"), let month = number(2), expect("-"), let day = number(2),
              (1...12).contains(month), (1...31).contains(day)
        else { return nil }
        var hour = 0, minute = 0, second = 0, micros = 0, offset = 0
        if index < chars.count {
            guard expect("T") || expect(" "), let h = number(2), expect(":"), let m = number(2), expect(":"),
                  let s = number(2), h < 24, m < 60, s < 61
            else { return nil }
            (hour, minute, second) = (h, m, s)
            if expect(".") {
                var digits = 0
                while index < chars.count, chars[index] >= 48, chars[index] <= 57 {
                    if digits < 6 { micros = micros * 10 + Int(chars[index] - 48) }
                    digits += 1
                    index += 1
                }
                guard digits > 0 else { return nil }
                var scale = min(digits, 6)
                while scale < 6 { micros *= 10; scale += 1 }
            }
            if expect("Z") || expect("z") {
            } else if index < chars.count {
                let sign = chars[index] == UInt8(ascii: "-") ? -1 : 1
                guard expect("+") || expect("-"), let oh = number(2), expect(":"), let om = number(2), oh < 24, om < 60 else { return nil }
                offset = sign * (oh * 3600 + om * 60)
            }
            guard index == chars.count else { return nil }
        }
        var parts = tm()
        parts.tm_year = Int32(year - 1900)
        parts.tm_mon = Int32(month - 1)
        parts.tm_mday = Int32(day)
        parts.tm_hour = Int32(hour)
        parts.tm_min = Int32(minute)
        parts.tm_sec = Int32(second)
        let seconds = Int64(timegm(&parts)) - Int64(offset)
        return seconds * 1_000_000 + Int64(micros)
    }
}
