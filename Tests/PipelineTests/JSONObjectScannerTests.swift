import Foundation
import Testing

@testable import Pipeline

@Suite("JSONObjectScanner")
struct JSONObjectScannerTests {
    typealias Scanner = JSONObjectScanner
    typealias Value = JSONObjectScanner.Value

    static func scan(_ text: String) -> Result<Scanner.Fields, Scanner.Failure> {
        Scanner.scan(Array(text.utf8))
    }

    static func failure(_ bytes: [UInt8]) -> Scanner.Failure? {
        if case .failure(let failure) = Scanner.scan(bytes) { return failure }
        return nil
    }

    static func fields(_ text: String) -> Scanner.Fields? {
        try? scan(text).get()
    }

    // MARK: Accepted

    @Test("typical body")
    func typical() throws {
        let body = #"{"user_id": "424cdd21-063a-43a7-b91b-7ca1a833afae", "app_version": "2.3.0", "device_type": "android", "ip": "199.172.111.135", "locale": "RU", "device_id": "593-47-5928"}"#
        let fields = try #require(Self.fields(body))
        #expect(fields.userID == .string("424cdd21-063a-43a7-b91b-7ca1a833afae"))
        #expect(fields.appVersion == .string("2.3.0"))
        #expect(fields.deviceType == .string("android"))
        #expect(fields.ip == .string("199.172.111.135"))
        #expect(fields.locale == .string("RU"))
        #expect(fields.deviceID == .string("593-47-5928"))
        // The String and [UInt8] entry points agree.
        #expect(Scanner.scan(body) == Scanner.scan(Array(body.utf8)))
    }

    @Test("absent, null, string and other values")
    func valueKinds() throws {
        let fields = try #require(Self.fields(#"{"user_id": null, "ip": 1.5e3, "device_id": true, "locale": {"a": [1, {}]}, "device_type": []}"#))
        #expect(fields.userID == .null)
        #expect(fields.ip == .other)
        #expect(fields.deviceID == .other)
        #expect(fields.locale == .other)
        #expect(fields.deviceType == .other)
        #expect(fields.appVersion == .absent)
        for literal in ["false", "-0", "0", "12", "[]", "{}", #"[null]"#] {
            #expect(Self.fields(#"{"ip": \#(literal)}"#)?.ip == .other, "\(literal)")
        }
    }

    @Test("whitespace everywhere RFC 8259 allows it")
    func whitespace() throws {
        let body = " \t\r\n{ \t\r\n\"ip\" \t\r\n: \t\r\n\"x\" \t\r\n, \"a\" : [ 1 , 2 ] , \"b\":{ \"c\" : null } \t\r\n} \t\r\n"
        #expect(try #require(Self.fields(body)).ip == .string("x"))
        #expect(Self.fields("{}") == Scanner.Fields())
        #expect(Self.fields(" { } ") == Scanner.Fields())
    }

    @Test("unknown keys are ignored, nested copies of our keys are not ours")
    func unknownKeys() throws {
        let fields = try #require(Self.fields(#"{"foo": "oops", "bar": {"user_id": "inner", "ip": "inner"}, "IP": "x", "ip ": "y", "user_idx": "z"}"#))
        #expect(fields == Scanner.Fields())
    }

    @Test("duplicate keys: the last one wins")
    func duplicateKeys() throws {
        #expect(Self.fields(#"{"ip": "a", "ip": "b"}"#)?.ip == .string("b"))
        #expect(Self.fields(#"{"ip": "a", "ip": null}"#)?.ip == .null)
        #expect(Self.fields(#"{"ip": "a", "ip": 5}"#)?.ip == .other)
        #expect(Self.fields(#"{"ip": 5, "ip": "a"}"#)?.ip == .string("a"))
        #expect(Self.fields(#"{"ip": "a", "ip\u0000": "b"}"#)?.ip == .string("a"))
        // Earlier duplicates are still validated.
        #expect(Self.failure(Array(#"{"ip": "\x", "ip": "b"}"#.utf8)) == .notJSON)
    }

