public import PIICrypto

// The vault's private keys on disk: written, read back and inspected only by `vault`.

extension KeyDirectory {
    /// Writes the vault key pair of `version`: the private key (mode 0600, encrypted when a
    /// passphrase is given) and the public key (mode 0644). Neither file may exist yet. The
    /// private key file is read back and opened with the passphrase before the public key is
    /// written: a file that does not open again is removed and nothing is left behind.
    public func writeVaultKeyPair(_ key: X25519PrivateKey, version: Int, passphrase: String?) throws {
        let privatePath = vaultPrivateKeyPath(version: version)
        let publicPath = vaultPublicKeyPath(version: version)
        try SecureFile.makeDirectory(path)
        for existing in [privatePath, publicPath] where SecureFile.exists(existing) {
            throw KeyFileError(.alreadyExists, path: existing)
        }
        let privatePEM = try key.pemBytes(passphrase: passphrase)
        try privatePEM.withUnsafeBytes { try SecureFile.createExclusive(path: privatePath, mode: 0o600, contents: $0) }
        do {
            // Everything sealed to the public key is lost if the private key never opens.
            let reopened = try? readVaultPrivateKey(version: version, passphrase: passphrase)
            guard reopened?.publicKey == key.publicKey else {
                throw CryptoError(.invalidKey, "the new private key file \(privatePath) did not open again with its passphrase; removed")
            }
            let publicPEM = Array(key.publicKey.pemRepresentation.utf8)
            try publicPEM.withUnsafeBytes { try SecureFile.createExclusive(path: publicPath, mode: 0o644, contents: $0) }
        } catch {
            // Do not leave half a key pair (or a key that does not open) behind.
            try? SecureFile.wipeAndRemove(path: privatePath)
            throw error
        }
    }

    /// Reads the vault private key of `version`; refuses loose permissions, and reports a wrong
    /// or missing passphrase as ``KeyFileError/Code/wrongPassphrase``.
    public func readVaultPrivateKey(version: Int, passphrase: String?) throws -> X25519PrivateKey {
        let filePath = vaultPrivateKeyPath(version: version)
        let contents = try SecureFile.readFile(path: filePath, secret: true)
        let read: X25519PrivateKey.PEMRead
        do {
            read = try contents.withUnsafeBytes { try X25519PrivateKey.read(pemBytes: $0, passphrase: passphrase) }
        } catch {
            throw KeyFileError(.malformed, path: filePath, detail: "not an X25519 PKCS#8 private key")
        }
        switch read {
        case .key(let key): return key
        case .locked: throw KeyFileError(.wrongPassphrase, path: filePath)
        }
    }

    /// Whether the vault private key of `version` is passphrase-protected.
    public func isPrivateKeyEncrypted(version: Int) throws -> Bool {
        let contents = try SecureFile.readFile(path: vaultPrivateKeyPath(version: version), secret: true)
        return contents.withUnsafeBytes { X25519PrivateKey.isEncryptedPEM($0) }
    }
}
