import PIICrypto
import Testing

@Suite("SecureBytes and helpers")
struct SecureBytesTests {
    @Test func basics() {
        let a = SecureBytes([1, 2, 3])
        #expect(a.count == 3)
        #expect(a == SecureBytes([1, 2, 3]))
        #expect(a != SecureBytes([1, 2, 4]))
        #expect(a != SecureBytes([1, 2]))
        #expect(SecureBytes(count: 4).withUnsafeBytes { Array($0) } == [0, 0, 0, 0])
        #expect(SecureBytes([0xde, 0xad, 0x0f]).hexString == "dead0f")
        #expect(SecureBytes(count: 0).count == 0)
        let r1 = SecureBytes.random(count: 32)
        let r2 = SecureBytes.random(count: 32)
        #expect(r1.count == 32 && r1 != r2)
    }

    @Test func randomAndCompare() {
        #expect(SecureRandom.bytes(16).count == 16)
        #expect(SecureRandom.bytes(16) != SecureRandom.bytes(16))
        #expect(constantTimeEquals([1, 2], [1, 2]))
        #expect(!constantTimeEquals([1, 2], [1, 3]))
        #expect(!constantTimeEquals([1, 2], [1, 2, 3]))
        #expect(constantTimeEquals([], []))
    }
}
