import PIICrypto
public import Postgres
import VaultFormat

/// A data-encryption key (DEK) of this process: 256 random bits that live only in memory
/// (wiped when dropped), registered in `vault_data_keys` sealed to the vault public key.
public struct DataKey: Sendable {
    /// Row id in `vault_data_keys`; part of every entry's associated data.
    public let id: Int64
    /// The vault key version it is sealed to.
    public let vaultKeyVersion: Int
    let key: SecureBytes

    /// Makes a new DEK, seals it with HPKE to the active vault public key and stores it.
    /// Committed on its own, before any entry uses it (an unused DEK row is harmless).
    public static func create(in session: PostgresSession, keys: ActiveKeys) throws -> DataKey {
        let next = try session.execute("SELECT nextval(pg_get_serial_sequence('public.vault_data_keys', 'dek_id')) AS id")
        guard let id = next.rows.first?["id"].int else {
            throw PipelineError(.notInitialized, "vault_data_keys has no id sequence: run `etl migrate`")
        }
        let key = SecureBytes.random(count: 32)
        let sealed = try VaultFormat.sealDataKey(
            key, dekID: id, vaultKeyVersion: keys.vaultKeyVersion, to: keys.vaultPublicKey
        )
        try session.execute(
            """
            INSERT INTO public.vault_data_keys (dek_id, vault_key_version, encapsulated_key, sealed_key)
            VALUES ($1, $2, $3, $4)
            """,
            [.int(id), .int(Int64(keys.vaultKeyVersion)), .bytea(sealed.encapsulatedKey), .bytea(sealed.sealedKey)]
        )
        return DataKey(id: id, vaultKeyVersion: keys.vaultKeyVersion, key: key)
    }

    /// Encrypts an original value for its vault entry (associated data binds field, token, DEK).
    func sealEntry(_ value: [UInt8], field: PIIField, token: String) throws -> [UInt8] {
        try AES256GCM.seal(value, key: key, aad: VaultFormat.entryAAD(field: field, token: token, dekID: id))
    }

    /// Encrypts a quarantined raw body (associated data binds the message id and DEK).
    func sealQuarantined(_ body: [UInt8], messageID: String) throws -> [UInt8] {
        try AES256GCM.seal(body, key: key, aad: VaultFormat.quarantineAAD(messageID: messageID, dekID: id))
    }
}
