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

    /// Seals the data key `key` (32 bytes) of row `dekID` to a vault public key with HPKE
    /// (SPEC §4): what `vault_data_keys` stores as `encapsulated_key` and `sealed_key`.
    public static func sealDataKey(
        _ key: SecureBytes, dekID: Int64, vaultKeyVersion: Int, to publicKey: X25519PublicKey
    ) throws -> (encapsulatedKey: [UInt8], sealedKey: [UInt8]) {
        // HPKE takes [UInt8]: the temporary copy of the DEK is zeroed as soon as it is sealed.
        var plaintext = key.withUnsafeBytes { Array($0) }
        defer { plaintext.withUnsafeMutableBytes { $0.initializeMemory(as: UInt8.self, repeating: 0) } }
        let sealed = try HPKE.seal(
            recipient: publicKey, info: dekInfo,
            aad: dekAAD(dekID: dekID, vaultKeyVersion: vaultKeyVersion),
            plaintext: plaintext, aead: .aes256GCM
        )
        return (sealed.encapsulatedKey, sealed.ciphertext)
    }
}
