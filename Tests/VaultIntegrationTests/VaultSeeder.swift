import Foundation
import PIICrypto
import Postgres
import TestSupport
import Vault
import VaultFormat

/// A value put into the vault by ``VaultSeeder``.
struct SeededValue: Sendable, Hashable {
    let field: PIIField
    let original: String
    let token: String
}

/// Writes vault entries exactly as the ingest side does (SPEC §4): DEKs sealed with HPKE to the
/// active vault public key, entries sealed with AES-256-GCM under a DEK with the entry AAD, and
/// one `user_logins` row per value carrying its token.
enum VaultSeeder {
    static func seed(
        _ fixture: VaultFixture, _ values: [(PIIField, String)], dataKeys: Int = 1
    ) async throws -> [SeededValue] {
        let rootKey = try fixture.keys.readTokenKey(version: 1)
        let tokenizer = Tokenizer(rootKey: rootKey, version: 1)
        return try await fixture.withSuperuser { session in
            let active = try session.execute(
                "SELECT k.version, k.public_key FROM vault_active a JOIN vault_keys k ON k.version = a.vault_key_version"
            )
            let version = Int(try active.rows[0]["version"].requireInt())
            let publicKey = try X25519PublicKey(rawRepresentation: try active.rows[0]["public_key"].requireBytes())

            var keys: [(id: Int64, key: SecureBytes)] = []
            for _ in 0..<max(dataKeys, 1) {
                let id = try session.execute(
                    "SELECT nextval(pg_get_serial_sequence('vault_data_keys', 'dek_id')) AS id"
                ).rows[0]["id"].requireInt()
                let dek = SecureBytes.random(count: 32)
                let sealed = try dek.withUnsafeBytes { raw in
                    try HPKE.seal(
                        recipient: publicKey, info: VaultFormat.dekInfo,
                        aad: VaultFormat.dekAAD(dekID: id, vaultKeyVersion: version),
                        plaintext: Array(raw), aead: .aes256GCM
                    )
                }
                try session.execute(
                    "INSERT INTO vault_data_keys (dek_id, vault_key_version, encapsulated_key, sealed_key) VALUES ($1, $2, $3, $4)",
                    [.int(id), .int(Int64(version)), .bytea(sealed.encapsulatedKey), .bytea(sealed.ciphertext)]
                )
                keys.append((id, dek))
            }

            var seeded: [SeededValue] = []
            var seen = Set<String>()
            var rows: [[PostgresValue]] = []
            for (index, (field, original)) in values.enumerated() {
                let token = tokenizer.token(original, field: field)
                seeded.append(SeededValue(field: field, original: original, token: token))
                guard seen.insert(field.rawValue + token).inserted else { continue }
                let (dekID, dek) = keys[index % keys.count]
                let ciphertext = try AES256GCM.seal(
                    Array(original.utf8), key: dek, aad: VaultFormat.entryAAD(field: field, token: token, dekID: dekID)
                )
                rows.append([.text(field.rawValue), .text(token), .int(1), .int(dekID), .bytea(ciphertext)])
            }
            try session.transaction {
                try session.copyIn("COPY pii_vault (field, token, token_key_version, dek_id, ciphertext) FROM STDIN") { writer in
                    for row in rows { try writer.appendRow(row) }
                }
                try session.copyIn(
                    "COPY user_logins (user_id, masked_ip, masked_device_id, token_key_version, message_id) FROM STDIN"
                ) { writer in
                    for value in seeded {
                        try writer.appendRow([
                            .text(UUID().uuidString),
                            value.field == .ip ? .text(value.token) : .null,
                            value.field == .deviceID ? .text(value.token) : .null,
                            .int(1), .text(UUID().uuidString),
                        ])
                    }
                }
            }
            return seeded
        }
    }

    /// A token nobody ever stored (well-formed, random).
    static func unknownToken() -> String {
        SecureRandom.bytes(32).map { String(format: "%02x", $0) }.joined()
    }
}
