import PIICrypto

/// SQL fragments the vault's statements share (array parameters are `PostgresValue.textArray`).
enum VaultSQL {
    /// `field IN ('ip', 'device_id')`: with it, a lookup by token alone probes the primary key
    /// (field, token) once per field (there is no index on the token by itself).
    static let anyField = "field IN (" + PIIField.allCases.map { "'\($0.rawValue)'" }.joined(separator: ", ") + ")"
}
