import Foundation
@testable import PIICrypto
import VaultCrypto
import Testing

/// RFC 9180 base mode with DHKEM(X25519, HKDF-SHA256) and HKDF-SHA256, from
/// `Vectors/hpke-rfc9180-base-x25519-hkdfsha256-aesgcm.json`:
/// - AES-128-GCM: the published RFC 9180 Appendix A.1.1 values;
/// - AES-256-GCM: RFC 9180 publishes none for X25519, so the entry was generated from the A.1.1
///   keys by an independent Python implementation that reproduces all of A.1.1 (see `source`).
@Suite("HPKE (RFC 9180)")
struct HPKETests {
    struct Vector: Decodable, Sendable, CustomTestStringConvertible {
        struct Encryption: Decodable, Sendable {
            let seq: UInt64
            let aad: String
            let nonce: String
            let plaintext: String
            let ciphertext: String
        }
        struct Export: Decodable, Sendable {
            let exportContext: String
            let exportLength: Int
            let exportValue: String
        }

        let mode: Int
        let kem_id: Int
        let kdf_id: Int
        let aead_id: Int
        let info: String
        let skRm: String
        let skEm: String
        let pkRm: String
        let pkEm: String
        let enc: String
        let shared_secret: String
        let key_schedule_context: String
        let secret: String
        let key: String
        let base_nonce: String
        let exporter_secret: String
        let encryptions: [Encryption]
        let exports: [Export]

        var aead: AEADAlgorithm { aead_id == 1 ? .aes128GCM : .aes256GCM }
        var testDescription: String { "mode \(mode) aead 0x000\(aead_id)" }
    }

