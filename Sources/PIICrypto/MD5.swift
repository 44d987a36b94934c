import COpenSSL

/// MD5 (`EVP_Digest` with `EVP_md5`), only to check SQS's `MD5OfBody` integrity field.
///
/// MD5 is broken for security purposes; here it is what the SQS protocol defines for
/// detecting corruption in transit, and nothing relies on it for authenticity.
public enum MD5 {
    /// Lowercase hex digest of `data`.
    public static func hexDigest(_ data: [UInt8]) -> String {
        var digest = [UInt8](repeating: 0, count: 16)
        var length: UInt32 = 0
        let ok = data.withUnsafeBytes { input in
            digest.withUnsafeMutableBufferPointer { out in
                EVP_Digest(input.baseAddress ?? UnsafeRawPointer(out.baseAddress!), input.count, out.baseAddress, &length, EVP_md5(), nil)
            }
        }
        guard ok == 1, length == 16 else { fatalError("EVP_Digest(MD5) failed: \(CryptoError.drainOpenSSLErrors())") }
        return Hex.encode(digest)
    }

    /// Lowercase hex digest of the UTF-8 encoding of `s`.
    public static func hexDigest(_ s: String) -> String {
        hexDigest(Array(s.utf8))
    }
}
