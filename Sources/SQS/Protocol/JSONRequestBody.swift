/// AWS JSON 1.0 request bodies, written directly: `JSONSerialization` bridged every request's
/// dictionary to Foundation objects and cost more CPU than the rest of a DeleteMessageBatch.
///
/// Takes what the operations build: strings, integers, booleans, arrays and string-keyed
/// dictionaries of those (anything else is written as `null`). Strings are escaped as
/// RFC 8259 requires: `"`, `\` and the control characters; other characters stay UTF-8.
enum JSONRequestBody {
    static func encode(_ object: [String: Any]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(512)
        writeObject(object, into: &out)
        return out
    }

    private static func write(_ value: Any, into out: inout [UInt8]) {
        switch value {
        case let string as String: writeString(string, into: &out)
        case let int as Int: out.append(contentsOf: String(int).utf8)
        case let bool as Bool: out.append(contentsOf: (bool ? "true" : "false").utf8)
        case let object as [String: Any]: writeObject(object, into: &out)
        case let objects as [[String: Any]]: writeArray(objects, into: &out) { writeObject($0, into: &$1) }
        case let strings as [String]: writeArray(strings, into: &out) { writeString($0, into: &$1) }
        case let values as [Any]: writeArray(values, into: &out) { write($0, into: &$1) }
        default: out.append(contentsOf: "null".utf8)
        }
    }

    private static func writeObject(_ object: [String: Any], into out: inout [UInt8]) {
        out.append(UInt8(ascii: "{"))
        var first = true
        for (key, value) in object {
            if !first { out.append(UInt8(ascii: ",")) }
            first = false
            writeString(key, into: &out)
            out.append(UInt8(ascii: ":"))
            write(value, into: &out)
        }
        out.append(UInt8(ascii: "}"))
    }

    private static func writeArray<Element>(_ array: [Element], into out: inout [UInt8], _ element: (Element, inout [UInt8]) -> Void) {
        out.append(UInt8(ascii: "["))
        for (index, value) in array.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            element(value, &out)
        }
        out.append(UInt8(ascii: "]"))
    }

    private static let hex = Array("0123456789abcdef".utf8)

    static func writeString(_ string: String, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for byte in string.utf8 {
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"):
                out.append(UInt8(ascii: "\\"))
                out.append(byte)
            case 0..<0x20:
                out.append(contentsOf: "\\u00".utf8)
                out.append(hex[Int(byte >> 4)])
                out.append(hex[Int(byte & 0x0f)])
            default:
                out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}
