/// HKDF-SHA-256 (RFC 5869), built on ``HMACSHA256``.
///
/// Written over HMAC rather than OpenSSL's `EVP_KDF` so that an empty salt (used by the token
/// keys and by HPKE's labeled extract) is handled exactly as the RFC says, and every
/// intermediate block lives in wiped storage.
public enum HKDFSHA256 {
    /// HKDF-Extract: `PRK = HMAC-SHA256(salt, IKM)`. An empty salt means 32 zero bytes.
    public static func extract(salt: [UInt8], ikm: SecureBytes) -> SecureBytes {
        ikm.withUnsafeBytes { i in salt.withUnsafeBytes { s in extract(salt: s, ikm: i) } }
    }

    /// HKDF-Expand: `length` bytes (at most 255 × 32) of output keying material from `prk`.
    public static func expand(prk: SecureBytes, info: [UInt8], length: Int) -> SecureBytes {
        prk.withUnsafeBytes { p in info.withUnsafeBytes { i in expand(prk: p, info: i, length: length) } }
    }

    /// Extract-then-expand in one call.
    public static func deriveKey(ikm: SecureBytes, salt: [UInt8], info: [UInt8], length: Int) -> SecureBytes {
        expand(prk: extract(salt: salt, ikm: ikm), info: info, length: length)
    }

    /// Extract-then-expand for non-secret or already-exposed input keying material.
    public static func deriveKey(ikm: [UInt8], salt: [UInt8], info: [UInt8], length: Int) -> SecureBytes {
        deriveKey(ikm: SecureBytes(ikm), salt: salt, info: info, length: length)
    }

    static func extract(salt: UnsafeRawBufferPointer, ikm: UnsafeRawBufferPointer) -> SecureBytes {
        SecureBytes(count: HMACSHA256.byteCount) { out in
            do {
                let context = try HMACContext(key: salt)
                guard context.update(ikm), context.finalize(into: out) else {
                    throw CryptoError(.openSSLFailure, "HKDF-Extract")
                }
            } catch {
                fatalError("HKDF-SHA256 extract failed: \(String(reflecting: error))")
            }
        }
    }

    static func expand(prk: UnsafeRawBufferPointer, info: UnsafeRawBufferPointer, length: Int) -> SecureBytes {
        precondition(length >= 0 && length <= 255 * HMACSHA256.byteCount, "HKDF-Expand length out of range")
        return SecureBytes(count: length) { out in
            do {
                let keyed = try HMACContext(key: prk)
                // T(i) = HMAC(PRK, T(i-1) | info | i); `block` holds T(i-1) and is wiped on exit.
                let block = SecureBytes(count: HMACSHA256.byteCount)
                let blockBuffer = UnsafeMutableRawBufferPointer(start: block.storage.pointer, count: block.count)
                var produced = 0
                var counter: UInt8 = 1
                while produced < length {
                    let context = try keyed.copy()
                    var ok = true
                    if counter > 1 { ok = ok && context.update(UnsafeRawBufferPointer(blockBuffer)) }
                    ok = ok && context.update(info)
                    ok = ok && withUnsafeBytes(of: counter) { context.update($0) }
                    ok = ok && context.finalize(into: blockBuffer)
                    guard ok else { throw CryptoError(.openSSLFailure, "HKDF-Expand") }
                    let take = min(HMACSHA256.byteCount, length - produced)
                    out.baseAddress!.advanced(by: produced).copyMemory(from: blockBuffer.baseAddress!, byteCount: take)
                    produced += take
                    counter &+= 1
                }
            } catch {
                fatalError("HKDF-SHA256 expand failed: \(String(reflecting: error))")
            }
        }
    }
}
