import PIICrypto

/// The two primitives SigV4 needs, behind one seam so the signer does not care where they live.
enum SigV4Digest {
    static func sha256(_ bytes: [UInt8]) -> [UInt8] {
        SHA256.hash(bytes)
    }

    static func hmacSHA256(key: [UInt8], message: [UInt8]) -> [UInt8] {
        HMACSHA256.authenticationCode(key: key, message: message)
    }
}
