import COpenSSL

/// OpenSSL algorithm implementations fetched once per process.
///
/// `@unchecked Sendable` is safe: the pointers are set once in `init` and never changed, and
/// OpenSSL documents fetched `EVP_MD`/`EVP_MAC`/`EVP_CIPHER` objects as immutable and shareable
/// between threads (they are reference counted and only read by the contexts that use them).
final class Algorithms: @unchecked Sendable {
    static let shared = Algorithms()

    /// `EVP_MD *` for SHA-256.
    let sha256: OpaquePointer
    /// `EVP_MAC *` for HMAC.
    let hmac: OpaquePointer
    /// `EVP_CIPHER *` for AES-128-GCM.
    let aes128GCM: OpaquePointer
    /// `EVP_CIPHER *` for AES-256-GCM.
    let aes256GCM: OpaquePointer

    private init() {
        guard let sha256 = EVP_MD_fetch(nil, "SHA256", nil),
              let hmac = EVP_MAC_fetch(nil, "HMAC", nil),
              let aes128GCM = EVP_CIPHER_fetch(nil, "AES-128-GCM", nil),
              let aes256GCM = EVP_CIPHER_fetch(nil, "AES-256-GCM", nil)
        else {
            fatalError("OpenSSL does not provide SHA256, HMAC or AES-GCM: \(CryptoError.drainOpenSSLErrors())")
        }
        self.sha256 = sha256
        self.hmac = hmac
        self.aes128GCM = aes128GCM
        self.aes256GCM = aes256GCM
    }

    deinit {
        EVP_MD_free(sha256)
        EVP_MAC_free(hmac)
        EVP_CIPHER_free(aes128GCM)
        EVP_CIPHER_free(aes256GCM)
    }
}
