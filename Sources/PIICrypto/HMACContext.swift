import COpenSSL
import COpenSSLShims

/// Sole owner of one keyed HMAC-SHA256 `EVP_MAC_CTX`, freed in `deinit`.
///
/// Not thread-safe: one user at a time. `@unchecked Sendable` only so a context can be *moved*
/// between threads through the tokenizer's mutex-guarded pool; no code shares one context
/// between two threads concurrently (a context is used only by whoever took it from the pool).
final class HMACContext: @unchecked Sendable {
    static let macLength = 32
    let ctx: OpaquePointer

    /// A context keyed with `key`; an empty key is valid (RFC 2104 pads it with zeros).
    init(key: UnsafeRawBufferPointer) throws {
        guard let ctx = EVP_MAC_CTX_new(Algorithms.shared.hmac) else {
            throw CryptoError(.openSSLFailure, "EVP_MAC_CTX_new(HMAC)")
        }
        self.ctx = ctx
        guard fetchde_hmac_sha256_init(ctx, key.baseAddress?.assumingMemoryBound(to: UInt8.self), key.count) == 1 else {
            throw CryptoError(.openSSLFailure, "EVP_MAC_init(HMAC-SHA256)")
        }
    }

    private init(owning ctx: OpaquePointer) { self.ctx = ctx }

    deinit { EVP_MAC_CTX_free(ctx) }

    /// An independent copy carrying the same key schedule (`EVP_MAC_CTX_dup`).
    func copy() throws -> HMACContext {
        guard let dup = EVP_MAC_CTX_dup(ctx) else { throw CryptoError(.openSSLFailure, "EVP_MAC_CTX_dup") }
        return HMACContext(owning: dup)
    }

    /// Restarts a fresh MAC with the same key, reusing the precomputed ipad/opad states.
    @inline(__always)
    func reset() -> Bool { EVP_MAC_init(ctx, nil, 0, nil) == 1 }

    @inline(__always)
    func update(_ data: UnsafeRawBufferPointer) -> Bool {
        guard let base = data.baseAddress, data.count > 0 else { return true }
        return EVP_MAC_update(ctx, base.assumingMemoryBound(to: UInt8.self), data.count) == 1
    }

    /// Writes the 32-byte MAC into `out` (at least 32 bytes).
    @inline(__always)
    func finalize(into out: UnsafeMutableRawBufferPointer) -> Bool {
        var length = 0
        let ok = EVP_MAC_final(ctx, out.baseAddress?.assumingMemoryBound(to: UInt8.self), &length, out.count)
        return ok == 1 && length == Self.macLength
    }
}
