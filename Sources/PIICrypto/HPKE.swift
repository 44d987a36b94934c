/// Hybrid Public Key Encryption, RFC 9180 base mode, with DHKEM(X25519, HKDF-SHA256) (0x0020),
/// HKDF-SHA256 (0x0001) and AES-128-GCM (0x0001) or AES-256-GCM (0x0002).
///
/// The pipeline seals each data key to the vault's public key with ``seal(recipient:info:aad:plaintext:aead:)``;
/// only the holder of the vault private key can open it (`HPKE.open`, in VaultCrypto, which only `vault` links).
public enum HPKE {
    static let kemID: UInt16 = 0x0020
    static let kdfID: UInt16 = 0x0001
    static let modeBase: UInt8 = 0x00
    static let version = Array("HPKE-v1".utf8)

    /// Seals `plaintext` to `recipient` in one shot (sequence number 0). Returns the encapsulated
    /// key (32 bytes) to store next to the ciphertext.
    public static func seal(
        recipient: X25519PublicKey, info: [UInt8], aad: [UInt8], plaintext: [UInt8], aead: AEADAlgorithm
    ) throws -> (encapsulatedKey: [UInt8], ciphertext: [UInt8]) {
        var context = try setupBaseSender(recipient: recipient, info: info, aead: aead)
        let ciphertext = try context.seal(aad: aad, plaintext: plaintext)
        return (context.encapsulatedKey, ciphertext)
    }

    /// SetupBaseS with a fresh ephemeral key: a context for sealing several messages in order.
    public static func setupBaseSender(recipient: X25519PublicKey, info: [UInt8], aead: AEADAlgorithm) throws -> SenderContext {
        try setupBaseSender(recipient: recipient, info: info, aead: aead, ephemeralPrivateKey: X25519PrivateKey())
    }

    /// SetupBaseS with a caller-chosen ephemeral key. Only for known-answer tests (RFC 9180
    /// Appendix A): reusing an ephemeral key across messages to different contexts breaks the
    /// scheme's guarantees.
    public static func setupBaseSender(
        recipient: X25519PublicKey, info: [UInt8], aead: AEADAlgorithm, ephemeralPrivateKey: X25519PrivateKey
    ) throws -> SenderContext {
        let (sharedSecret, enc) = try encapsulate(recipient: recipient, ephemeral: ephemeralPrivateKey)
        let schedule = KeySchedule(sharedSecret: sharedSecret, info: info, aead: aead)
        return SenderContext(encapsulatedKey: enc, schedule: schedule)
    }


    // MARK: DHKEM(X25519, HKDF-SHA256), RFC 9180 §4.1

    static var kemSuiteID: [UInt8] { Array("KEM".utf8) + i2osp(kemID) }

    static func encapsulate(recipient: X25519PublicKey, ephemeral: X25519PrivateKey) throws -> (SecureBytes, [UInt8]) {
        let dh = try ephemeral.sharedSecret(with: recipient)
        let enc = ephemeral.publicKey.rawRepresentation
        return (extractAndExpand(dh: dh, kemContext: enc + recipient.rawRepresentation), enc)
    }

    package static func extractAndExpand(dh: SecureBytes, kemContext: [UInt8]) -> SecureBytes {
        let suite = kemSuiteID
        let prk = labeledExtract(suiteID: suite, salt: SecureBytes(count: 0), label: "eae_prk", ikm: dh)
        return labeledExpand(suiteID: suite, prk: prk, label: "shared_secret", info: kemContext, length: 32)
    }

    // MARK: Labeled HKDF, RFC 9180 §4

    static func labeledExtract(suiteID: [UInt8], salt: SecureBytes, label: String, ikm: SecureBytes) -> SecureBytes {
        // labeled_ikm = "HPKE-v1" ‖ suite_id ‖ label ‖ ikm, assembled in wiped storage.
        let prefix = version + suiteID + Array(label.utf8)
        let labeled = SecureBytes(count: prefix.count + ikm.count) { out in
            prefix.withUnsafeBytes { out.baseAddress!.copyMemory(from: $0.baseAddress!, byteCount: prefix.count) }
            ikm.withUnsafeBytes { i in
                if i.count > 0 { (out.baseAddress! + prefix.count).copyMemory(from: i.baseAddress!, byteCount: i.count) }
            }
        }
        return salt.withUnsafeBytes { s in labeled.withUnsafeBytes { HKDFSHA256.extract(salt: s, ikm: $0) } }
    }

    static func labeledExpand(suiteID: [UInt8], prk: SecureBytes, label: String, info: [UInt8], length: Int) -> SecureBytes {
        let labeledInfo = i2osp(UInt16(length)) + version + suiteID + Array(label.utf8) + info
        return HKDFSHA256.expand(prk: prk, info: labeledInfo, length: length)
    }

