import Pipeline
import Testing

@Suite("AppVersion.encode")
struct AppVersionTests {
    @Test(
        "valid versions",
        arguments: [
            ("2.3.0", 2_003_000), ("3.7", 3_007_000), ("0.96", 96_000), ("0.2.6", 2_006),
            ("5", 5_000_000), ("0", 0), ("0.0.0", 0), ("999.999.999", 999_999_999),
            ("1.0.999", 1_000_999), ("10.20.30", 10_020_030),
            // Leading zeros are accepted and ignored.
            ("01", 1_000_000), ("2.03", 2_003_000), ("001.002.003", 1_002_003), ("0000", 0),
            ("00000000000000000000007", 7_000_000),
        ] as [(String, Int32)])
    func valid(raw: String, encoded: Int32) {
        #expect(AppVersion.encode(raw) == encoded)
    }

    @Test(
        "invalid versions",
        arguments: [
            "", "1000", "1.1000", "1.2.1000", "1.2.3.4", "v1", "1.", ".1", "1..2", "1.2.", ".",
            " 1", "1 ", "1. 2", "+1", "-1", "1.-2", "1e3", "1,2", "1.2a", "a", "١", "１", "1.2.3-beta",
            "99999999999999999999", "1.2.3.", "..", "\u{0}",
        ])
    func invalid(raw: String) {
        #expect(AppVersion.encode(raw) == nil)
    }

    @Test("nil is nil")
    func nilIsNil() {
        #expect(AppVersion.encode(nil) == nil)
    }

    @Test("the encoding preserves version order")
    func orderPreserving() {
        let ordered = ["0", "0.0.1", "0.1", "0.2.6", "0.96", "0.999.999", "1", "1.0.1", "1.2", "2.3.0", "2.10", "3.7", "10", "999.999.999"]
        let encoded = ordered.map { AppVersion.encode($0) }
        #expect(encoded.allSatisfy { $0 != nil })
        #expect(encoded.map { $0 ?? -1 } == encoded.map { $0 ?? -1 }.sorted())
        #expect(Set(encoded).count == ordered.count)
    }
}
