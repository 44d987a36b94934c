import COpenSSL

/// SHA-256 (`EVP_Digest`), e.g. for the audit hash chain.
public enum SHA256 {
    /// Length of a digest in bytes.
    public static let byteCount = 32

    /// The 32-byte digest of `data`.
    public static func hash(_ data: [UInt8]) -> [UInt8] {
        data.withUnsafeBytes { hash($0) }
    }

    /// The digest of the UTF-8 encoding of `s`.
    public static func hash(_ s: String) -> [UInt8] {
        hash(Array(s.utf8))
    }

    /// Lowercase hex digest of `data`.
    public static func hexHash(_ data: [UInt8]) -> String {
        Hex.encode(hash(data))
    }

    /// Lowercase hex digest of the UTF-8 encoding of `s`.
    public static func hexHash(_ s: String) -> String {
        Hex.encode(hash(s))
    }

    static func hash(_ data: UnsafeRawBufferPointer) -> [UInt8] {
        var digest = [UInt8](repeating: 0, count: byteCount)
        var length: UInt32 = 0
        let ok = digest.withUnsafeMutableBufferPointer { out in
            EVP_Digest(data.baseAddress ?? UnsafeRawPointer(out.baseAddress!), data.count,
                       out.baseAddress, &length, Algorithms.shared.sha256, nil)
        }
        guard ok == 1, length == byteCount else {
            fatalError("EVP_Digest(SHA256) failed: \(CryptoError.drainOpenSSLErrors())")
        }
        return digest
    }
}