    @Test("escapes are decoded, in values and in keys")
    func escapes() throws {
        let fields = try #require(Self.fields(#"{"ip": "a\"b\\c\/d\be\ff\ng\rh\ti", "user\u005fid": "\u00e9\u00E9\u20AC\ud83d\ude00\uD83D\uDE00", "locale": "\u0000", "\u0064evice_id": "x\u0041y"}"#))
        #expect(fields.ip == .string("a\"b\\c/d\u{8}e\u{C}f\ng\rh\ti"))
        #expect(fields.userID == .string("éé€😀😀"))
        #expect(fields.locale == .string("\u{0}"))
        #expect(fields.deviceID == .string("xAy"))
        // Members decoded from escapes are flagged (only they can hold U+0000); the last duplicate decides.
        #expect(fields.isEscaped(.ip) && fields.isEscaped(.userID) && fields.isEscaped(.locale) && fields.isEscaped(.deviceID))
        #expect(!fields.isEscaped(.appVersion) && !fields.isEscaped(.deviceType))
        let plain = try #require(Self.fields(#"{"ip": "\n", "ip": "plain", "locale": "\n", "user_id": "x"}"#))
        #expect(!plain.isEscaped(.ip) && plain.isEscaped(.locale) && !plain.isEscaped(.userID))
    }

