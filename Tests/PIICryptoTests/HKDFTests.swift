import PIICrypto
import Testing

/// RFC 5869 Appendix A.1–A.3 (HKDF-SHA-256).
@Suite("HKDF-SHA-256 (RFC 5869)")
struct HKDFTests {
    struct Vector: Sendable, CustomTestStringConvertible {
        let name: String
        let ikm: [UInt8]
        let salt: [UInt8]
        let info: [UInt8]
        let length: Int
        let prk: String
        let okm: String
        var testDescription: String { name }
    }

    static let vectors: [Vector] = [
        Vector(name: "A.1 basic", ikm: [UInt8](repeating: 0x0b, count: 22), salt: Array(0x00...0x0c), info: Array(0xf0...0xf9),
               length: 42,
               prk: "077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5",
               okm: "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865"),
        Vector(name: "A.2 longer inputs", ikm: Array(0x00...0x4f), salt: Array(0x60...0xaf), info: Array(0xb0...0xff),
               length: 82,
               prk: "06a6b88c5853361a06104c9ceb35b45cef760014904671014a193f40c15fc244",
               okm: "b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c"
                   + "59045a99cac7827271cb41c65e590e09da3275600c2f09b8367793a9aca3db71"
                   + "cc30c58179ec3e87c14c01d5c1f3434f1d87"),
        Vector(name: "A.3 empty salt and info", ikm: [UInt8](repeating: 0x0b, count: 22), salt: [], info: [], length: 42,
               prk: "19ef24a32c717b167f33a91d6f648bdf96596776afdb6377ac434c1c293ccb04",
               okm: "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8"),
    ]

    @Test(arguments: vectors)
    func rfc5869(_ vector: Vector) {
        let prk = HKDFSHA256.extract(salt: vector.salt, ikm: SecureBytes(vector.ikm))
        #expect(toHex(prk) == vector.prk)
        let okm = HKDFSHA256.expand(prk: prk, info: vector.info, length: vector.length)
        #expect(toHex(okm) == vector.okm)
        let derived = HKDFSHA256.deriveKey(ikm: SecureBytes(vector.ikm), salt: vector.salt, info: vector.info, length: vector.length)
        #expect(derived == okm)
    }
}
