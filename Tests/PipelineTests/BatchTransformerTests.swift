@testable import Pipeline
import PIICrypto
import Postgres
import Testing

/// Message → rows without a database: what gets quarantined and why.
@Suite("BatchTransformer")
struct BatchTransformerTests {
    static func transform(_ messages: [IncomingMessage]) throws -> PreparedBatch {
        let keys = ActiveKeys(
            tokenizer: Tokenizer(rootKey: SecureBytes.random(count: 32), version: 1),
            vaultKeyVersion: 1, vaultPublicKey: X25519PrivateKey().publicKey)
        let dataKey = DataKey(id: 7, vaultKeyVersion: 1, key: SecureBytes.random(count: 32))
        return try BatchTransformer(fallbackDate: "2024-01-01").transform(messages, keys: keys, dataKey: dataKey) { _ in false }
    }

    /// A valid login message padded with spaces to exactly `bytes` bytes.
    static func validBody(bytes: Int) -> [UInt8] {
        let json = Array(#"{"user_id": "u1", "ip": "10.0.0.1", "device_id": "d1", "locale": "RU"}"#.utf8)
        return json + [UInt8](repeating: 0x20, count: bytes - json.count)
    }

    @Test("a body over 256 KiB is quarantined as too large without being parsed (even a valid message)")
    func oversizedBodyIsQuarantinedUnparsed() throws {
        let batch = try Self.transform([
            IncomingMessage(messageID: "big", body: Self.validBody(bytes: 300 * 1024)),
            IncomingMessage(messageID: "limit", body: Self.validBody(bytes: IncomingMessage.maxBodyBytes)),
            IncomingMessage(messageID: "over", body: Self.validBody(bytes: IncomingMessage.maxBodyBytes + 1)),
        ])
        #expect(batch.loginMessageIDs == ["limit"])
        #expect(batch.quarantined.count == 2)
        for (row, id) in zip(batch.quarantined, ["big", "over"]) {
            #expect(row[0] == .text(id))
            #expect(row[1] == .text("body larger than 262144 bytes"))
        }
        #expect(InvalidMessage(reason: .tooLarge).label == "too_large")
        #expect(InvalidMessage(reason: .tooLarge).description.count <= 60)
    }
}
