public import Foundation

/// A value bound to a query parameter or written as a COPY field.
///
/// Values travel as `$n` parameters (never spliced into SQL), in PostgreSQL's text format
/// except `bytea`, which is sent binary. There is no `Date` case: pass dates and timestamps as
/// ISO 8601 text (`.text("2024-01-02")`, or ``timestamp(_:)``) and let the column type or an
/// explicit cast (`$1::date`, `$1::timestamptz`) parse them.
public enum PostgresValue: Sendable, Hashable {
    /// SQL `NULL`.
    case null
    /// Text, for any type with a text input form (text, uuid, date, jsonb, numeric…).
    case text(String)
    /// An integer (smallint, integer, bigint).
    case int(Int64)
    /// A boolean.
    case bool(Bool)
    /// Raw bytes for a `bytea` column.
    case bytea([UInt8])
    /// A double precision float; NaN and ±infinity are supported.
    case double(Double)
}

extension PostgresValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByNilLiteral,
    ExpressibleByBooleanLiteral
{
    public init(stringLiteral value: String) { self = .text(value) }
    public init(integerLiteral value: Int64) { self = .int(value) }
    public init(nilLiteral: ()) { self = .null }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
}

extension PostgresValue {
    /// `.text(value)`, or `.null` when `value` is nil.
    public static func optional(_ value: String?) -> PostgresValue { value.map { .text($0) } ?? .null }
    /// `.int(value)`, or `.null` when `value` is nil.
    public static func optional(_ value: Int64?) -> PostgresValue { value.map { .int($0) } ?? .null }
    /// `.int(value)`, or `.null` when `value` is nil.
    public static func optional(_ value: Int?) -> PostgresValue { value.map { .int(Int64($0)) } ?? .null }
    /// `.bool(value)`, or `.null` when `value` is nil.
    public static func optional(_ value: Bool?) -> PostgresValue { value.map { .bool($0) } ?? .null }
    /// `.double(value)`, or `.null` when `value` is nil.
    public static func optional(_ value: Double?) -> PostgresValue { value.map { .double($0) } ?? .null }
    /// `.bytea(value)`, or `.null` when `value` is nil.
    public static func optional(_ value: [UInt8]?) -> PostgresValue { value.map { .bytea($0) } ?? .null }

    /// A point in time as ISO 8601 UTC text with fractional seconds, for `timestamptz`.
    public static func timestamp(_ date: Date) -> PostgresValue {
        .text(date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true)))
    }
}
