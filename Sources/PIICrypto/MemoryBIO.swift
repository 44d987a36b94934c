import COpenSSL
import COpenSSLShims

/// Sole owner of one `BIO`, freed in `deinit`.
package final class MemoryBIO {
    package let bio: OpaquePointer

    /// An empty, writable memory BIO that wipes its buffer when freed (`BIO_s_secmem`).
    package init() throws {
        guard let bio = BIO_new(BIO_s_secmem()) else { throw CryptoError(.openSSLFailure, "BIO_new") }
        self.bio = bio
    }

    /// A read-only BIO over `bytes`; `bytes` must outlive this object (use it inside the scope).
    package init(reading bytes: UnsafeRawBufferPointer) throws {
        guard let bio = BIO_new_mem_buf(bytes.baseAddress, Int32(bytes.count)) else {
            throw CryptoError(.openSSLFailure, "BIO_new_mem_buf")
        }
        self.bio = bio
    }

    deinit { BIO_free(bio) }

    /// Everything written so far, copied into wiped storage.
    package func secureBytes() -> SecureBytes {
        var data: UnsafeMutablePointer<CChar>?
        let length = fetchde_bio_get_mem_data(bio, &data)
        guard let data, length > 0 else { return SecureBytes(count: 0) }
        return SecureBytes(count: length) { $0.baseAddress!.copyMemory(from: data, byteCount: length) }
    }

    /// Everything written so far, as text.
    package func string() -> String {
        var data: UnsafeMutablePointer<CChar>?
        let length = fetchde_bio_get_mem_data(bio, &data)
        guard let data, length > 0 else { return "" }
        return String(decoding: UnsafeRawBufferPointer(start: data, count: length), as: UTF8.self)
    }
}
