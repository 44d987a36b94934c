import PIICrypto
import VaultCrypto
import Testing

/// AES-256-GCM known answers: McGrew & Viega, "The Galois/Counter Mode of Operation (GCM)",
/// Appendix B, test cases 13–18 (the 256-bit key cases; 17 uses a 64-bit IV, 18 a 480-bit IV).
@Suite("AES-GCM")
struct AESGCMTests {
    struct Vector: Sendable, CustomTestStringConvertible {
        let name: String
        let key: String
        let iv: String
        let plaintext: String
        let aad: String
        let ciphertext: String
        let tag: String
        var testDescription: String { name }
    }

    static let key2 = "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308"
    static let plaintext60 = "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
        + "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39"
    static let aad20 = "feedfacedeadbeeffeedfacedeadbeefabaddad2"

    static let vectors: [Vector] = [
        Vector(name: "test case 13", key: String(repeating: "00", count: 32), iv: String(repeating: "00", count: 12),
               plaintext: "", aad: "", ciphertext: "", tag: "530f8afbc74536b9a963b4f1c4cb738b"),
        Vector(name: "test case 14", key: String(repeating: "00", count: 32), iv: String(repeating: "00", count: 12),
               plaintext: String(repeating: "00", count: 16), aad: "",
               ciphertext: "cea7403d4d606b6e074ec5d3baf39d18", tag: "d0d1c8a799996bf0265b98b5d48ab919"),
        Vector(name: "test case 15", key: key2, iv: "cafebabefacedbaddecaf888",
               plaintext: plaintext60 + "1aafd255", aad: "",
               ciphertext: "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
                   + "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662898015ad",
               tag: "b094dac5d93471bdec1a502270e3cc6c"),
        Vector(name: "test case 16", key: key2, iv: "cafebabefacedbaddecaf888", plaintext: plaintext60, aad: aad20,
               ciphertext: "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
                   + "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662",
               tag: "76fc6ece0f4e1768cddf8853bb2d551b"),
        Vector(name: "test case 17 (64-bit IV)", key: key2, iv: "cafebabefacedbad", plaintext: plaintext60, aad: aad20,
               ciphertext: "c3762df1ca787d32ae47c13bf19844cbaf1ae14d0b976afac52ff7d79bba9de0"
                   + "feb582d33934a4f0954cc2363bc73f7862ac430e64abe499f47c9b1f",
               tag: "3a337dbf46a792c45e454913fe2ea8f2"),
        Vector(name: "test case 18 (480-bit IV)", key: key2,
               iv: "9313225df88406e555909c5aff5269aa6a7a9538534f7da1e4c303d2a318a728"
                   + "c3c0c95156809539fcf0e2429a6b525416aedbf5a0de6a57a637b39b",
               plaintext: plaintext60, aad: aad20,
               ciphertext: "5a8def2f0c9e53f1f75d7853659e2a20eeb2b22aafde6419a058ab4f6f746bf4"
                   + "0fc0c3b780f244452da3ebf1c5d82cdea2418997200ef82e44ae7e3f",
               tag: "a44a8266ee1c8eb0c8b5d4cf5ae9f19a"),
    ]

    @Test(arguments: vectors)
    func knownAnswer(_ vector: Vector) throws {
        let key = SecureBytes(hex(vector.key))
        let sealed = try AESGCM.seal(hex(vector.plaintext), key: key, nonce: hex(vector.iv), aad: hex(vector.aad),
                                     algorithm: .aes256GCM)
        #expect(toHex(sealed) == vector.ciphertext + vector.tag)
        let opened = try AESGCM.open(sealed, key: key, nonce: hex(vector.iv), aad: hex(vector.aad), algorithm: .aes256GCM)
        #expect(bytes(opened) == hex(vector.plaintext))
    }

    @Test func roundTripWithRandomNonce() throws {
        let key = SecureBytes.random(count: 32)
        let plaintext = Array("192.0.2.1".utf8)
        let aad = Array("ip|token|dek-1".utf8)
        let a = try AES256GCM.seal(plaintext, key: key, aad: aad)
        let b = try AES256GCM.seal(plaintext, key: key, aad: aad)
        #expect(a.count == plaintext.count + AES256GCM.overhead)
        #expect(a != b, "random nonces make two seals of one value differ")
        #expect(try AES256GCM.open(a, key: key, aad: aad) == plaintext)
        #expect(try AES256GCM.open(b, key: key, aad: aad) == plaintext)
        #expect(try bytes(AES256GCM.openSecure(a, key: key, aad: aad)) == plaintext)
        #expect(try AES256GCM.open(try AES256GCM.seal([], key: key, aad: []), key: key, aad: []) == [])
    }

    /// Every single-bit flip anywhere (nonce, ciphertext, tag) must be rejected.
    @Test func tamperedInputIsRejected() throws {
        let key = SecureBytes.random(count: 32)
        let aad = Array("aad".utf8)
        let sealed = try AES256GCM.seal(Array("device-0001".utf8), key: key, aad: aad)
        let regions: [(String, Int)] = [("nonce", 0), ("nonce", 11), ("ciphertext", 12), ("ciphertext", sealed.count - 17),
                                        ("tag", sealed.count - 16), ("tag", sealed.count - 1)]
        for (_, index) in regions {
            for bit in [0, 7] {
                var tampered = sealed
                tampered[index] ^= UInt8(1 << bit)
                #expect(throws: CryptoError.self) { try AES256GCM.open(tampered, key: key, aad: aad) }
            }
        }
        let error = #expect(throws: CryptoError.self) {
            var tampered = sealed
            tampered[12] ^= 1
            return try AES256GCM.open(tampered, key: key, aad: aad)
        }
        #expect(error?.code == .authenticationFailure)
    }

    @Test func wrongAADKeyOrTruncationIsRejected() throws {
        let key = SecureBytes.random(count: 32)
        let sealed = try AES256GCM.seal(Array("value".utf8), key: key, aad: Array("row-1".utf8))
        let wrongAAD = #expect(throws: CryptoError.self) { try AES256GCM.open(sealed, key: key, aad: Array("row-2".utf8)) }
        #expect(wrongAAD?.code == .authenticationFailure)
        let wrongKey = #expect(throws: CryptoError.self) {
            try AES256GCM.open(sealed, key: SecureBytes.random(count: 32), aad: Array("row-1".utf8))
        }
        #expect(wrongKey?.code == .authenticationFailure)
        for length in [0, 11, 12, 27, sealed.count - 1] {
            let truncated = Array(sealed.prefix(length))
            let error = #expect(throws: CryptoError.self) { try AES256GCM.open(truncated, key: key, aad: Array("row-1".utf8)) }
            #expect(error?.code == .authenticationFailure)
        }
        #expect(throws: CryptoError.self) { try AES256GCM.seal([1], key: SecureBytes.random(count: 16), aad: []) }
    }

    @Test func errorDescriptionIsGeneric() throws {
        let key = SecureBytes.random(count: 32)
        let sealed = try AES256GCM.seal(Array("secret-plaintext".utf8), key: key, aad: [])
        do {
            _ = try AES256GCM.open(sealed, key: key, aad: [1])
            Issue.record("expected failure")
        } catch let error as CryptoError {
            #expect(!error.description.contains("secret-plaintext"))
            #expect(error.description.contains("authenticationFailure"))
        }
    }
}
