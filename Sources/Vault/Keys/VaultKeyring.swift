import PIICrypto
import VaultCrypto
import Postgres
import VaultFormat

/// The vault's private keys, loaded once per command for the vault key versions the
/// database still uses.
struct VaultKeyring {
    private var keys: [Int: X25519PrivateKey] = [:]
    /// Versions whose key file is absent: only an error if a data key actually needs them
    /// (an old version may be retired once `vault rewrap` has moved every DEK off it).
    private var absent: Set<Int> = []
    let directory: String

    /// The private key of `version`, or a not-authorized error when its file is absent.
    func privateKey(version: Int) throws -> X25519PrivateKey {
        if let key = keys[version] { return key }
        throw VaultError(
            .keyUnavailable,
            "no private key for vault key version \(version) in \(directory) (vault-v\(version).pem)"
        )
    }

    /// Loads the private key of every version that has data keys, plus the active one (which
    /// must exist). A loose, unreadable or malformed key file or a wrong passphrase fails at
    /// once; the passphrase is resolved at most once, and only if some key is protected.
    static func load(_ session: PostgresSession, environment: VaultEnvironment) throws -> VaultKeyring {
        let result = try session.execute(
            """
            SELECT vault_key_version AS v FROM public.vault_data_keys GROUP BY vault_key_version
            UNION SELECT vault_key_version FROM public.vault_active
            """
        )
        let active = try session.execute("SELECT vault_key_version AS v FROM public.vault_active")
        guard let activeVersion = active.rows.first?["v"].int.map(Int.init) else {
            throw VaultError(.notInitialized, "no vault key is registered: run vault init first")
        }
        let versions = Set(result.rows.compactMap { $0["v"].int.map(Int.init) }).sorted()
        return try load(versions: versions, required: activeVersion, environment: environment)
    }

    static func load(versions: [Int], required: Int, environment: VaultEnvironment) throws -> VaultKeyring {
        let directory = environment.keys
        var ring = VaultKeyring(directory: environment.keysDirectory)
        var passphrase: String?
        for version in versions {
            guard directory.vaultPrivateKeyExists(version: version) else {
                ring.absent.insert(version)
                continue
            }
            var secret: String?
            if try directory.isPrivateKeyEncrypted(version: version) {
                if passphrase == nil { passphrase = try environment.passphrase.forUnlocking() }
                secret = passphrase
            }
            ring.keys[version] = try directory.readVaultPrivateKey(version: version, passphrase: secret)
        }
        if ring.keys[required] == nil { _ = try ring.privateKey(version: required) }
        return ring
    }

    /// Unseals the data keys `ids` (HPKE, with the associated data naming DEK id and vault
    /// key version). `opened` holds those that authenticate; `found` counts the rows read. A
    /// version whose private key file is absent throws (not authorized).
    func unsealDataKeys(_ session: PostgresSession, ids: Set<Int64>) throws -> (opened: [Int64: SecureBytes], found: Int) {
        guard !ids.isEmpty else { return ([:], 0) }
        let rows = try session.execute(
            "SELECT dek_id, vault_key_version, encapsulated_key, sealed_key FROM public.vault_data_keys WHERE dek_id = ANY($1::bigint[])",
            [.int64Array(ids.sorted())]
        ).rows
        var opened: [Int64: SecureBytes] = [:]
        var found = 0
        for row in rows {
            guard let id = row[0].int, let version = row[1].int.map(Int.init), ids.contains(id) else { continue }
            found += 1
            let key = try? HPKE.open(
                encapsulatedKey: row[2].bytes ?? [], ciphertext: row[3].bytes ?? [],
                recipient: try privateKey(version: version),
                info: VaultFormat.dekInfo, aad: VaultFormat.dekAAD(dekID: id, vaultKeyVersion: version),
                aead: .aes256GCM
            )
            if let key, key.count == 32 { opened[id] = key }
        }
        return (opened, found)
    }
}
