import Foundation
import Pipeline
import TestSupport
import Testing

@Suite("LoginMessageParser")
struct LoginMessageParserTests {
    static let typical = #"{"user_id": "424cdd21-063a-43a7-b91b-7ca1a833afae", "app_version": "2.3.0", "device_type": "android", "ip": "199.172.111.135", "locale": "RU", "device_id": "593-47-5928"}"#

    static func reason(_ body: String) -> InvalidMessage.Reason? {
        if case .failure(let invalid) = LoginMessageParser.parse(body) { return invalid.reason }
        return nil
    }

    static func reason(utf8 body: [UInt8]) -> InvalidMessage.Reason? {
        if case .failure(let invalid) = LoginMessageParser.parse(utf8: body) { return invalid.reason }
        return nil
    }

    /// A valid body with `field` replaced by the JSON text `json` (or removed when nil).
    static func body(_ field: String, _ json: String?) -> String {
        var members: [(String, String)] = [
            ("user_id", #""u-1""#), ("device_type", #""ios""#), ("ip", #""10.0.0.1""#), ("locale", #""US""#),
            ("device_id", #""123-45-6789""#), ("app_version", #""0.96""#),
        ]
        if let index = members.firstIndex(where: { $0.0 == field }) {
            if let json { members[index].1 = json } else { members.remove(at: index) }
        } else if let json {
            members.append((field, json))
        }
        return "{" + members.map { "\"\($0.0)\": \($0.1)" }.joined(separator: ", ") + "}"
    }

    static func quoted(_ text: String) -> String { "\"" + text + "\"" }

    // MARK: Valid

    @Test("the typical message")
    func typicalMessage() throws {
        let message = try LoginMessageParser.parse(Self.typical).get()
        #expect(message == LoginMessage(
            userID: "424cdd21-063a-43a7-b91b-7ca1a833afae", deviceType: "android", ip: "199.172.111.135",
            locale: "RU", deviceID: "593-47-5928", appVersionRaw: "2.3.0"))
        #expect(message.appVersion == 2_003_000)
        let bytes = Array(Self.typical.utf8)
        let viaPointer = bytes.withUnsafeBufferPointer { LoginMessageParser.parse(utf8: $0) }
        #expect(viaPointer == .success(message))
        #expect(LoginMessageParser.parse(utf8: bytes) == .success(message))
        // A bridged / non-contiguous String goes through the copying path.
        let bridged = NSString(string: Self.typical) as String
        #expect(LoginMessageParser.parse(bridged) == .success(message))
    }