    static func i2osp(_ value: UInt16) -> [UInt8] { [UInt8(value >> 8), UInt8(value & 0xff)] }
}

extension HPKE {
    /// The output of KeyScheduleS/R (RFC 9180 §5.1) for base mode.
    package struct KeySchedule: Sendable {
        package let aead: AEADAlgorithm
        let sharedSecret: SecureBytes
        let keyScheduleContext: [UInt8]
        let secret: SecureBytes
        package let key: SecureBytes
        let baseNonce: [UInt8]
        let exporterSecret: SecureBytes

        package init(sharedSecret: SecureBytes, info: [UInt8], aead: AEADAlgorithm) {
            let suite = Array("HPKE".utf8) + i2osp(kemID) + i2osp(kdfID) + i2osp(aead.hpkeID)
            let pskIDHash = labeledExtract(suiteID: suite, salt: SecureBytes(count: 0), label: "psk_id_hash", ikm: SecureBytes(count: 0))
            let infoHash = labeledExtract(suiteID: suite, salt: SecureBytes(count: 0), label: "info_hash", ikm: SecureBytes(info))
            var context = [modeBase]
            pskIDHash.withUnsafeBytes { context += $0 }
            infoHash.withUnsafeBytes { context += $0 }
            let secret = labeledExtract(suiteID: suite, salt: sharedSecret, label: "secret", ikm: SecureBytes(count: 0))
            self.aead = aead
            self.sharedSecret = sharedSecret
            self.keyScheduleContext = context
            self.secret = secret
            self.key = labeledExpand(suiteID: suite, prk: secret, label: "key", info: context, length: aead.keyByteCount)
            self.baseNonce = labeledExpand(suiteID: suite, prk: secret, label: "base_nonce", info: context,
                                           length: aead.nonceByteCount).withUnsafeBytes { Array($0) }
            self.exporterSecret = labeledExpand(suiteID: suite, prk: secret, label: "exp", info: context, length: 32)
            self.suiteID = suite
        }

        let suiteID: [UInt8]

        /// base_nonce XOR I2OSP(seq, Nn).
        package func nonce(sequenceNumber: UInt64) -> [UInt8] {
            var nonce = baseNonce
            var seq = sequenceNumber
            var index = nonce.count - 1
            while seq != 0 {
                nonce[index] ^= UInt8(seq & 0xff)
                seq >>= 8
                index -= 1
            }
            return nonce
        }

        package func export(exporterContext: [UInt8], length: Int) throws -> SecureBytes {
            guard length >= 0, length <= 255 * 32 else { throw CryptoError(.invalidInput, "HPKE export length") }
            return labeledExpand(suiteID: suiteID, prk: exporterSecret, label: "sec", info: exporterContext, length: length)
        }
    }

    /// A sender's encryption context (RFC 9180 §5.2): seals messages with sequence numbers
    /// 0, 1, 2, … so the recipient must open them in the same order.
    public struct SenderContext: Sendable {
        /// `enc`, to send with the ciphertexts.
        public let encapsulatedKey: [UInt8]
        let schedule: KeySchedule
        /// Sequence number the next ``seal(aad:plaintext:)`` will use.
        public private(set) var sequenceNumber: UInt64 = 0

        init(encapsulatedKey: [UInt8], schedule: KeySchedule) {
            self.encapsulatedKey = encapsulatedKey
            self.schedule = schedule
        }

        /// Seals the next message.
        public mutating func seal(aad: [UInt8], plaintext: [UInt8]) throws -> [UInt8] {
            guard sequenceNumber < UInt64.max else { throw CryptoError(.messageLimitReached, "HPKE sequence number exhausted") }
            let ciphertext = try seal(aad: aad, plaintext: plaintext, sequenceNumber: sequenceNumber)
            sequenceNumber += 1
            return ciphertext
        }

        /// Seals with an explicit sequence number; internal so that callers cannot reuse a nonce
        /// (known-answer tests use it to reach sequence numbers such as 255).
        func seal(aad: [UInt8], plaintext: [UInt8], sequenceNumber: UInt64) throws -> [UInt8] {
            try AESGCM.seal(plaintext, key: schedule.key, nonce: schedule.nonce(sequenceNumber: sequenceNumber),
                            aad: aad, algorithm: schedule.aead)
        }

        /// Secret export (RFC 9180 §5.3): `length` bytes bound to this context and `exporterContext`.
        public func export(exporterContext: [UInt8], length: Int) throws -> SecureBytes {
            try schedule.export(exporterContext: exporterContext, length: length)
        }
    }

}
