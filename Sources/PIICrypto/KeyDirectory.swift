/// The key folder (`keys/` by default, SPEC §4): token root keys and vault key pairs, one file
/// per version.
///
/// - `token-v<N>.key`: 64 hex characters and a newline, mode 0600.
/// - `vault-v<N>.pem`: the vault private key, PKCS#8 PEM (passphrase-protected or not), mode 0600.
/// - `vault-v<N>.pub.pem`: the vault public key, SubjectPublicKeyInfo PEM, mode 0644.
///
/// Secret files that group or others may access are refused with
/// ``KeyFileError/Code/loosePermissions``; existing files are never overwritten.
public struct KeyDirectory: Sendable {
    /// The folder, as configured.
    public let path: String

    public init(path: String) {
        self.path = path
    }

    // MARK: Paths

    private func file(_ name: String) -> String {
        path.hasSuffix("/") ? path + name : path + "/" + name
    }

    /// Path of the token root key of `version`.
    public func tokenKeyPath(version: Int) -> String { file("token-v\(version).key") }
    /// Path of the vault private key of `version`.
    public func vaultPrivateKeyPath(version: Int) -> String { file("vault-v\(version).pem") }
    /// Path of the vault public key of `version`.
    public func vaultPublicKeyPath(version: Int) -> String { file("vault-v\(version).pub.pem") }

    // MARK: Token keys

    /// Writes a token root key (32 bytes) as a new file with mode 0600, creating the folder
    /// (mode 0700) if needed. An existing file is never replaced: ``KeyFileError/Code/alreadyExists``.
    public func writeTokenKey(_ key: SecureBytes, version: Int) throws {
        guard key.count == 32 else { throw CryptoError(.invalidKey, "token key must be 32 bytes") }
        try writeHexKey(key, to: tokenKeyPath(version: version))
    }

    /// A 32-byte key as 64 hex characters and a newline in a new file of mode 0600.
    private func writeHexKey(_ key: SecureBytes, to filePath: String) throws {
        try SecureFile.makeDirectory(path)
        let contents = SecureBytes(count: 65) { out in
            key.withUnsafeBytes { k in
                for (i, byte) in k.enumerated() {
                    out[2 * i] = Hex.digit(byte >> 4)
                    out[2 * i + 1] = Hex.digit(byte & 0x0f)
                }
            }
            out[64] = UInt8(ascii: "\n")
        }
        try contents.withUnsafeBytes { try SecureFile.createExclusive(path: filePath, mode: 0o600, contents: $0) }
    }

    /// Reads the token root key of `version`; refuses a file with loose permissions.
    public func readTokenKey(version: Int) throws -> SecureBytes {
        try readHexKey(at: tokenKeyPath(version: version))
    }

    /// Reads a file written by ``writeHexKey(_:to:)``; refuses loose permissions.
    private func readHexKey(at filePath: String) throws -> SecureBytes {
        let contents = try SecureFile.readFile(path: filePath, secret: true)
        let key: SecureBytes? = contents.withUnsafeBytes { raw in
            var end = raw.count
            while end > 0, [0x0a, 0x0d, 0x20, 0x09].contains(raw[end - 1]) { end -= 1 }
            guard end == 64 else { return nil }
            return SecureBytes(hexBytes: UnsafeRawBufferPointer(rebasing: raw[0..<64]))
        }
        guard let key else {
            throw KeyFileError(.malformed, path: filePath, detail: "expected 64 hex characters")
        }
        return key
    }

    /// Whether a token key file exists for `version`.
    public func tokenKeyExists(version: Int) -> Bool { SecureFile.exists(tokenKeyPath(version: version)) }

    /// Versions with a token key file, ascending.
    public func tokenKeyVersions() -> [Int] { versions(prefix: "token-v", suffix: ".key") }

    // MARK: Single-purpose keys (32 bytes, stored like token keys)

    /// Path of the Ed25519 seed that signs audit checkpoints (`vault audit checkpoint`).
    public var checkpointKeyPath: String { file("audit-checkpoint.key") }
    /// Path of the subject key: the keyed hashes of erased user ids (`vault subject forget`)
    /// are HMACs under a key derived from it. Independent of the token keys, so erasures
    /// survive token-key rotation; every `etl` host needs it once a subject was erased.
    public var subjectKeyPath: String { file("subject.key") }

