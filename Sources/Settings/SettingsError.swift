/// A configuration problem: a missing file, a malformed line or an out-of-range value.
/// Messages name the key, never the value (values may be secrets).
public struct SettingsError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
