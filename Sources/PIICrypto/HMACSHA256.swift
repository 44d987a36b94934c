/// HMAC-SHA-256 (RFC 2104) through OpenSSL's `EVP_MAC`.
public enum HMACSHA256 {
    /// Length of a MAC in bytes.
    public static let byteCount = 32

    /// The 32-byte MAC of `message` under `key`.
    public static func authenticationCode(key: [UInt8], message: [UInt8]) -> [UInt8] {
        key.withUnsafeBytes { k in message.withUnsafeBytes { m in mac(key: k, message: m) } }
    }

    /// The 32-byte MAC of `message` under a secret `key`.
    public static func authenticationCode(key: SecureBytes, message: [UInt8]) -> [UInt8] {
        key.withUnsafeBytes { k in message.withUnsafeBytes { m in mac(key: k, message: m) } }
    }

    static func mac(key: UnsafeRawBufferPointer, message: UnsafeRawBufferPointer) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: byteCount)
        do {
            let context = try HMACContext(key: key)
            let ok = context.update(message) && out.withUnsafeMutableBytes { context.finalize(into: $0) }
            guard ok else { throw CryptoError(.openSSLFailure, "HMAC-SHA256 update/final") }
        } catch {
            // Only reachable when OpenSSL cannot allocate or lacks SHA-256: nothing sensible to return.
            fatalError("HMAC-SHA256 failed: \(String(reflecting: error))")
        }
        return out
    }
}