    static func loadVectors() throws -> [Vector] {
        let url = try #require(Bundle.module.url(forResource: "hpke-rfc9180-base-x25519-hkdfsha256-aesgcm", withExtension: "json",
                                                 subdirectory: "Vectors"))
        return try JSONDecoder().decode([Vector].self, from: Data(contentsOf: url))
    }

    @Test func vectorFileHasBothAEADs() throws {
        let vectors = try Self.loadVectors()
        #expect(Set(vectors.map(\.aead_id)) == [1, 2])
        #expect(vectors.allSatisfy { $0.mode == 0 && $0.kem_id == 0x20 && $0.kdf_id == 1 })
    }

    @Test func rfc9180Vectors() throws {
        for vector in try Self.loadVectors() {
            let recipient = try X25519PrivateKey(rawRepresentation: SecureBytes(hex(vector.skRm)))
            #expect(toHex(recipient.publicKey.rawRepresentation) == vector.pkRm)
            let ephemeral = try X25519PrivateKey(rawRepresentation: SecureBytes(hex(vector.skEm)))
            #expect(toHex(ephemeral.publicKey.rawRepresentation) == vector.pkEm)

            var sender = try HPKE.setupBaseSender(recipient: recipient.publicKey, info: hex(vector.info), aead: vector.aead,
                                                  ephemeralPrivateKey: ephemeral)
            #expect(toHex(sender.encapsulatedKey) == vector.enc)
            let schedule = sender.schedule
            #expect(toHex(schedule.sharedSecret) == vector.shared_secret)
            #expect(toHex(schedule.keyScheduleContext) == vector.key_schedule_context)
            #expect(toHex(schedule.secret) == vector.secret)
            #expect(toHex(schedule.key) == vector.key)
            #expect(toHex(schedule.baseNonce) == vector.base_nonce)
            #expect(toHex(schedule.exporterSecret) == vector.exporter_secret)

            var receiver = try HPKE.setupBaseRecipient(encapsulatedKey: hex(vector.enc), recipient: recipient,
                                                       info: hex(vector.info), aead: vector.aead)
            for encryption in vector.encryptions.sorted(by: { $0.seq < $1.seq }) {
                #expect(toHex(schedule.nonce(sequenceNumber: encryption.seq)) == encryption.nonce)
                if sender.sequenceNumber == encryption.seq {
                    // In-order messages go through the public, auto-incrementing API.
                    let ciphertext = try sender.seal(aad: hex(encryption.aad), plaintext: hex(encryption.plaintext))
                    #expect(toHex(ciphertext) == encryption.ciphertext)
                    let opened = try receiver.open(aad: hex(encryption.aad), ciphertext: hex(encryption.ciphertext))
                    #expect(toHex(opened) == encryption.plaintext)
                } else {
                    let ciphertext = try sender.seal(aad: hex(encryption.aad), plaintext: hex(encryption.plaintext),
                                                     sequenceNumber: encryption.seq)
                    #expect(toHex(ciphertext) == encryption.ciphertext)
                }
                let openedBySeq = try receiver.open(aad: hex(encryption.aad), ciphertext: hex(encryption.ciphertext),
                                                    sequenceNumber: encryption.seq)
                #expect(toHex(openedBySeq) == encryption.plaintext)
            }
            for export in vector.exports {
                #expect(toHex(try sender.export(exporterContext: hex(export.exportContext), length: export.exportLength))
                    == export.exportValue)
                #expect(toHex(try receiver.export(exporterContext: hex(export.exportContext), length: export.exportLength))
                    == export.exportValue)
            }
        }
    }

    /// Interoperability: a ciphertext made by pyca/cryptography 48 (`hpke.Suite(KEM.X25519,
    /// KDF.HKDF_SHA256, AEAD.AES_256_GCM).encrypt(pt, pkR, info=b"fetchde/dek/v1")`, output enc ‖ ct)
    /// to the A.1.1 recipient key opens here.
    @Test func opensCiphertextFromPycaCryptography() throws {
        let recipient = try X25519PrivateKey(rawRepresentation: SecureBytes(hex("4612c550263fc8ad58375df3f557aac531d26850903e55a9f23f21d8534e8ac8")))
        let output = hex("f41d19e5d99ac57e01832d6add7ba0b5c865dd4eb517e66adc14cbb8525777299902cbcba8bc09c6625d4e4c2897c7"
            + "9ddae2c67a3b028e9222bd417f77e90812eed03723383d715c7013cbb29352b9f9d7")
        let plaintext = try HPKE.open(encapsulatedKey: Array(output.prefix(32)), ciphertext: Array(output.dropFirst(32)),
                                      recipient: recipient, info: Array("fetchde/dek/v1".utf8), aad: [], aead: .aes256GCM)
        #expect(bytes(plaintext) == Array("fetchde data key 0123456789abcdef".utf8))
    }

    @Test(arguments: [AEADAlgorithm.aes128GCM, .aes256GCM])
    func singleShotRoundTrip(_ aead: AEADAlgorithm) throws {
        let vault = X25519PrivateKey()
        let dek = SecureBytes.random(count: 32)
        let info = Array("fetchde/dek/v1".utf8)
        let aad = Array("dek-42".utf8)
        let sealed = try dek.withUnsafeBytes {
            try HPKE.seal(recipient: vault.publicKey, info: info, aad: aad, plaintext: Array($0), aead: aead)
        }
        #expect(sealed.encapsulatedKey.count == 32)
        #expect(sealed.ciphertext.count == 32 + 16)
        let opened = try HPKE.open(encapsulatedKey: sealed.encapsulatedKey, ciphertext: sealed.ciphertext,
                                   recipient: vault, info: info, aad: aad, aead: aead)
        #expect(opened == dek)
    }

    @Test func openRejectsWrongInfoAADEncKeyOrCiphertext() throws {
        let vault = X25519PrivateKey()
        let info = Array("fetchde/dek/v1".utf8)
        let aad = Array("dek-1".utf8)
        let sealed = try HPKE.seal(recipient: vault.publicKey, info: info, aad: aad, plaintext: Array(repeating: 7, count: 32),
                                   aead: .aes256GCM)
        func open(enc: [UInt8] = sealed.encapsulatedKey, ct: [UInt8] = sealed.ciphertext, key: X25519PrivateKey = vault,
                  info: [UInt8] = info, aad: [UInt8] = aad, aead: AEADAlgorithm = .aes256GCM) throws -> SecureBytes {
            try HPKE.open(encapsulatedKey: enc, ciphertext: ct, recipient: key, info: info, aad: aad, aead: aead)
        }
        _ = try open()
        #expect(throws: CryptoError.self) { try open(info: Array("fetchde/dek/v2".utf8)) }
        #expect(throws: CryptoError.self) { try open(aad: Array("dek-2".utf8)) }
        var otherEnc = sealed.encapsulatedKey
        otherEnc[0] ^= 0x01
        #expect(throws: CryptoError.self) { try open(enc: otherEnc) }
        #expect(throws: CryptoError.self) { try open(enc: Array(sealed.encapsulatedKey.prefix(31))) }
        #expect(throws: CryptoError.self) { try open(key: X25519PrivateKey()) }
        #expect(throws: CryptoError.self) { try open(aead: .aes128GCM) }
        var flipped = sealed.ciphertext
        flipped[flipped.count - 1] ^= 0x80
        #expect(throws: CryptoError.self) { try open(ct: flipped) }
        #expect(throws: CryptoError.self) { try open(ct: Array(sealed.ciphertext.prefix(15))) }
    }
}
