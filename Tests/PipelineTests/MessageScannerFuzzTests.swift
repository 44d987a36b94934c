@testable import Pipeline
import TestSupport
import Testing

/// Seeded fuzzing of the message hot path: thousands of mutations of realistic login messages
/// (byte flips, truncation, duplication, deep nesting, huge numbers, bad UTF-8, unterminated
/// strings) go through `JSONObjectScanner` and `LoginMessageParser`. Each gives a result that
/// keeps the documented contract; a crash fails the run. Fixed seed: CI runs the same inputs.
@Suite("Message scanner fuzzing")
struct MessageScannerFuzzTests {
    static let rounds = 4000

    static let seeds: [[UInt8]] = DemoData(count: 40, malformedEvery: 8).bodies().map { Array($0.utf8) } + [
        #"{"user_id": "u\u005f1", "device_type": "android", "ip": "10.0.0.1", "locale": null, "device_id": "d\ud83d\ude00", "app_version": "2.3.0"}"#,
        #"{"user_id": "héllo 世界", "ip": "::1", "device_id": "x", "extra": [1, -2.5e+10, {"a": [true, false, null]}, "\"\\\/\b\f\n\r\t"]}"#,
    ].map { Array($0.utf8) }

    @Test("mutated messages: a result that keeps the scanner's contract, never a crash")
    func mutatedMessages() {
        var mutator = FuzzMutator(seed: 0xF0CC_5E5D_0003, grammar: .init(
            open: #"{"a":["#, close: "]}",
            tokens: ["\"", "\\", "\\u", "\\ud800", "\\udc00", "\\u0000", "{", "}", "[", "]", ",", ":", "null", "tru", "-", "0.", "1e",
                     "\u{FEFF}", #""user_id": "#, #""ip": 1, "#, #""device_id": null, "#]))
        var objects = 0, valid = 0, rejected = 0
        for round in 0..<Self.rounds {
            let body = mutator.mutate(Self.seeds[round % Self.seeds.count])
            let scanned = JSONObjectScanner.scan(body)
            let parsed = LoginMessageParser.parse(utf8: body)
            // `.invalidUTF8` exactly when the bytes are not well-formed UTF-8.
            let wellFormed = String(validating: body, as: UTF8.self) != nil
            #expect((scanned == .failure(.invalidUTF8)) == !wellFormed, "round \(round)")
            // The parser reports what the scanner found.
            switch scanned {
            case .success:
                objects += 1
                if case .success = parsed { valid += 1 }
                if case .failure(let invalid) = parsed {
                    #expect(![InvalidMessage.Reason.notJSON, .notAnObject, .invalidUTF8].contains(invalid.reason), "round \(round)")
                }
            case .failure(let failure):
                rejected += 1
                let expected: InvalidMessage.Reason = switch failure {
                case .notJSON: .notJSON
                case .notAnObject: .notAnObject
                case .invalidUTF8: .invalidUTF8
                }
                #expect(parsed == .failure(InvalidMessage(reason: expected)), "round \(round)")
            }
        }
        // Both sides are exercised (a mutator gone trivial would fail here).
        #expect(objects >= Self.rounds / 10 && valid >= Self.rounds / 20 && rejected >= Self.rounds / 4,
                "objects \(objects), valid \(valid), rejected \(rejected)")
    }

    @Test("hostile shapes: deep nesting, huge numbers, bad UTF-8, unterminated strings")
    func hostileShapes() {
        let prefix = #"{"user_id": "u", "ip": "i", "device_id": "d", "x": "#
        let cases: [([UInt8], JSONObjectScanner.Failure?)] = [
            (Array((prefix + String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000) + "}").utf8), .notJSON),
            (Array((prefix + String(repeating: "9", count: 200_000) + "}").utf8), nil),
            (Array((prefix + "1e" + String(repeating: "9", count: 10_000) + "}").utf8), nil),
            (Array((prefix + "-" + "}").utf8), .notJSON),
            (Array(prefix.utf8) + [0x22, 0xC3, 0x28, 0x22, 0x7D], .invalidUTF8),
            (Array(prefix.utf8) + [0x22, 0xED, 0xA0, 0x80, 0x22, 0x7D], .invalidUTF8),  // encoded surrogate
            (Array(prefix.utf8) + [0x22, 0xF0, 0x9F, 0x98], .invalidUTF8),  // truncated sequence
            (Array((prefix + "\"unterminated").utf8), .notJSON),
            (Array((prefix + "\"\\").utf8), .notJSON),
            (Array((prefix + "\"\\u12").utf8), .notJSON),
            (Array(#"{"user_id": "u"#.utf8), .notJSON),
        ]
        for (body, failure) in cases {
            let result = JSONObjectScanner.scan(body)
            if let failure {
                #expect(result == .failure(failure), "\(body.count) bytes")
            } else {
                #expect((try? result.get()) != nil, "\(body.count) bytes")
            }
        }
    }
}
