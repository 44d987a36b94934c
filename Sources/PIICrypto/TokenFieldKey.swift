import COpenSSL
import Synchronization

/// HMAC-SHA256 under one field key, tuned for many short messages.
///
/// HMAC(K, m) = H((K ⊕ opad) ‖ H((K ⊕ ipad) ‖ m)). The two key blocks are absorbed once into
/// `inner` and `outer` `EVP_MD_CTX` templates; each MAC copies a template into a work context
/// (`EVP_MD_CTX_copy_ex`), so a token costs two SHA-256 compressions and no key schedule.
/// Work contexts are reused from a small mutex-guarded pool instead of being allocated per call.
///
/// `@unchecked Sendable` is safe: `inner`/`outer` are written only in `init` and afterwards only
/// read (`EVP_MD_CTX_copy_ex` reads its source: it copies the struct and duplicates the SHA-256
/// state), which OpenSSL permits from several threads at once. A work context is owned by
/// exactly one thread between `take()` and `give(_:)`, and the pool array is touched only while
/// holding `pool`'s mutex.
final class TokenFieldKey: @unchecked Sendable {
    /// Work contexts kept for reuse: more than the cores of any host we run on.
    private static let capacity = 64

    private let inner: OpaquePointer
    private let outer: OpaquePointer
    private let slots: UnsafeMutablePointer<OpaquePointer?>
    private let pool = Mutex(0)  // number of filled slots

    init(key: SecureBytes) throws {
        guard let inner = EVP_MD_CTX_new() else { throw CryptoError(.openSSLFailure, "EVP_MD_CTX_new") }
        guard let outer = EVP_MD_CTX_new() else {
            EVP_MD_CTX_free(inner)
            throw CryptoError(.openSSLFailure, "EVP_MD_CTX_new")
        }
        self.inner = inner
        self.outer = outer
        slots = .allocate(capacity: Self.capacity)
        slots.initialize(repeating: nil, count: Self.capacity)

        // Key blocks K ⊕ ipad and K ⊕ opad (K ≤ 64 bytes, zero padded), in wiped storage.
        precondition(key.count <= 64, "token field keys are 32 bytes")
        let blocks = SecureBytes(count: 128) { out in
            key.withUnsafeBytes { k in
                for i in 0..<64 {
                    let byte: UInt8 = i < k.count ? k[i] : 0
                    out[i] = byte ^ 0x36
                    out[64 + i] = byte ^ 0x5c
                }
            }
        }
        let sha256 = Algorithms.shared.sha256
        let ok = blocks.withUnsafeBytes { b in
            EVP_DigestInit_ex2(inner, sha256, nil) == 1 && EVP_DigestUpdate(inner, b.baseAddress, 64) == 1
                && EVP_DigestInit_ex2(outer, sha256, nil) == 1 && EVP_DigestUpdate(outer, b.baseAddress! + 64, 64) == 1
        }
        guard ok else { throw CryptoError(.openSSLFailure, "HMAC key block") }
    }

    deinit {
        for i in 0..<Self.capacity {
            if let ctx = slots[i] { EVP_MD_CTX_free(ctx) }
        }
        slots.deallocate()
        EVP_MD_CTX_free(inner)
        EVP_MD_CTX_free(outer)
    }

    @inline(__always)
    private func take() -> OpaquePointer {
        let pooled: OpaquePointer? = pool.withLock { count in
            guard count > 0 else { return nil }
            count -= 1
            let ctx = slots[count]
            slots[count] = nil
            return ctx
        }
        if let pooled { return pooled }
        guard let ctx = EVP_MD_CTX_new() else { fatalError("EVP_MD_CTX_new failed (out of memory)") }
        return ctx
    }

    @inline(__always)
    private func give(_ ctx: OpaquePointer) {
        let kept: Bool = pool.withLock { count in
            guard count < Self.capacity else { return false }
            slots[count] = ctx
            count += 1
            return true
        }
        if !kept { EVP_MD_CTX_free(ctx) }
    }

    /// Writes HMAC(K, message) (32 bytes) to `mac`.
    @inline(__always)
    func authenticate(_ message: UnsafeRawPointer, count: Int, into mac: UnsafeMutablePointer<UInt8>) {
        let ctx = take()
        defer { give(ctx) }
        var length: UInt32 = 0
        // `mac` first holds the inner hash, then the MAC.
        guard EVP_MD_CTX_copy_ex(ctx, inner) == 1, EVP_DigestUpdate(ctx, message, count) == 1,
              EVP_DigestFinal_ex(ctx, mac, &length) == 1,
              EVP_MD_CTX_copy_ex(ctx, outer) == 1, EVP_DigestUpdate(ctx, mac, 32) == 1,
              EVP_DigestFinal_ex(ctx, mac, &length) == 1
        else { fatalError("SHA-256 failed while tokenizing: \(CryptoError.drainOpenSSLErrors())") }
    }
}
