import Foundation

/// UTC calendar dates by arithmetic (Howard Hinnant's `civil_from_days`), without Foundation's
/// `Calendar`: SigV4 stamps every request with one, the pipeline every message's `create_date`.
public enum CivilDate {
    /// The proleptic Gregorian (year, month, day) of `days` since 1970-01-01.
    public static func components(days: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    /// `YYYY-MM-DD` (UTC) of `milliseconds` since the epoch.
    public static func utcDate(milliseconds: Int64) -> String {
        let days = milliseconds >= 0 ? milliseconds / 86_400_000 : (milliseconds - 86_399_999) / 86_400_000
        let (year, month, day) = components(days: days)
        func pad(_ value: Int64, _ width: Int) -> String {
            let digits = String(value)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))"
    }

    /// Today's UTC date as `YYYY-MM-DD` (the `create_date` of a row without a SentTimestamp).
    public static func today() -> String {
        utcDate(milliseconds: Int64((Date().timeIntervalSince1970 * 1000).rounded(.down)))
    }
}
