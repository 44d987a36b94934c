import COpenSSL
import COpenSSLShims

extension X25519PublicKey {
    /// SubjectPublicKeyInfo PEM (`PUBLIC KEY`).
    public var pemRepresentation: String {
        guard let bio = try? MemoryBIO(), PEM_write_bio_PUBKEY(bio.bio, key.pkey) == 1 else {
            fatalError("PEM_write_bio_PUBKEY failed: \(CryptoError.drainOpenSSLErrors())")
        }
        return bio.string()
    }

    /// Reads a SubjectPublicKeyInfo PEM holding an X25519 key.
    public init(pemRepresentation pem: String) throws {
        let pkey: OpaquePointer? = try Array(pem.utf8).withUnsafeBytes { bytes in
            let bio = try MemoryBIO(reading: bytes)
            return PEM_read_bio_PUBKEY(bio.bio, nil, nil, nil)
        }
        guard let pkey else { throw CryptoError(.invalidKey, "not a PEM public key") }
        let owner = PKey(owning: pkey)
        guard EVP_PKEY_get_base_id(pkey) == EVP_PKEY_X25519 else { throw CryptoError(.invalidKey, "not an X25519 public key") }
        var raw = [UInt8](repeating: 0, count: 32)
        var length = 32
        guard EVP_PKEY_get_raw_public_key(pkey, &raw, &length) == 1, length == 32 else {
            throw CryptoError(.invalidKey, "X25519 public key")
        }
        key = owner
        rawRepresentation = raw
    }
}
