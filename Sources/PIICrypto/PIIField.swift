/// The kinds of personal data FetchDE tokenizes. The raw value is the column/field name and is
/// part of the per-field key derivation, so it must never change.
public enum PIIField: String, Sendable, CaseIterable, Codable {
    case ip
    case deviceID = "device_id"

    /// Dense index for per-field tables.
    var index: Int {
        switch self {
        case .ip: 0
        case .deviceID: 1
        }
    }
}
