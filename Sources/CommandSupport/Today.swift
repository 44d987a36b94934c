import Foundation

/// Today's UTC date as `YYYY-MM-DD` (the `create_date` of file-ingested rows).
public enum Today {
    public static func utc() -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let parts = calendar.dateComponents([.year, .month, .day], from: Date())
        return String(format: "%04d-%02d-%02d", parts.year!, parts.month!, parts.day!)
    }
}
