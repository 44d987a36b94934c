import PIICrypto
import VaultCrypto
import Testing

/// RFC 7748 §5.2 (scalar multiplication) and §6.1 (Diffie-Hellman) vectors.
@Suite("X25519 (RFC 7748)")
struct X25519Tests {
    @Test(arguments: [
        ("a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4",
         "e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c",
         "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552"),
        ("4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d",
         "e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493",
         "95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957"),
    ])
    func scalarMultiplication(scalar: String, u: String, output: String) throws {
        let key = try X25519PrivateKey(rawRepresentation: SecureBytes(hex(scalar)))
        let peer = try X25519PublicKey(rawRepresentation: hex(u))
        #expect(toHex(try key.sharedSecret(with: peer)) == output)
    }

    @Test func aliceAndBob() throws {
        let alice = try X25519PrivateKey(rawRepresentation: SecureBytes(hex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a")))
        let bob = try X25519PrivateKey(rawRepresentation: SecureBytes(hex("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb")))
        #expect(toHex(alice.publicKey.rawRepresentation) == "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a")
        #expect(toHex(bob.publicKey.rawRepresentation) == "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f")
        let shared = "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742"
        #expect(toHex(try alice.sharedSecret(with: bob.publicKey)) == shared)
        #expect(toHex(try bob.sharedSecret(with: alice.publicKey)) == shared)
        #expect(toHex(alice.rawRepresentation) == "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a")
    }

    @Test func generatedKeysAgree() throws {
        let a = X25519PrivateKey()
        let b = X25519PrivateKey()
        #expect(try a.sharedSecret(with: b.publicKey) == b.sharedSecret(with: a.publicKey))
        #expect(a.publicKey != b.publicKey)
    }

    @Test func lowOrderPointIsRejected() throws {
        let key = X25519PrivateKey()
        let zero = try X25519PublicKey(rawRepresentation: [UInt8](repeating: 0, count: 32))
        let error = #expect(throws: CryptoError.self) { try key.sharedSecret(with: zero) }
        #expect(error?.code == .invalidKey)
        #expect(throws: CryptoError.self) { try X25519PublicKey(rawRepresentation: [1, 2, 3]) }
        #expect(throws: CryptoError.self) { try X25519PrivateKey(rawRepresentation: SecureBytes(count: 31)) }
    }

    @Test func pemRoundTrips() throws {
        let key = X25519PrivateKey()
        let plain = try key.pemRepresentation(passphrase: nil)
        #expect(plain.hasPrefix("-----BEGIN PRIVATE KEY-----"))
        #expect(try X25519PrivateKey(pemRepresentation: plain, passphrase: nil).rawRepresentation == key.rawRepresentation)

        let encrypted = try key.pemRepresentation(passphrase: "correct horse")
        #expect(encrypted.hasPrefix("-----BEGIN ENCRYPTED PRIVATE KEY-----"))
        #expect(try X25519PrivateKey(pemRepresentation: encrypted, passphrase: "correct horse").rawRepresentation
            == key.rawRepresentation)
        let wrong = #expect(throws: CryptoError.self) { try X25519PrivateKey(pemRepresentation: encrypted, passphrase: "battery") }
        #expect(wrong?.code == .invalidKey)
        let missing = #expect(throws: CryptoError.self) { try X25519PrivateKey(pemRepresentation: encrypted, passphrase: nil) }
        #expect(missing?.code == .invalidKey)

        let publicPEM = key.publicKey.pemRepresentation
        #expect(publicPEM.hasPrefix("-----BEGIN PUBLIC KEY-----"))
        #expect(try X25519PublicKey(pemRepresentation: publicPEM) == key.publicKey)
        #expect(throws: CryptoError.self) { try X25519PublicKey(pemRepresentation: "not a key") }
        #expect(throws: CryptoError.self) { try X25519PrivateKey(pemRepresentation: publicPEM, passphrase: nil) }
    }
}
