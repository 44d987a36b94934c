import COpenSSL
import COpenSSLShims

/// An X25519 private key (RFC 7748): the vault's key pair and HPKE's ephemeral keys.
public struct X25519PrivateKey: Sendable {
    package let key: PKey

    /// A fresh random key pair. Stops the process only if OpenSSL cannot allocate or has no
    /// X25519 (nothing sensible can continue without key generation).
    public init() {
        guard let ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_X25519, nil) else {
            fatalError("EVP_PKEY_CTX_new_id(X25519) failed: \(CryptoError.drainOpenSSLErrors())")
        }
        defer { EVP_PKEY_CTX_free(ctx) }
        var pkey: OpaquePointer?
        guard EVP_PKEY_keygen_init(ctx) == 1, EVP_PKEY_generate(ctx, &pkey) == 1, let pkey else {
            fatalError("X25519 key generation failed: \(CryptoError.drainOpenSSLErrors())")
        }
        key = PKey(owning: pkey)
    }

    /// The key whose 32-byte scalar is `rawRepresentation`.
    public init(rawRepresentation: SecureBytes) throws {
        guard rawRepresentation.count == 32 else { throw CryptoError(.invalidKey, "X25519 private key must be 32 bytes") }
        let pkey = rawRepresentation.withUnsafeBytes {
            EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, nil, $0.baseAddress?.assumingMemoryBound(to: UInt8.self), 32)
        }
        guard let pkey else { throw CryptoError(.invalidKey, "X25519 private key") }
        key = PKey(owning: pkey)
    }

    package init(owning pkey: OpaquePointer) throws {
        let owner = PKey(owning: pkey)
        guard EVP_PKEY_get_base_id(pkey) == EVP_PKEY_X25519 else { throw CryptoError(.invalidKey, "not an X25519 key") }
        key = owner
    }

    /// The 32-byte private scalar, in wiped storage.
    public var rawRepresentation: SecureBytes {
        SecureBytes(count: 32) { out in
            var length = 32
            guard EVP_PKEY_get_raw_private_key(key.pkey, out.baseAddress?.assumingMemoryBound(to: UInt8.self), &length) == 1,
                  length == 32
            else { fatalError("EVP_PKEY_get_raw_private_key failed on an X25519 key") }
        }
    }

    /// The matching public key.
    public var publicKey: X25519PublicKey {
        var raw = [UInt8](repeating: 0, count: 32)
        var length = 32
        guard EVP_PKEY_get_raw_public_key(key.pkey, &raw, &length) == 1, length == 32,
              let publicKey = try? X25519PublicKey(rawRepresentation: raw)
        else { fatalError("EVP_PKEY_get_raw_public_key failed on an X25519 key") }
        return publicKey
    }

    /// X25519(self, peer). Throws ``CryptoError/Code/invalidKey`` for a low-order peer point
    /// (all-zero output), as RFC 7748 §6.1 and RFC 9180 §7.1.4 require.
    public func sharedSecret(with peer: X25519PublicKey) throws -> SecureBytes {
        guard let ctx = EVP_PKEY_CTX_new(key.pkey, nil) else { throw CryptoError(.openSSLFailure, "EVP_PKEY_CTX_new") }
        defer { EVP_PKEY_CTX_free(ctx) }
        guard EVP_PKEY_derive_init(ctx) == 1, EVP_PKEY_derive_set_peer(ctx, peer.key.pkey) == 1 else {
            throw CryptoError(.invalidKey, "X25519 peer key")
        }
        var failed = false
        let secret = SecureBytes(count: 32) { out in
            var length = 32
            failed = EVP_PKEY_derive(ctx, out.baseAddress?.assumingMemoryBound(to: UInt8.self), &length) != 1 || length != 32
        }
        guard !failed else { throw CryptoError(.invalidKey, "X25519 shared secret (low-order peer point?)") }
        return secret
    }
}

/// An X25519 public key.
public struct X25519PublicKey: Sendable, Equatable {
    package let key: PKey
    /// The 32-byte u-coordinate.
    public let rawRepresentation: [UInt8]

    /// The key with u-coordinate `rawRepresentation` (32 bytes).
    public init(rawRepresentation: [UInt8]) throws {
        guard rawRepresentation.count == 32 else { throw CryptoError(.invalidKey, "X25519 public key must be 32 bytes") }
        guard let pkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, nil, rawRepresentation, 32) else {
            throw CryptoError(.invalidKey, "X25519 public key")
        }
        key = PKey(owning: pkey)
        self.rawRepresentation = rawRepresentation
    }

    public static func == (lhs: X25519PublicKey, rhs: X25519PublicKey) -> Bool {
        lhs.rawRepresentation == rhs.rawRepresentation
    }
}
