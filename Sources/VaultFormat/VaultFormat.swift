public import PIICrypto

/// The byte-level formats the ingest side writes and the vault reads: associated data,
/// HPKE info strings and the token-key check value. Both sides call these functions, so a
/// change here changes both at once; a ciphertext moved to another row fails to open because
/// its associated data names the row.
public enum VaultFormat {
    /// HPKE `info` for sealing a data key (DEK) to the vault public key.
    public static let dekInfo: [UInt8] = Array("fetchde/dek/v1".utf8)

    /// HPKE associated data for DEK `dekID`, sealed to vault key `vaultKeyVersion`.
    public static func dekAAD(dekID: Int64, vaultKeyVersion: Int) -> [UInt8] {
        Array("fetchde/dek/v1|\(dekID)|\(vaultKeyVersion)".utf8)
    }

    /// AES-GCM associated data of a vault entry: binds (field, token, DEK id) (SPEC §4).
    public static func entryAAD(field: PIIField, token: String, dekID: Int64) -> [UInt8] {
        Array("fetchde/pii/v1|\(field.rawValue)|\(token)|\(dekID)".utf8)
    }

    /// AES-GCM associated data of a quarantined raw body: binds the SQS message id and DEK id.
    public static func quarantineAAD(messageID: String, dekID: Int64) -> [UInt8] {
        Array("fetchde/quarantine/v1|\(messageID)|\(dekID)".utf8)
    }

    /// A public check value of a token root key (stored in `token_keys.key_check`), so an
    /// `etl` host can tell that the key file it loaded is the registered version. It is a MAC
    /// of a constant, so it reveals nothing about the key.
    public static func tokenKeyCheck(_ rootKey: SecureBytes) -> String {
        let mac = HMACSHA256.authenticationCode(key: rootKey, message: Array("fetchde/token-key-check/v1".utf8))
        return lowercaseHex(mac.prefix(16))
    }
}
