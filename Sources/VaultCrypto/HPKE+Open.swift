public import PIICrypto

// The opening half of HPKE (RFC 9180 base mode): decapsulation and the recipient context.
// Only the vault links it; the pipeline can seal data keys to the vault, never open them.

extension HPKE {
    /// Opens a single-shot ``seal(recipient:info:aad:plaintext:aead:)`` output. Wrong key, `info`,
    /// `aad` or encapsulated key throws (``CryptoError/Code/authenticationFailure`` or `.invalidInput`).
    public static func open(
        encapsulatedKey: [UInt8], ciphertext: [UInt8], recipient: X25519PrivateKey, info: [UInt8], aad: [UInt8],
        aead: AEADAlgorithm
    ) throws -> SecureBytes {
        var context = try setupBaseRecipient(encapsulatedKey: encapsulatedKey, recipient: recipient, info: info, aead: aead)
        return try context.open(aad: aad, ciphertext: ciphertext)
    }

    /// SetupBaseR: a context for opening the messages of one sender context, in order.
    public static func setupBaseRecipient(
        encapsulatedKey: [UInt8], recipient: X25519PrivateKey, info: [UInt8], aead: AEADAlgorithm
    ) throws -> RecipientContext {
        let sharedSecret = try decapsulate(enc: encapsulatedKey, recipient: recipient)
        return RecipientContext(schedule: KeySchedule(sharedSecret: sharedSecret, info: info, aead: aead))
    }

    static func decapsulate(enc: [UInt8], recipient: X25519PrivateKey) throws -> SecureBytes {
        guard enc.count == 32 else { throw CryptoError(.invalidInput, "HPKE encapsulated key must be 32 bytes") }
        let ephemeral = try X25519PublicKey(rawRepresentation: enc)
        let dh = try recipient.sharedSecret(with: ephemeral)
        return extractAndExpand(dh: dh, kemContext: enc + recipient.publicKey.rawRepresentation)
    }

}

extension HPKE {
    /// A recipient's decryption context (RFC 9180 §5.2).
    public struct RecipientContext: Sendable {
        let schedule: KeySchedule
        /// Sequence number the next ``open(aad:ciphertext:)`` will use.
        public private(set) var sequenceNumber: UInt64 = 0

        init(schedule: KeySchedule) { self.schedule = schedule }

        /// Opens the next message in order.
        public mutating func open(aad: [UInt8], ciphertext: [UInt8]) throws -> SecureBytes {
            guard sequenceNumber < UInt64.max else { throw CryptoError(.messageLimitReached, "HPKE sequence number exhausted") }
            let plaintext = try open(aad: aad, ciphertext: ciphertext, sequenceNumber: sequenceNumber)
            sequenceNumber += 1
            return plaintext
        }

        /// Opens the message sealed with `sequenceNumber` (e.g. when messages are stored out of order).
        public func open(aad: [UInt8], ciphertext: [UInt8], sequenceNumber: UInt64) throws -> SecureBytes {
            try AESGCM.open(ciphertext, key: schedule.key, nonce: schedule.nonce(sequenceNumber: sequenceNumber),
                            aad: aad, algorithm: schedule.aead)
        }

        /// Secret export (RFC 9180 §5.3).
        public func export(exporterContext: [UInt8], length: Int) throws -> SecureBytes {
            try schedule.export(exporterContext: exporterContext, length: length)
        }
    }
}
