import COpenSSL

/// An Ed25519 signing key (RFC 8032): signs the audit log's checkpoints (`vault audit
/// checkpoint`), so a chain rewritten whole by a database superuser no longer extends a head
/// recorded outside the database.
public struct Ed25519PrivateKey: Sendable {
    let key: PKey

    /// A fresh random key.
    public init() {
        guard let ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, nil) else {
            fatalError("EVP_PKEY_CTX_new_id(Ed25519) failed: \(CryptoError.drainOpenSSLErrors())")
        }
        defer { EVP_PKEY_CTX_free(ctx) }
        var pkey: OpaquePointer?
        guard EVP_PKEY_keygen_init(ctx) == 1, EVP_PKEY_generate(ctx, &pkey) == 1, let pkey else {
            fatalError("Ed25519 key generation failed: \(CryptoError.drainOpenSSLErrors())")
        }
        key = PKey(owning: pkey)
    }

    /// The key whose 32-byte seed is `rawRepresentation`.
    public init(rawRepresentation: SecureBytes) throws {
        guard rawRepresentation.count == 32 else { throw CryptoError(.invalidKey, "Ed25519 private key must be 32 bytes") }
        let pkey = rawRepresentation.withUnsafeBytes {
            EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nil, $0.baseAddress?.assumingMemoryBound(to: UInt8.self), 32)
        }
        guard let pkey else { throw CryptoError(.invalidKey, "Ed25519 private key") }
        key = PKey(owning: pkey)
    }

    /// The 32-byte seed, in wiped storage.
    public var rawRepresentation: SecureBytes {
        SecureBytes(count: 32) { out in
            var length = 32
            guard EVP_PKEY_get_raw_private_key(key.pkey, out.baseAddress?.assumingMemoryBound(to: UInt8.self), &length) == 1,
                  length == 32
            else { fatalError("EVP_PKEY_get_raw_private_key failed on an Ed25519 key") }
        }
    }

    /// The matching public key.
    public var publicKey: Ed25519PublicKey {
        var raw = [UInt8](repeating: 0, count: 32)
        var length = 32
        guard EVP_PKEY_get_raw_public_key(key.pkey, &raw, &length) == 1, length == 32,
              let publicKey = try? Ed25519PublicKey(rawRepresentation: raw)
        else { fatalError("EVP_PKEY_get_raw_public_key failed on an Ed25519 key") }
        return publicKey
    }

    /// The 64-byte signature of `message` (pure Ed25519: no pre-hash).
    public func signature(for message: [UInt8]) throws -> [UInt8] {
        guard let ctx = EVP_MD_CTX_new() else { throw CryptoError(.openSSLFailure, "EVP_MD_CTX_new") }
        defer { EVP_MD_CTX_free(ctx) }
        guard EVP_DigestSignInit(ctx, nil, nil, nil, key.pkey) == 1 else {
            throw CryptoError(.openSSLFailure, "EVP_DigestSignInit(Ed25519): \(CryptoError.drainOpenSSLErrors())")
        }
        var signature = [UInt8](repeating: 0, count: 64)
        var length = 64
        guard EVP_DigestSign(ctx, &signature, &length, message, message.count) == 1, length == 64 else {
            throw CryptoError(.openSSLFailure, "EVP_DigestSign(Ed25519): \(CryptoError.drainOpenSSLErrors())")
        }
        return signature
    }
}

/// An Ed25519 public key.
public struct Ed25519PublicKey: Sendable, Equatable {
    let key: PKey
    /// The 32-byte encoded point.
    public let rawRepresentation: [UInt8]

    public init(rawRepresentation: [UInt8]) throws {
        guard rawRepresentation.count == 32 else { throw CryptoError(.invalidKey, "Ed25519 public key must be 32 bytes") }
        guard let pkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nil, rawRepresentation, 32) else {
            throw CryptoError(.invalidKey, "Ed25519 public key")
        }
        key = PKey(owning: pkey)
        self.rawRepresentation = rawRepresentation
    }

    /// Whether `signature` is this key's signature of `message`.
    public func isValidSignature(_ signature: [UInt8], for message: [UInt8]) -> Bool {
        guard signature.count == 64, let ctx = EVP_MD_CTX_new() else { return false }
        defer { EVP_MD_CTX_free(ctx) }
        guard EVP_DigestVerifyInit(ctx, nil, nil, nil, key.pkey) == 1 else {
            _ = CryptoError.drainOpenSSLErrors()
            return false
        }
        let ok = EVP_DigestVerify(ctx, signature, signature.count, message, message.count) == 1
        if !ok { _ = CryptoError.drainOpenSSLErrors() }
        return ok
    }

    public static func == (lhs: Ed25519PublicKey, rhs: Ed25519PublicKey) -> Bool {
        lhs.rawRepresentation == rhs.rawRepresentation
    }
}
