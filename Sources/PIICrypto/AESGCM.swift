import COpenSSL
import COpenSSLShims

/// The AES-GCM variants FetchDE uses (HPKE AEAD ids 0x0001 and 0x0002).
public enum AEADAlgorithm: Sendable, Hashable {
    case aes128GCM
    case aes256GCM

    /// Key length in bytes (16 or 32).
    public var keyByteCount: Int {
        switch self {
        case .aes128GCM: 16
        case .aes256GCM: 32
        }
    }

    /// Nonce length in bytes used by HPKE and by ``AES256GCM``.
    public var nonceByteCount: Int { 12 }
    /// Tag length in bytes.
    public var tagByteCount: Int { 16 }

    /// RFC 9180 AEAD identifier.
    public var hpkeID: UInt16 {
        switch self {
        case .aes128GCM: 0x0001
        case .aes256GCM: 0x0002
        }
    }

    package var cipher: OpaquePointer {
        switch self {
        case .aes128GCM: Algorithms.shared.aes128GCM
        case .aes256GCM: Algorithms.shared.aes256GCM
        }
    }
}

/// Sole owner of one `EVP_CIPHER_CTX`, freed in `deinit`; used for a single operation.
package final class CipherContext {
    package let ctx: OpaquePointer

    package init() throws {
        guard let ctx = EVP_CIPHER_CTX_new() else { throw CryptoError(.openSSLFailure, "EVP_CIPHER_CTX_new") }
        self.ctx = ctx
    }

    deinit { EVP_CIPHER_CTX_free(ctx) }
}

/// AES-GCM with a caller-supplied nonce: the building block of ``AES256GCM`` and ``HPKE``, and
/// the entry point for known-answer tests.
///
/// The caller must never use a (key, nonce) pair twice: GCM loses both confidentiality and
/// integrity when a nonce repeats. Prefer ``AES256GCM``, which draws random nonces.
public enum AESGCM {
    /// Tag length in bytes.
    public static let tagByteCount = 16

    /// Encrypts `plaintext`; returns `ciphertext ‖ tag(16)`.
    public static func seal(
        _ plaintext: [UInt8], key: SecureBytes, nonce: [UInt8], aad: [UInt8], algorithm: AEADAlgorithm
    ) throws -> [UInt8] {
        try key.withUnsafeBytes { k in
            try nonce.withUnsafeBytes { n in
                try aad.withUnsafeBytes { a in
                    try plaintext.withUnsafeBytes { p in
                        try seal(plaintext: p, key: k, nonce: n, aad: a, algorithm: algorithm)
                    }
                }
            }
        }
    }

    package static func start(
        _ context: CipherContext, encrypt: Bool, key: UnsafeRawBufferPointer, nonce: UnsafeRawBufferPointer,
        aad: UnsafeRawBufferPointer, algorithm: AEADAlgorithm
    ) throws {
        guard key.count == algorithm.keyByteCount else {
            throw CryptoError(.invalidKey, "AES-GCM key must be \(algorithm.keyByteCount) bytes")
        }
        guard nonce.count > 0, nonce.count <= 128 else { throw CryptoError(.invalidInput, "AES-GCM nonce length") }
        let ctx = context.ctx
        let initialize = encrypt ? EVP_EncryptInit_ex2 : EVP_DecryptInit_ex2
        guard initialize(ctx, algorithm.cipher, nil, nil, nil) == 1,
              fetchde_gcm_set_ivlen(ctx, Int32(nonce.count)) == 1,
              initialize(ctx, nil, key.baseAddress?.assumingMemoryBound(to: UInt8.self),
                         nonce.baseAddress?.assumingMemoryBound(to: UInt8.self), nil) == 1
        else { throw CryptoError(.openSSLFailure, "AES-GCM init") }
        if let base = aad.baseAddress, aad.count > 0 {
            var outLength: Int32 = 0
            let update = encrypt ? EVP_EncryptUpdate : EVP_DecryptUpdate
            guard update(ctx, nil, &outLength, base.assumingMemoryBound(to: UInt8.self), Int32(aad.count)) == 1 else {
                throw CryptoError(.openSSLFailure, "AES-GCM associated data")
            }
        }
    }

    static func seal(
        plaintext: UnsafeRawBufferPointer, key: UnsafeRawBufferPointer, nonce: UnsafeRawBufferPointer,
        aad: UnsafeRawBufferPointer, algorithm: AEADAlgorithm
    ) throws -> [UInt8] {
        guard plaintext.count <= Int(Int32.max) - 64, aad.count <= Int(Int32.max) else {
            throw CryptoError(.invalidInput, "AES-GCM input too long")
        }
        let context = try CipherContext()
        try start(context, encrypt: true, key: key, nonce: nonce, aad: aad, algorithm: algorithm)
        var output = [UInt8](repeating: 0, count: plaintext.count + tagByteCount)
        try output.withUnsafeMutableBytes { out in
            let outBase = out.baseAddress!.assumingMemoryBound(to: UInt8.self)
            var length: Int32 = 0
            if let base = plaintext.baseAddress, plaintext.count > 0 {
                guard EVP_EncryptUpdate(context.ctx, outBase, &length, base.assumingMemoryBound(to: UInt8.self),
                                        Int32(plaintext.count)) == 1, Int(length) == plaintext.count
                else { throw CryptoError(.openSSLFailure, "AES-GCM encrypt") }
            }
            var finalLength: Int32 = 0
            guard EVP_EncryptFinal_ex(context.ctx, outBase + plaintext.count, &finalLength) == 1, finalLength == 0,
                  fetchde_gcm_get_tag(context.ctx, outBase + plaintext.count, Int32(tagByteCount)) == 1
            else { throw CryptoError(.openSSLFailure, "AES-GCM tag") }
        }
        return output
    }

}

/// AES-256-GCM with random 96-bit nonces, for the vault's entries and anything else sealed at
/// rest. Sealed format: `nonce(12) ‖ ciphertext ‖ tag(16)`.
///
/// Random nonces are safe for up to 2³² messages per key; the pipeline rolls its data key long
/// before that (SPEC §4).
public enum AES256GCM {
    /// Bytes added by ``seal(_:key:aad:)``: nonce plus tag.
    public static let overhead = 12 + 16

    /// Encrypts `plaintext` under a 32-byte `key`, binding `aad` (e.g. field, token, key id).
    public static func seal(_ plaintext: [UInt8], key: SecureBytes, aad: [UInt8]) throws -> [UInt8] {
        var nonce = [UInt8](repeating: 0, count: 12)
        nonce.withUnsafeMutableBytes { SecureRandom.fill($0) }
        let sealed = try AESGCM.seal(plaintext, key: key, nonce: nonce, aad: aad, algorithm: .aes256GCM)
        return nonce + sealed
    }

}