    @Test("every byte value at every offset of the 8-byte fast path")
    func everyByteEveryOffset() {
        for offset in 0..<9 {
            for byte in 0...255 {
                let prefix = Array(repeating: UInt8(ascii: "a"), count: offset)
                let body = Array(#"{"ip": ""#.utf8) + prefix + [UInt8(byte)] + Array(#"bcdefghijklmnop"}"#.utf8)
                let result = Scanner.scan(body)
                switch byte {
                case 0x22:  // ends the string early: `bcdef…` is garbage
                    #expect(result == .failure(.notJSON))
                case 0x5C:  // `\b` is a valid escape
                    #expect(result.map(\.ip) == .success(.string(String(repeating: "a", count: offset) + "\u{8}cdefghijklmnop")))
                case 0..<0x20:
                    #expect(result == .failure(.notJSON), "\(byte) at \(offset)")
                case 0x80...:
                    #expect(result == .failure(.invalidUTF8), "\(byte) at \(offset)")
                default:
                    let expected = String(repeating: "a", count: offset) + String(UnicodeScalar(UInt8(byte))) + "bcdefghijklmnop"
                    #expect(result.map(\.ip) == .success(.string(expected)), "\(byte) at \(offset)")
                }
            }
        }
    }

    @Test("raw UTF-8 in strings, including 4-byte sequences and U+FFFF, U+10FFFF")
    func rawUnicode() throws {
        let text = "é€😀\u{FFFF}\u{10FFFF}\u{7F}ü\u{E000}"
        #expect(Self.fields("{\"ip\": \"\(text)\", \"ключ\": \"значение\"}")?.ip == .string(text))
    }

    @Test("long strings (SWAR fast path boundaries) decode exactly")
    func longStrings() throws {
        for length in 0..<40 {
            for special in ["", "é", #"\n"#, "😀"] {
                let value = String(repeating: "a", count: length) + special + String(repeating: "b", count: length % 9)
                let expected = value.replacingOccurrences(of: #"\n"#, with: "\n")
                #expect(Self.fields("{\"ip\":\"\(value)\"}")?.ip == .string(expected))
            }
        }
    }

    @Test("numbers per the grammar, any magnitude")
    func validNumbers() {
        for number in ["0", "-0", "1", "-1", "10", "0.5", "-0.0", "1e5", "1E5", "1e+5", "1e-5", "1.5E-10", "123456789012345678901234567890", "1e999", "-1e-999", "0e0"] {
            #expect(Self.fields(#"{"a": \#(number), "b": [\#(number)]}"#) == Scanner.Fields(), "\(number)")
        }
    }

    @Test("nesting: 64 levels including the top-level object are accepted, 65 are not")
    func depthLimit() {
        #expect(Scanner.maxDepth == 64)
        func nested(_ depth: Int) -> String {  // top-level object + (depth - 1) arrays
            "{\"a\":" + String(repeating: "[", count: depth - 1) + String(repeating: "]", count: depth - 1) + "}"
        }
        #expect(Self.fields(nested(64)) == Scanner.Fields())
        #expect(Self.failure(Array(nested(65).utf8)) == .notJSON)
        func objects(_ count: Int) -> String { (0..<count).reduce("1") { inner, _ in "{\"k\":\(inner)}" } }
        #expect(Self.fields("{\"a\":\(objects(63))}") == Scanner.Fields())  // 64 levels
        #expect(Self.failure(Array("{\"a\":\(objects(64))}".utf8)) == .notJSON)  // 65 levels
        #expect(Self.failure(Array("[\(objects(63))]".utf8)) == .notAnObject)  // 64 levels
        #expect(Self.failure(Array("[\(objects(64))]".utf8)) == .notJSON)  // 65 levels
        // Deep garbage does not overflow the stack.
        #expect(Self.failure(Array(String(repeating: "[", count: 100_000).utf8)) == .notJSON)
        #expect(Self.failure(Array(("{\"a\":" + String(repeating: "[", count: 100_000)).utf8)) == .notJSON)
    }

    // MARK: Rejected

    @Test(
        "not JSON",
        arguments: [
            "", " ", "{", "}", "{\"a\"}", "{\"a\":}", "{\"a\" 1}", "{\"a\":1,}", "{,}", "{\"a\":1 \"b\":2}",
            "{\"a\":1}}", "{\"a\":1} {}", "{\"a\":1}x", "{\"a\":1},", "{'a':1}", "{a:1}", "{\"a\":'x'}",
            "{\"a\":[1,]}", "{\"a\":[,1]}", "{\"a\":[1 2]}", "{\"a\":[}", "{\"a\":{]}", "{\"a\":\"x}",
            "{\"a\":\"x\\\"}", "{\"a\":01}", "{\"a\":-01}", "{\"a\":00}", "{\"a\":1.}", "{\"a\":.5}",
            "{\"a\":+1}", "{\"a\":-}", "{\"a\":1e}", "{\"a\":1e+}", "{\"a\":1.e5}", "{\"a\":0x1}",
            "{\"a\":NaN}", "{\"a\":Infinity}", "{\"a\":-Infinity}", "{\"a\":nul}", "{\"a\":nulll}",
            "{\"a\":True}", "{\"a\":tru}", "{\"a\":fals}", "{\"a\":undefined}", "{\"a\":1 /* c */}",
            "// c\n{}", "{\"a\":\"\\x\"}", "{\"a\":\"\\U0041\"}", "{\"a\":\"\\u12\"}", "{\"a\":\"\\u12G4\"}",
            "{\"a\":\"\\u\"}", "{\"a\":\"\\\"}", "{\"a\":\"\\ud800\"}", "{\"a\":\"\\udc00\"}",
            "{\"a\":\"\\udc00\\ud800\"}", "{\"a\":\"\\ud800\\u0041\"}", "{\"a\":\"\\ud800x\"}",
            "{\"a\":\"\\ud800\\ud800\"}", "{\"a\":\"\\ud800\\\"}", "{\"ip\":\"\\ud83d\"}",
            "{\"a\":\"tab\there\"}", "{\"a\":\"nl\nhere\"}", "{\"a\":\"\u{1F}\"}", "{\"a\u{0}\":1}",
            "{\"a\":1}\u{0B}", "\u{0C}{}", "\u{A0}{}", "{}\u{FEFF}", "\u{FEFF}{}", "{\"a\":1}\0",
            "{\"user_id\":\"x\",}", "{\"a\":[1,2,]}", "{\"a\":{\"b\":1,}}", "[1,]",
        ])
    func notJSON(body: String) {
        #expect(Self.failure(Array(body.utf8)) == .notJSON)
    }

    @Test("valid JSON that is not an object", arguments: ["[]", " [1, {\"a\": 2}] ", "\"x\"", "1", "-0.5e3", "null", "true", "false", "[{}]", "\"{}\""])
    func notAnObject(body: String) {
        #expect(Self.failure(Array(body.utf8)) == .notAnObject)
    }

    @Test("invalid non-objects are not JSON", arguments: ["[", "[1,]", "\"x", "01", "nul", "[] []", "1 2", "-"])
    func invalidNonObject(body: String) {
        #expect(Self.failure(Array(body.utf8)) == .notJSON)
    }

    @Test(
        "invalid UTF-8 anywhere in the body",
        arguments: [
            [0xC0, 0x80], [0xC1, 0xBF], [0xE0, 0x80, 0x80], [0xE0, 0x9F, 0xBF], [0xED, 0xA0, 0x80], [0xED, 0xBF, 0xBF],
            [0xF0, 0x80, 0x80, 0x80], [0xF0, 0x8F, 0xBF, 0xBF], [0xF4, 0x90, 0x80, 0x80], [0xF5, 0x80, 0x80, 0x80],
            [0xFF], [0xFE], [0x80], [0xBF], [0xC3], [0xE2, 0x82], [0xF0, 0x9F, 0x98], [0xC3, 0x41], [0xE2, 0x41, 0xAC],
            [0xF0, 0x9F, 0x41, 0x80],
        ] as [[UInt8]])
    func invalidUTF8(sequence: [UInt8]) {
        let inString = Array(#"{"ip": "a"#.utf8) + sequence + Array(#"b"}"#.utf8)
        let inKey = Array(#"{"a"#.utf8) + sequence + Array(#"": 1}"#.utf8)
        let outside = Array(#"{"ip": "a"}"#.utf8) + sequence
        let structural = Array(#"{"ip": "#.utf8) + sequence + Array(#"}"#.utf8)
        let truncated = Array(#"{"ip": "a"#.utf8) + sequence
        for body in [inString, inKey, outside, structural, truncated] {
            #expect(Self.failure(body) == .invalidUTF8, "\(body)")
        }
    }

    @Test("a valid object, a valid string key and nothing else is still checked to the end")
    func fullValidation() {
        // Errors after the last member we care about are found.
        #expect(Self.failure(Array(#"{"user_id": "a", "ip": "b", "device_id": "c", "z": [1, 2, {"q": tru}]}"#.utf8)) == .notJSON)
        #expect(Self.failure(Array(#"{"user_id": "a", "ip": "b", "device_id": "c", "z": "\u00"}"#.utf8)) == .notJSON)
    }

    @Test("every truncation of a valid body is rejected")
    func truncations() {
        let body = Array(#"{"user_id": "é😀", "a": [1.5e-3, true, false, null, {"b": "\ud83d\ude00"}], "ip": "x"}"#.utf8)
        for end in 0..<body.count {
            #expect(Self.failure(Array(body[..<end])) != nil, "\(end)")
        }
        #expect(Self.failure(body) == nil)
    }

    // MARK: Differential test against Foundation

    /// Thousands of generated and mutated bodies: accept/reject and the six members agree with
    /// `JSONSerialization` (`.fragmentsAllowed`), except for documented classes where
    /// swift-corelibs-foundation's JSONSerialization departs from RFC 8259 or sniffs encodings:
    /// - trailing commas (`[1,]`, `{"a":1,}`): JSONSerialization accepts them, RFC 8259 does not;
    /// - numbers beyond Double's range (`1e999`): JSONSerialization rejects them, the grammar allows them;
    /// - bodies containing NUL bytes or starting with a byte-order-mark byte (EF, FE, FF):
    ///   JSONSerialization detects UTF-16/32 and BOMs (unit tests above cover these for us);
    /// - nesting deeper than 64 (our limit; JSONSerialization's is 512): never generated.
    /// Lone surrogates and duplicate keys are NOT excluded: JSONSerialization also rejects the
    /// former and also keeps the last of the latter.
    @Test("differential: agrees with JSONSerialization on generated and mutated bodies")
    func differential() throws {
        var generator = BodyGenerator(seed: 0x5EED_F37C_11DE)
        var compared = 0, accepted = 0, rejected = 0, objects = 0, excluded = 0
        var mismatches: [String] = []
        for round in 0..<8000 {
            // A quarter clean, a quarter with deliberately invalid pieces, half of those mutated.
            generator.sloppy = round % 4 != 0
            var body = generator.body()
            if round % 2 == 1 { generator.mutate(&body) }
            if DifferentialExclusions.skipUpFront(body) {
                excluded += 1
                continue
            }
            let ours = Scanner.scan(body)
            let theirs = Reference.parse(body)
            switch (ours, theirs) {
            case (.success(let fields), .object(let reference)):
                accepted += 1
                objects += 1
                compared += 1
                if fields != reference {
                    mismatches.append("fields differ: \(Reference.describe(body)) ours \(fields) theirs \(reference)")
                }
            case (.failure(.notAnObject), .notAnObject):
                accepted += 1
                compared += 1
            case (.failure(.notJSON), .invalid), (.failure(.invalidUTF8), .invalid):
                rejected += 1
                compared += 1
            case (.failure, .object), (.failure, .notAnObject):
                if DifferentialExclusions.hasTrailingComma(body) {
                    excluded += 1
                } else {
                    mismatches.append("we reject, Foundation accepts: \(Reference.describe(body))")
                }
            case (.success, .invalid), (.failure(.notAnObject), .invalid):
                if DifferentialExclusions.hasNumberBeyondDouble(body) {
                    excluded += 1
                } else {
                    mismatches.append("we accept, Foundation rejects: \(Reference.describe(body))")
                }
            case (.success, .notAnObject), (.failure(.notJSON), _), (.failure(.invalidUTF8), _):
                mismatches.append("outcome differs: \(Reference.describe(body)) ours \(ours) theirs \(theirs)")
            }
        }
        #expect(mismatches.isEmpty, "\(mismatches.prefix(10).joined(separator: "\n"))")
        // The corpus exercises both sides, and exclusions stay a small minority.
        #expect(compared >= 7000)
        #expect(objects >= 2000)
        #expect(accepted >= 2200)
        #expect(rejected >= 3000)
        #expect(excluded < 800)
    }
}

// MARK: - Differential helpers

/// Foundation's reading of a body, in the scanner's terms.
private enum Reference: Equatable {
    case object(JSONObjectScanner.Fields)
    case notAnObject
    case invalid

    static func parse(_ body: [UInt8]) -> Reference {
        guard let value = try? JSONSerialization.jsonObject(with: Data(body), options: [.fragmentsAllowed]) else {
            return .invalid
        }
        guard let object = value as? [String: Any] else { return .notAnObject }
        var fields = JSONObjectScanner.Fields()
        for key in JSONObjectScanner.Key.allCases {
            switch object[key.name] {
            case nil: fields[key] = .absent
            case is NSNull: fields[key] = .null
            case let string as String: fields[key] = .string(string)
            default: fields[key] = .other
            }
        }
        return .object(fields)
    }

    static func describe(_ body: [UInt8]) -> String {
        String(decoding: body, as: UTF8.self).debugDescription + " \(body.count) bytes"
    }
}

/// The documented classes where JSONSerialization and RFC 8259 part ways.
private enum DifferentialExclusions {
    static func skipUpFront(_ body: [UInt8]) -> Bool {
        body.contains(0) || [0xEF, 0xFE, 0xFF].contains(body.first ?? 0)
    }

    /// A `,` followed by optional whitespace and `}` or `]`, outside strings.
    static func hasTrailingComma(_ body: [UInt8]) -> Bool {
        var inString = false, escaped = false, afterComma = false
        for byte in body {
            if inString {
                if escaped { escaped = false } else if byte == 0x5C { escaped = true } else if byte == 0x22 { inString = false }
                continue
            }
            switch byte {
            case 0x22: inString = true; afterComma = false
            case 0x2C: afterComma = true
            case 0x7D, 0x5D: if afterComma { return true }
            case 0x20, 0x09, 0x0A, 0x0D: break
            default: afterComma = false
            }
        }
        return false
    }

    /// A number token outside strings whose value is not a finite Double.
    static func hasNumberBeyondDouble(_ body: [UInt8]) -> Bool {
        var inString = false, escaped = false
        var token: [UInt8] = []
        func check() -> Bool {
            defer { token.removeAll() }
            guard !token.isEmpty, let value = Double(String(decoding: token, as: UTF8.self)) else { return false }
            return !value.isFinite
        }
        for byte in body {
            if inString {
                if escaped { escaped = false } else if byte == 0x5C { escaped = true } else if byte == 0x22 { inString = false }
                continue
            }
            if (0x30...0x39).contains(byte) || [0x2D, 0x2B, 0x2E, 0x65, 0x45].contains(byte) {
                token.append(byte)
                continue
            }
            if check() { return true }
            if byte == 0x22 { inString = true }
        }
        return check()
    }
}

/// Deterministic generator of JSON-ish bodies (SplitMix64).
private struct BodyGenerator {
    var state: UInt64
    /// Whether to inject deliberately invalid pieces (bad escapes, lone surrogates, bad numbers…).
    var sloppy = true

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func int(_ bound: Int) -> Int { Int(next() % UInt64(bound)) }
    mutating func chance(_ percent: Int) -> Bool { int(100) < percent }
    mutating func pick<T>(_ choices: [T]) -> T { choices[int(choices.count)] }

    static let keys = [
        "user_id", "device_type", "ip", "locale", "device_id", "app_version", "foo", "bar", "",
        #"user\u005fid"#, #"\u0069p"#, #"locale\u0000"#, "IP", "user_id ", "ключ", "😀", #"a\"b"#,
    ]

    mutating func whitespace() -> String {
        guard chance(30) else { return "" }
        return String((0..<int(3) + 1).map { _ in pick([" ", "\t", "\n", "\r"]) })
    }

    mutating func stringContent() -> String {
        var out = ""
        for _ in 0..<int(12) {
            switch int(20) {
            case 0: out += pick([#"\""#, #"\\"#, #"\/"#, #"\b"#, #"\f"#, #"\n"#, #"\r"#, #"\t"#])
            case 1: out += hex4(int(0xD800))
            case 2: out += hex4(0xE000 + int(0x2000), upper: true)
            case 3:  // surrogate pair, sometimes broken
                let high = 0xD800 + int(0x400), low = 0xDC00 + int(0x400)
                switch sloppy ? int(6) : 3 {
                case 0: out += hex4(high)
                case 1: out += hex4(low)
                case 2: out += hex4(low) + hex4(high)
                default: out += hex4(high) + hex4(low, upper: true)
                }
            case 4: out += pick(["é", "€", "😀", "ü", "\u{FFFF}", "\u{10FFFF}", "中文", "\u{7F}", "\u{0301}"])
            case 5 where sloppy: out += pick([#"\x"#, #"\u12"#, "\t", "\u{1}", #"\U0041"#, #"\'"#])
            case 6: out += pick(["199.172.111.135", "593-47-5928", "2.3.0", "424cdd21-063a-43a7-b91b-7ca1a833afae"])
            default: out += String(UnicodeScalar(UInt8(0x20 + int(0x5F))))
            }
        }
        return out
    }

    mutating func number() -> String {
        var out = chance(30) ? "-" : ""
        out += chance(20) ? "0" : String(int(9) + 1) + String((0..<int(25)).map { _ in Character(String(int(10))) })
        if chance(30) { out += "." + String((0..<int(4) + 1).map { _ in Character(String(int(10))) }) }
        if chance(25) { out += pick(["e", "E"]) + pick(["", "+", "-"]) + String(chance(10) ? int(400) : int(40)) }
        if sloppy, chance(5) { out = pick(["01", "-", "1.", ".5", "+1", "1e", "0x10", "NaN", "1.e3", "-01.5"]) }
        return out
    }

    mutating func value(depth: Int) -> String {
        switch int(depth >= 6 ? 5 : 8) {
        case 0, 1: return "\"" + stringContent() + "\""
        case 2: return number()
        case 3: return pick(["true", "false", "null", "null"])
        case 4: return !sloppy || chance(97) ? pick(["\"\"", "{}", "[]"]) : pick(["tru", "nul"])
        case 5, 6: return object(depth: depth + 1)
        default:
            let items = (0..<int(4)).map { _ in whitespace() + value(depth: depth + 1) + whitespace() }
            return "[" + items.joined(separator: ",") + (sloppy && chance(3) ? ",]" : "]")
        }
    }

    mutating func object(depth: Int) -> String {
        let members = (0..<int(depth == 0 ? 9 : 4)).map { _ in
            whitespace() + "\"" + (chance(80) ? pick(Self.keys) : stringContent()) + "\"" + whitespace() + ":" + whitespace()
                + value(depth: depth) + whitespace()
        }
        return "{" + members.joined(separator: ",") + (sloppy && chance(3) ? ",}" : "}")
    }

    mutating func body() -> [UInt8] {
        let top = chance(92) ? object(depth: 0) : value(depth: 3)
        return Array((whitespace() + top + whitespace()).utf8)
    }

    static let interesting: [UInt8] = [
        0x22, 0x5C, 0x2C, 0x7D, 0x5D, 0x7B, 0x5B, 0x3A, 0x20, 0x0A, 0x75, 0x30, 0x31, 0x65, 0x2E, 0x2D, 0x2B,
        0x6E, 0x74, 0x66, 0x1F, 0x7F, 0x80, 0xBF, 0xC0, 0xC3, 0xE0, 0xED, 0xF0, 0xF4, 0xF5, 0xFF,
    ]

    mutating func mutate(_ body: inout [UInt8]) {
        for _ in 0..<(int(3) + 1) {
            guard !body.isEmpty else { return }
            let at = int(body.count)
            switch int(6) {
            case 0: body.removeSubrange(at...)  // truncation
            case 1: body[at] = pick(Self.interesting)
            case 2: body[at] ^= UInt8(1 << int(8))
            case 3: body.insert(pick(Self.interesting), at: at)
            case 4: body.remove(at: at)
            default:  // duplicate or move a slice
                let end = min(body.count, at + int(12) + 1)
                body.insert(contentsOf: Array(body[at..<end]), at: int(body.count))
            }
        }
    }
}

private func hex4(_ value: Int, upper: Bool = false) -> String {
    let digits = String(value, radix: 16, uppercase: upper)
    return "\\u" + String(repeating: "0", count: max(0, 4 - digits.count)) + digits
}
