public import Foundation

/// Text that reaches a terminal or a TSV file from the database or the user: every printer of
/// `vault` (and the one-line errors of both commands) goes through here, so no value can forge
/// an output row or send escape sequences to the operator's terminal.
///
/// Escaping of one field (reversible: the backslash itself is escaped):
///
/// | in the value | printed as |
/// |---|---|
/// | `\` | `\\` |
/// | tab, line feed, carriage return | `\t`, `\n`, `\r` |
/// | any other C0 control (U+0000–U+001F) and DEL (U+007F) | `\xNN` (two lowercase hex digits) |
/// | C1 controls (U+0080–U+009F), line/paragraph separators (U+2028, U+2029), bidirectional formatting (U+061C, U+200E, U+200F, U+202A–U+202E, U+2066–U+2069) | `\u{N…}` (lowercase hex scalar value) |
///
/// Everything else is printed as is. Values are Swift strings, so they are valid UTF-8 by the
/// time they get here (invalid bytes became U+FFFD when they were decoded).
public enum TerminalText {
    /// One field, escaped as the table above says.
    public static func field<S: StringProtocol>(_ value: S) -> String {
        let scalars = value.unicodeScalars
        guard scalars.contains(where: needsEscape) else { return String(value) }
        var out = ""
        out.reserveCapacity(value.utf8.count + 16)
        for scalar in scalars {
            guard needsEscape(scalar) else {
                out.unicodeScalars.append(scalar)
                continue
            }
            switch scalar.value {
            case 0x5c: out += "\\\\"
            case 0x09: out += "\\t"
            case 0x0a: out += "\\n"
            case 0x0d: out += "\\r"
            case 0x00...0x1f, 0x7f: out += "\\x" + hex(scalar.value, digits: 2)
            default: out += "\\u{" + hex(scalar.value, digits: 1) + "}"
            }
        }
        return out
    }

    /// Fields joined by tabs and ended by a newline: one record, exactly one line.
    public static func record(_ fields: [String]) -> String {
        fields.map { field($0) }.joined(separator: "\t") + "\n"
    }

    /// Whether the scalar is escaped in a field.
    public static func needsEscape(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x5c, 0x00...0x1f, 0x7f...0x9f: true
        case 0x061c, 0x200e, 0x200f, 0x2028, 0x2029, 0x202a...0x202e, 0x2066...0x2069: true
        default: false
        }
    }

    /// A JSON document (as a JSON encoder made it) made safe for a terminal without changing
    /// what it parses to: every scalar ``needsEscape(_:)`` names except the backslash (which
    /// the encoder already used for its own escapes) becomes a `\uXXXX` escape. Outside
    /// strings JSON has only ASCII punctuation, digits, letters and spaces, so every such
    /// scalar is inside a string, where `\uXXXX` means exactly that scalar.
    public static func json(_ encoded: Data) -> String {
        let text = String(decoding: encoded, as: UTF8.self)
        guard text.unicodeScalars.contains(where: { $0 != "\\" && needsEscape($0) }) else { return text }
        var out = ""
        out.reserveCapacity(encoded.count + 16)
        for scalar in text.unicodeScalars {
            if scalar != "\\" && needsEscape(scalar) {
                out += "\\u" + hex(scalar.value, digits: 4)  // every escaped scalar is in the BMP
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    private static func hex(_ value: UInt32, digits: Int) -> String {
        let text = String(value, radix: 16)
        return text.count >= digits ? text : String(repeating: "0", count: digits - text.count) + text
    }
}