    /// Reads the checkpoint signing key, creating it (mode 0600) when absent.
    public func loadOrCreateCheckpointKey() throws -> Ed25519PrivateKey {
        try Ed25519PrivateKey(rawRepresentation: loadOrCreateHexKey(at: checkpointKeyPath))
    }

    /// Reads the checkpoint signing key (which must exist).
    public func readCheckpointKey() throws -> Ed25519PrivateKey {
        try Ed25519PrivateKey(rawRepresentation: readHexKey(at: checkpointKeyPath))
    }

    /// Reads the subject key (which must exist).
    public func readSubjectKey() throws -> SecureBytes { try readHexKey(at: subjectKeyPath) }

    /// Reads the subject key, creating it (mode 0600) when absent.
    public func loadOrCreateSubjectKey() throws -> SecureBytes { try loadOrCreateHexKey(at: subjectKeyPath) }

    /// Whether the subject key file exists.
    public func subjectKeyExists() -> Bool { SecureFile.exists(subjectKeyPath) }

    /// Whether the checkpoint key file exists.
    public func checkpointKeyExists() -> Bool { SecureFile.exists(checkpointKeyPath) }

    /// Reads the key at `filePath`, or writes a fresh random one there first; when another
    /// process creates it at the same moment, reads theirs.
    private func loadOrCreateHexKey(at filePath: String) throws -> SecureBytes {
        if SecureFile.exists(filePath) { return try readHexKey(at: filePath) }
        do {
            try writeHexKey(SecureBytes.random(count: 32), to: filePath)
        } catch let error as KeyFileError where error.code == .alreadyExists {}
        return try readHexKey(at: filePath)
    }

    // MARK: Vault keys

    /// Reads the vault public key of `version` (public: no permission check).
    public func readVaultPublicKey(version: Int) throws -> X25519PublicKey {
        let filePath = vaultPublicKeyPath(version: version)
        let contents = try SecureFile.readFile(path: filePath, secret: false)
        do {
            return try X25519PublicKey(pemRepresentation: contents.withUnsafeBytes { String(decoding: $0, as: UTF8.self) })
        } catch {
            throw KeyFileError(.malformed, path: filePath, detail: "not an X25519 public key PEM")
        }
    }

    /// Whether a vault key file (private or public) exists for `version`: the version number is taken.
    public func vaultKeyExists(version: Int) -> Bool {
        vaultPrivateKeyExists(version: version) || SecureFile.exists(vaultPublicKeyPath(version: version))
    }

    /// Whether the vault private key file of `version` exists (it is removed when retired).
    public func vaultPrivateKeyExists(version: Int) -> Bool { SecureFile.exists(vaultPrivateKeyPath(version: version)) }

    /// Versions with a vault private or public key file, ascending.
    public func vaultKeyVersions() -> [Int] {
        Array(Set(vaultPrivateKeyVersions() + versions(prefix: "vault-v", suffix: ".pub.pem"))).sorted()
    }

    /// Versions with a vault private key file, ascending.
    public func vaultPrivateKeyVersions() -> [Int] { versions(prefix: "vault-v", suffix: ".pem") }

    /// Overwrites and deletes the vault private key of `version`, once its data keys have been
    /// rewrapped to a newer key. The public key file stays.
    public func removeVaultPrivateKey(version: Int) throws {
        try SecureFile.wipeAndRemove(path: vaultPrivateKeyPath(version: version))
    }

    // MARK: Listing

    private func versions(prefix: String, suffix: String) -> [Int] {
        SecureFile.entries(path).compactMap { name -> Int? in
            guard name.hasPrefix(prefix), name.hasSuffix(suffix), name.count > prefix.count + suffix.count else { return nil }
            let digits = name.dropFirst(prefix.count).dropLast(suffix.count)
            guard digits.allSatisfy({ $0.isASCII && $0.isNumber }), let version = Int(digits),
                  String(version) == digits
            else { return nil }
            return version
        }.sorted()
    }
}
