import PIICrypto
import Testing

@Suite("Tokenizer")
struct TokenizerTests {
    /// Root key 0x00…0x1f, shared with the known-answer test below.
    static let rootKey = SecureBytes(Array(0...31))
    let tokenizer = Tokenizer(rootKey: TokenizerTests.rootKey, version: 1)

    /// Known answers computed independently with Python 3's standard library:
    ///
    ///     import hmac, hashlib
    ///     def hkdf(ikm, salt, info, L):
    ///         prk = hmac.new(salt or b"\0" * 32, ikm, hashlib.sha256).digest()
    ///         t, okm, i = b"", b"", 1
    ///         while len(okm) < L:
    ///             t = hmac.new(prk, t + info + bytes([i]), hashlib.sha256).digest(); okm += t; i += 1
    ///         return okm[:L]
    ///     k = hkdf(bytes(range(32)), b"", b"fetchde/token/v1/" + field.encode(), 32)
    ///     hmac.new(k, canonical_value.encode(), hashlib.sha256).hexdigest()
    @Test(arguments: [
        ("2001:DB8::0:1", PIIField.ip, "0ceda10150f363cbde9b958fe97f0a1b425942c132a2851617f29dd063c673e0"),
        ("192.0.2.1", PIIField.ip, "16a48f8228c38e1e6e928c6219f4e077a688f4bd7c64e9175962188d5819a3f8"),
        ("device-123", PIIField.deviceID, "5415285ee7bd922904fb7b42ca8e5486849f4c94565b571e968d6f685bfa16a5"),
    ])
    func knownAnswer(value: String, field: PIIField, expected: String) {
        #expect(tokenizer.token(value, field: field) == expected)
    }

    @Test func tokenIs64LowercaseHex() {
        for value in ["192.0.2.1", "2001:db8::1", "device-abc", "", "ünïcödé"] {
            for field in PIIField.allCases {
                let token = tokenizer.token(value, field: field)
                #expect(token.utf8.count == 64)
                #expect(token.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) })
            }
        }
    }

    @Test func deterministicAndFieldSeparated() {
        #expect(tokenizer.token("192.0.2.1", field: .ip) == tokenizer.token("192.0.2.1", field: .ip))
        #expect(tokenizer.token("192.0.2.1", field: .ip) != tokenizer.token("192.0.2.1", field: .deviceID))
        #expect(tokenizer.token("abc", field: .ip) != tokenizer.token("abc", field: .deviceID))
        let other = Tokenizer(rootKey: SecureBytes.random(count: 32), version: 2)
        #expect(other.version == 2)
        #expect(tokenizer.token("192.0.2.1", field: .ip) != other.token("192.0.2.1", field: .ip))
        // A second tokenizer with the same key gives the same tokens.
        #expect(Tokenizer(rootKey: Self.rootKey, version: 1).token("x", field: .deviceID) == tokenizer.token("x", field: .deviceID))
    }

    @Test func ipSpellingsShareOneToken() {
        let token = tokenizer.token("2001:db8::1", field: .ip)
        for spelling in ["2001:db8::0:1", "2001:DB8::1", "2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8:0:0:0:0:0:1"] {
            #expect(tokenizer.token(spelling, field: .ip) == token, "\(spelling)")
        }
        #expect(tokenizer.token("::FFFF:192.0.2.1", field: .ip) == tokenizer.token("::ffff:c000:201", field: .ip))
        // Device ids are not canonicalized.
        #expect(tokenizer.token("2001:db8::0:1", field: .deviceID) != tokenizer.token("2001:db8::1", field: .deviceID))
    }

    @Test func nonAddressIsTokenizedAsGiven() {
        let direct = Tokenizer(rootKey: Self.rootKey, version: 1)
        #expect(direct.token("not-an-ip", field: .ip) != direct.token("Not-an-ip", field: .ip))
        #expect(IPAddressCanonicalizer.canonical("not-an-ip") == "not-an-ip")
    }

    @Test func concurrentCallersAgree() async {
        let tokenizer = self.tokenizer
        let expected = tokenizer.token("198.51.100.7", field: .ip)
        let results = await withTaskGroup(of: Bool.self) { group in
            for _ in 0..<8 {
                group.addTask {
                    (0..<500).allSatisfy { _ in tokenizer.token("198.51.100.7", field: .ip) == expected }
                }
            }
            return await group.reduce(true) { $0 && $1 }
        }
        #expect(results)
    }
}

@Suite("IPAddressCanonicalizer")
struct IPAddressCanonicalizerTests {
    @Test(arguments: [
        ("2001:db8::0:1", "2001:db8::1"),
        ("2001:DB8:0:0:1:0:0:1", "2001:db8::1:0:0:1"),
        ("2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"),
        ("2001:0db8:0000:0000:0000:ff00:0042:8329", "2001:db8::ff00:42:8329"),
        ("2001:db8:0:0:1:0:0:0", "2001:db8:0:0:1::"),
        ("2001:db8::1:0:0:0:1", "2001:db8:0:1::1"),
        ("0:0:0:0:0:0:0:1", "::1"),
        ("::", "::"),
        ("1::", "1::"),
        ("FE80::ABCD", "fe80::abcd"),
        ("::ffff:192.0.2.1", "::ffff:192.0.2.1"),
        ("::FFFF:C000:0201", "::ffff:192.0.2.1"),
        ("0:0:0:0:0:ffff:c000:201", "::ffff:192.0.2.1"),
        ("192.0.2.1", "192.0.2.1"),
        ("0.0.0.0", "0.0.0.0"),
        ("255.255.255.255", "255.255.255.255"),
    ])
    func canonicalizes(input: String, expected: String) {
        #expect(IPAddressCanonicalizer.canonical(input) == expected)
    }

    @Test(arguments: [
        "192.000.002.001", "01.2.3.4", "1.2.3", "1.2.3.4.5", "256.1.1.1", "1.2.3.4 ", " 1.2.3.4", "0x7f.0.0.1",
        "2001:db8::1%eth0", "2001:db8:::1", "1:2:3:4:5:6:7:8:9", "example.com", "", "::g", "1.2.3.4\u{0}",
        "[2001:db8::1]", "192.0.2.1:80",
    ])
    func leavesNonAddressesUnchanged(input: String) {
        #expect(IPAddressCanonicalizer.canonical(input) == input)
    }
}