    @Test("optional fields: absent and null are nil, an empty string stays empty")
    func optionalFields() throws {
        for field in ["device_type", "locale", "app_version"] {
            for json in [nil, "null"] as [String?] {
                let message = try LoginMessageParser.parse(Self.body(field, json)).get()
                switch field {
                case "device_type": #expect(message.deviceType == nil)
                case "locale": #expect(message.locale == nil)
                default:
                    #expect(message.appVersionRaw == nil)
                    #expect(message.appVersion == nil)
                }
            }
            let message = try LoginMessageParser.parse(Self.body(field, #""""#)).get()
            switch field {
            case "device_type": #expect(message.deviceType == "")
            case "locale": #expect(message.locale == "")
            default:
                #expect(message.appVersionRaw == "")
                #expect(message.appVersion == nil)
            }
        }
        let minimal = try LoginMessageParser.parse(#"{"user_id":"u","ip":"i","device_id":"d"}"#).get()
        #expect(minimal == LoginMessage(userID: "u", deviceType: nil, ip: "i", locale: nil, deviceID: "d", appVersionRaw: nil))
    }

    @Test("app_version: raw kept as given, encoded when N, N.N or N.N.N")
    func appVersion() throws {
        for (raw, encoded) in [("2.3.0", 2_003_000), ("3.7", 3_007_000), ("0.96", 96_000), ("1000", nil), ("v1", nil), ("1.2.3.4", nil)] as [(String, Int32?)] {
            let message = try LoginMessageParser.parse(Self.body("app_version", Self.quoted(raw))).get()
            #expect(message.appVersionRaw == raw)
            #expect(message.appVersion == encoded)
        }
    }

    @Test("unknown keys are ignored; strings are not trimmed; escapes are decoded")
    func unknownKeysAndEscapes() throws {
        let body = #"{"extra": {"ip": 1}, "user_id": " u\u00e9 ", "ip": "\u0031.2.3.4", "device_id": "d\"", "more": [1, 2.5, null], "n": -0}"#
        let message = try LoginMessageParser.parse(body).get()
        #expect(message.userID == " ué ")
        #expect(message.ip == "1.2.3.4")
        #expect(message.deviceID == "d\"")
    }

    @Test("duplicate keys: the last one wins")
    func duplicates() throws {
        let message = try LoginMessageParser.parse(#"{"user_id": 5, "ip": "a", "device_id": "d", "ip": "b", "user_id": "u"}"#).get()
        #expect(message.ip == "b")
        #expect(message.userID == "u")
        #expect(Self.reason(#"{"user_id": "u", "ip": "a", "device_id": "d", "ip": null}"#) == .wrongType("ip"))
    }

    // MARK: Invalid

    @Test("required fields: missing, null, wrong type, empty", arguments: ["user_id", "ip", "device_id"])
    func requiredFields(field: String) {
        #expect(Self.reason(Self.body(field, nil)) == .missingField(field))
        for json in ["null", "1", "0", "true", "false", "[]", #"["x"]"#, "{}", #"{"a":"x"}"#, "-1.5e3"] {
            #expect(Self.reason(Self.body(field, json)) == .wrongType(field), "\(json)")
        }
        #expect(Self.reason(Self.body(field, #""""#)) == .emptyField(field))
    }

    @Test("optional fields: wrong type", arguments: ["device_type", "locale", "app_version"])
    func optionalWrongType(field: String) {
        for json in ["1", "2.3", "true", "false", "[]", #"["2.3.0"]"#, "{}", #"{"v":"x"}"#] {
            #expect(Self.reason(Self.body(field, json)) == .wrongType(field), "\(json)")
        }
    }

    @Test(
        "column limits count characters (Unicode scalars), not bytes",
        arguments: [("user_id", 128), ("device_type", 32), ("ip", 256), ("locale", 32), ("device_id", 256), ("app_version", 64)])
    func limits(field: String, limit: Int) throws {
        for unit in ["a", "é", "€", "😀"] {
            let fits = String(repeating: unit, count: limit)
            #expect(Self.reason(Self.body(field, Self.quoted(fits))) == nil, "\(unit) × \(limit)")
            #expect(Self.reason(Self.body(field, Self.quoted(fits + unit))) == .tooLong(field), "\(unit) × \(limit + 1)")
        }
        // Escapes count as the character they stand for.
        let escaped = String(repeating: #"\u00e9"#, count: limit)
        #expect(Self.reason(Self.body(field, Self.quoted(escaped))) == nil)
        #expect(Self.reason(Self.body(field, Self.quoted(escaped + "x"))) == .tooLong(field))
        // A combining sequence is two characters for PostgreSQL.
        let combining = String(repeating: "e\u{301}", count: limit / 2) + "x"
        #expect(Self.reason(Self.body(field, Self.quoted(combining))) == .tooLong(field))
    }

    @Test("U+0000 is refused in the fields stored as text, allowed in the tokenized ones")
    func nulCharacter() throws {
        for field in ["user_id", "device_type", "locale", "app_version"] {
            #expect(Self.reason(Self.body(field, #""a\u0000b""#)) == .invalidCharacter(field))
        }
        for field in ["ip", "device_id"] {
            #expect(Self.reason(Self.body(field, #""a\u0000b""#)) == nil)
        }
    }

    @Test("fields are checked in a fixed order: the first problem is reported")
    func checkOrder() {
        #expect(Self.reason(#"{"device_type": 1, "ip": 2}"#) == .missingField("user_id"))
        #expect(Self.reason(#"{"user_id": "u", "device_type": 1, "ip": 2}"#) == .wrongType("device_type"))
        #expect(Self.reason(#"{"user_id": "u", "locale": 1}"#) == .missingField("ip"))
        #expect(Self.reason(#"{"user_id": "u", "ip": "i", "locale": 1}"#) == .wrongType("locale"))
        #expect(Self.reason(#"{"user_id": "u", "ip": "i", "app_version": 1}"#) == .missingField("device_id"))
    }

    @Test("body-level failures")
    func bodyLevel() {
        #expect(Self.reason("") == .notJSON)
        #expect(Self.reason("not json") == .notJSON)
        #expect(Self.reason(Self.typical + ",") == .notJSON)
        #expect(Self.reason(String(Self.typical.dropLast())) == .notJSON)
        #expect(Self.reason(#"{"user_id": "u", "ip": "i", "device_id": "d", "x": [1,]}"#) == .notJSON)
        #expect(Self.reason(#"{"user_id": "\ud800", "ip": "i", "device_id": "d"}"#) == .notJSON)
        #expect(Self.reason("[" + Self.typical + "]") == .notAnObject)
        #expect(Self.reason(#""{\"user_id\": \"u\"}""#) == .notAnObject)
        #expect(Self.reason("null") == .notAnObject)
        #expect(Self.reason(utf8: Array(#"{"user_id": "u"#.utf8) + [0xFF] + Array(#"", "ip": "i", "device_id": "d"}"#.utf8)) == .invalidUTF8)
        #expect(Self.reason(utf8: [0xFF, 0xFE]) == .invalidUTF8)
        #expect(Self.reason(utf8: []) == .notJSON)
        let empty = UnsafeBufferPointer<UInt8>(start: nil, count: 0)
        #expect(LoginMessageParser.parse(utf8: empty) == .failure(InvalidMessage(reason: .notJSON)))
    }

    // MARK: Descriptions

    @Test("descriptions are fixed texts naming the field only")
    func descriptions() {
        let expected: [(InvalidMessage.Reason, String)] = [
            (.notJSON, "body is not valid JSON"),
            (.notAnObject, "body is not a JSON object"),
            (.missingField("user_id"), "missing required field user_id"),
            (.wrongType("ip"), "field ip is not a string"),
            (.emptyField("device_id"), "field device_id is empty"),
            (.tooLong("locale"), "field locale longer than 32 characters"),
            (.tooLong("user_id"), "field user_id longer than 128 characters"),
            (.tooLong("app_version"), "field app_version longer than 64 characters"),
            (.invalidUTF8, "body is not valid UTF-8"),
            (.invalidCharacter("user_id"), "field user_id contains a NUL character"),
        ]
        for (reason, text) in expected {
            #expect(InvalidMessage(reason: reason).description == text)
            #expect(text.utf8.count <= 256)  // etl_quarantine.reason varchar(256)
        }
        #expect(InvalidMessage(reason: .wrongType("ip")).label == "wrong_type")
    }

    @Test("error descriptions never contain values from the body")
    func descriptionsDoNotLeak() {
        let secret = "SECRET-IP-7f3a9c"
        let long = secret + String(repeating: "9", count: 300)
        let bodies = [
            #"{"ip": "\#(secret)"}"#,  // missing user_id
            #"{"user_id": "u", "ip": "\#(long)", "device_id": "d"}"#,  // ip too long
            #"{"user_id": "\#(secret)", "ip": "\#(secret)", "device_id": ""}"#,  // empty device_id
            #"{"user_id": ["\#(secret)"], "ip": "\#(secret)", "device_id": "d"}"#,  // wrong type
            #"{"user_id": "u", "ip": "\#(secret)", "device_id": "d", "locale": "\#(long)"}"#,
            #"{"user_id": "u", "ip": "\#(secret)", "device_id": "d"#,  // truncated
            #"{"user_id": "u", "ip": "\#(secret)\x", "device_id": "d"}"#,  // bad escape
            #"["\#(secret)"]"#,
            #"{"\#(secret)": 1}"#,
            #"{"user_id": "\#(secret)\u0000", "ip": "i", "device_id": "d"}"#,
        ]
        for body in bodies {
            guard case .failure(let invalid) = LoginMessageParser.parse(body) else {
                Issue.record("expected a failure for \(body)")
                continue
            }
            #expect(!invalid.description.contains("SECRET"))
            #expect(!String(describing: invalid).contains("SECRET"))
            #expect(!String(reflecting: invalid).contains("SECRET"))
        }
    }

    // MARK: The real samples

    static func sampleLines() throws -> [String] {
        let url = TestServices.sharedDirectory.appendingPathComponent("data/fetch-takehome/sample_data_v2_2022-12.sqs_bodies.jsonl")
        let text = try String(contentsOf: url, encoding: .utf8)
        return text.split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
    }

    @Test("the 100 real take-home messages: 99 valid, 1 invalid, 29 null locales, same as Foundation")
    func realSamples() throws {
        let lines = try Self.sampleLines()
        #expect(lines.count == 100)
        var valid = 0, nullLocales = 0
        for line in lines {
            switch LoginMessageParser.parse(line) {
            case .success(let message):
                valid += 1
                if message.locale == nil { nullLocales += 1 }
                let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
                func string(_ key: String) -> String? { object[key] as? String }
                #expect(message.userID == string("user_id"))
                #expect(message.deviceType == string("device_type"))
                #expect(message.ip == string("ip"))
                #expect(message.locale == string("locale"))
                #expect(message.deviceID == string("device_id"))
                #expect(message.appVersionRaw == string("app_version"))
                #expect(message.appVersion == AppVersion.encode(string("app_version")))
                #expect(message.appVersion != nil)
                for key in ["device_type", "locale", "app_version"] where object[key] != nil && string(key) == nil {
                    #expect(object[key] is NSNull)
                }
            case .failure(let invalid):
                #expect(line.contains(#""foo""#))
                #expect(invalid.reason == .missingField("user_id"))
                #expect(invalid.description == "missing required field user_id")
            }
        }
        #expect(valid == 99)
        #expect(nullLocales == 29)
    }
}
