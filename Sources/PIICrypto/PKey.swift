import COpenSSL

/// Sole owner of one `EVP_PKEY`, freed in `deinit`.
///
/// `@unchecked Sendable` is safe: the key is never modified after creation, and OpenSSL allows
/// concurrent read-only use of an `EVP_PKEY` (each derive makes its own `EVP_PKEY_CTX`).
package final class PKey: @unchecked Sendable {
    package let pkey: OpaquePointer

    package init(owning pkey: OpaquePointer) { self.pkey = pkey }

    deinit { EVP_PKEY_free(pkey) }
}
