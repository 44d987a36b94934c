import Foundation
import Testing

@testable import SQS

/// The response reader agrees with JSONSerialization (the reference) on valid bodies and
/// refuses what is not exactly one valid JSON object.
@Suite("JSON response parser")
struct JSONResponseParserTests {
    static let valid = [
        #"{}"#, #" { "a" : [ ] , "b" : { } } "#,
        #"{"Messages":[{"MessageId":"m","Body":"{\"ip\":\"1.2.3.4\"}\n\t\/\\","Attributes":{"SentTimestamp":"1"}}]}"#,
        #"{"n":[0,-0,1,-12,9223372036854775807,-9223372036854775808,1.5,-2e3,1E+2,3.25e-4,12345678901234567890]}"#,
        #"{"t":true,"f":false,"z":null,"u":"\u00e9\u20AC\ud83d\ude00 é😀","dup":1,"dup":2}"#,
    ]

    static let invalid = [
        "", "[1]", "\"s\"", "1", "{", "}", #"{"a"}"#, #"{"a":}"#, #"{"a":1,}"#, #"{"a":[1,]}"#, #"{a:1}"#,
        #"{"a":01}"#, #"{"a":1.}"#, #"{"a":.5}"#, #"{"a":1e}"#, #"{"a":+1}"#, #"{"a":1e999}"#, #"{"a":-1e999}"#,
        #"{"a":tru}"#, #"{"a":nul}"#, #"{"a":"\x"}"#, #"{"a":"\u12"}"#, #"{"a":"\ud800"}"#, #"{"a":"\udc00"}"#,
        #"{"a":"\ud800\u0041"}"#, "{\"a\":\"\u{01}\"}", "{\"a\":\"\n\"}", #"{"a":1} x"#, #"{"a":1}{}"#, #"{"a":"unterminated}"#,
    ]

    static func reference(_ text: String) -> NSDictionary? {
        (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? NSDictionary
    }

    @Test("valid objects read as JSONSerialization reads them (the last of a repeated key wins)")
    func agreesOnValid() throws {
        for text in Self.valid {
            let ours = try #require(JSONResponseParser.object(Array(text.utf8)), "\(text)")
            let theirs = try #require(Self.reference(text), "\(text)")
            #expect((ours as NSDictionary) == theirs, "\(text)")
        }
        let numbers = try #require(JSONResponseParser.object(Array(Self.valid[3].utf8))?["n"] as? [Any])
        #expect(numbers[0] as? Int == 0 && numbers[5] as? Int == Int.min && numbers[6] as? Double == 1.5)
        #expect(numbers[10] as? Double == 12345678901234567890)  // beyond Int: a Double
        let object = try #require(JSONResponseParser.object(Array(Self.valid[4].utf8)))
        #expect(object["u"] as? String == "é€😀 é😀" && object["dup"] as? Int == 2 && object["t"] as? Bool == true)
    }

    @Test("anything but exactly one valid object is refused: syntax, numbers, escapes, surrogates, control characters, trailing data, invalid UTF-8, depth")
    func refusesInvalid() {
        for text in Self.invalid {
            #expect(JSONResponseParser.object(Array(text.utf8)) == nil, "\(text)")
        }
        #expect(JSONResponseParser.object([0x7B, 0x22, 0x61, 0x22, 0x3A, 0x22, 0xC3, 0x22, 0x7D]) == nil)  // truncated UTF-8
        let deep = { (levels: Int) in "{\"a\":" + String(repeating: "[", count: levels - 1) + String(repeating: "]", count: levels - 1) + "}" }
        #expect(JSONResponseParser.object(Array(deep(JSONResponseParser.maxDepth).utf8)) != nil)
        #expect(JSONResponseParser.object(Array(deep(JSONResponseParser.maxDepth + 1).utf8)) == nil)
    }
}
