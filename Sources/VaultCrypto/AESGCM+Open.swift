import COpenSSL
import COpenSSLShims
public import PIICrypto

// The opening half of AES-GCM: only the vault holds it (SPEC §4: the ingest binary has no path
// from a ciphertext back to plaintext). Sealing stays in PIICrypto.

extension AESGCM {
    /// Decrypts `ciphertext ‖ tag(16)`. Any mismatch (key, nonce, associated data, a flipped
    /// bit, truncation) throws ``CryptoError/Code/authenticationFailure`` and returns nothing.
    public static func open(
        _ sealed: [UInt8], key: SecureBytes, nonce: [UInt8], aad: [UInt8], algorithm: AEADAlgorithm
    ) throws -> SecureBytes {
        try key.withUnsafeBytes { k in
            try nonce.withUnsafeBytes { n in
                try aad.withUnsafeBytes { a in
                    try sealed.withUnsafeBytes { s in
                        try open(sealed: s, key: k, nonce: n, aad: a, algorithm: algorithm)
                    }
                }
            }
        }
    }

    static func open(
        sealed: UnsafeRawBufferPointer, key: UnsafeRawBufferPointer, nonce: UnsafeRawBufferPointer,
        aad: UnsafeRawBufferPointer, algorithm: AEADAlgorithm
    ) throws -> SecureBytes {
        guard sealed.count >= tagByteCount else { throw CryptoError(.authenticationFailure, "AES-GCM input truncated") }
        guard sealed.count <= Int(Int32.max), aad.count <= Int(Int32.max) else {
            throw CryptoError(.invalidInput, "AES-GCM input too long")
        }
        let context = try CipherContext()
        try start(context, encrypt: false, key: key, nonce: nonce, aad: aad, algorithm: algorithm)
        let ciphertextCount = sealed.count - tagByteCount
        let sealedBase = sealed.baseAddress!.assumingMemoryBound(to: UInt8.self)
        var authentic = false
        let plaintext = try SecureBytes(count: ciphertextCount) { out in
            let scratch = UnsafeMutablePointer<UInt8>.allocate(capacity: ciphertextCount + 16)
            defer {
                OPENSSL_cleanse(scratch, ciphertextCount + 16)
                scratch.deallocate()
            }
            var length: Int32 = 0
            if ciphertextCount > 0 {
                guard EVP_DecryptUpdate(context.ctx, scratch, &length, sealedBase, Int32(ciphertextCount)) == 1,
                      Int(length) == ciphertextCount
                else { throw CryptoError(.openSSLFailure, "AES-GCM decrypt") }
            }
            guard fetchde_gcm_set_tag(context.ctx, sealedBase + ciphertextCount, Int32(tagByteCount)) == 1 else {
                throw CryptoError(.openSSLFailure, "AES-GCM set tag")
            }
            var finalLength: Int32 = 0
            // Only release the plaintext once the tag has verified.
            authentic = EVP_DecryptFinal_ex(context.ctx, scratch + ciphertextCount, &finalLength) == 1
            if authentic, ciphertextCount > 0 {
                out.baseAddress!.copyMemory(from: scratch, byteCount: ciphertextCount)
            }
        }
        guard authentic else { throw CryptoError(.authenticationFailure, "AES-GCM tag did not verify") }
        return plaintext
    }
}

extension AES256GCM {
    /// Decrypts the output of ``seal(_:key:aad:)``. Wrong key, wrong `aad`, any altered byte or
    /// a truncated input throws ``CryptoError/Code/authenticationFailure``; never returns garbage.
    public static func open(_ combined: [UInt8], key: SecureBytes, aad: [UInt8]) throws -> [UInt8] {
        try openSecure(combined, key: key, aad: aad).withUnsafeBytes { Array($0) }
    }

    /// As ``open(_:key:aad:)`` but keeps the plaintext in wiped storage (for data keys).
    public static func openSecure(_ combined: [UInt8], key: SecureBytes, aad: [UInt8]) throws -> SecureBytes {
        guard key.count == 32 else { throw CryptoError(.invalidKey, "AES-256-GCM key must be 32 bytes") }
        guard combined.count >= overhead else { throw CryptoError(.authenticationFailure, "AES-256-GCM input truncated") }
        return try key.withUnsafeBytes { k in
            try aad.withUnsafeBytes { a in
                try combined.withUnsafeBytes { c in
                    try AESGCM.open(sealed: UnsafeRawBufferPointer(rebasing: c[12...]), key: k,
                                    nonce: UnsafeRawBufferPointer(rebasing: c[..<12]), aad: a, algorithm: .aes256GCM)
                }
            }
        }
    }
}
