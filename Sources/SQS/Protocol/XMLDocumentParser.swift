/// A parsed XML element: just enough of XML for AWS Query responses (no namespaces, no DTDs).
struct XMLNode: Sendable, Equatable {
    var name: String
    var children: [XMLNode] = []
    /// Concatenated character data directly inside this element, entities decoded.
    var text: String = ""

    /// The first child named `name`.
    func child(_ name: String) -> XMLNode? { children.first { $0.name == name } }

    /// All children named `name`.
    func children(_ name: String) -> [XMLNode] { children.filter { $0.name == name } }

    /// The text of the first child named `name`.
    func childText(_ name: String) -> String? { child(name)?.text }

    /// The first element named `name` at any depth (depth-first, self included).
    func descendant(_ name: String) -> XMLNode? {
        if self.name == name { return self }
        for child in children {
            if let found = child.descendant(name) { return found }
        }
        return nil
    }
}

/// Why a document could not be parsed; a fixed phrase and an offset, never document content.
struct XMLParseError: Error, Equatable {
    var reason: String
    var offset: Int
}

/// A small, strict, non-validating XML parser for AWS responses.
///
/// Handles the prolog, comments, processing instructions, CDATA, attributes (skipped),
/// self-closing tags, the five predefined entities and numeric character references.
/// Element names keep their prefix, if any (AWS responses use a default namespace only).
///
/// The response comes from the network, so the document is bounded: at most ``maxDepth``
/// levels of elements (the parser recurses once per level) and ``maxElements`` elements in
/// all; a document beyond either is an error, not a crash or a huge tree.
enum XMLDocumentParser {
    /// Element nesting, the root counting as 1. AWS Query responses nest 4–5 levels.
    static let maxDepth = 32
    /// Elements in one document. A ReceiveMessage of 10 messages has about 120.
    static let maxElements = 20_000

    static func parse(_ bytes: [UInt8]) throws(XMLParseError) -> XMLNode {
        var scanner = Scanner(bytes: bytes)
        return try scanner.document()
    }

    static func parse(_ string: String) throws(XMLParseError) -> XMLNode {
        try parse(Array(string.utf8))
    }

    private struct Scanner {
        let bytes: [UInt8]
        var index = 0
        /// Elements started so far (bounded by `maxElements`).
        var elements = 0

        init(bytes: [UInt8]) {
            self.bytes = bytes
            // Skip a UTF-8 byte-order mark.
            if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { index = 3 }
        }

        func fail(_ reason: String) -> XMLParseError { XMLParseError(reason: reason, offset: index) }

        func peek(_ literal: StaticString) -> Bool {
            let count = literal.utf8CodeUnitCount
            guard index + count <= bytes.count else { return false }
            let utf8 = literal.utf8Start
            for offset in 0..<count where bytes[index + offset] != utf8[offset] { return false }
            return true
        }

        mutating func skip(until literal: StaticString) throws(XMLParseError) {
            while index < bytes.count, !peek(literal) { index += 1 }
            guard index < bytes.count else { throw fail("unterminated construct") }
            index += literal.utf8CodeUnitCount
        }

        mutating func skipWhitespace() {
            while index < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[index]) { index += 1 }
        }

        /// Skips whitespace, comments, processing instructions and DOCTYPE between markup.
        mutating func skipMisc() throws(XMLParseError) {
            while true {
                skipWhitespace()
                if peek("<?") { try skip(until: "?>") }
                else if peek("<!--") { try skip(until: "-->") }
                else if peek("<!DOCTYPE") { try skip(until: ">") }
                else { return }
            }
        }

        mutating func document() throws(XMLParseError) -> XMLNode {
            try skipMisc()
            guard peek("<") else { throw fail("expected root element") }
            let root = try element(depth: 1)
            try skipMisc()
            guard index == bytes.count else { throw fail("content after root element") }
            return root
        }

        mutating func name() throws(XMLParseError) -> String {
            let start = index
            while index < bytes.count {
                let b = bytes[index]
                if b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D || b == UInt8(ascii: ">")
                    || b == UInt8(ascii: "/") || b == UInt8(ascii: "=") { break }
                index += 1
            }
            guard index > start else { throw fail("expected a name") }
            return String(decoding: bytes[start..<index], as: UTF8.self)
        }

        /// Parses `<name attrs...>content</name>` or `<name/>` starting at `<`, `depth` levels
        /// down (the root is at depth 1).
        mutating func element(depth: Int) throws(XMLParseError) -> XMLNode {
            guard depth <= XMLDocumentParser.maxDepth else { throw fail("elements nested too deeply") }
            elements += 1
            guard elements <= XMLDocumentParser.maxElements else { throw fail("too many elements") }
            index += 1  // <
            var node = XMLNode(name: try name())
            // Attributes: skipped, but quoted values are honoured so '>' inside them is fine.
            while true {
                skipWhitespace()
                guard index < bytes.count else { throw fail("unterminated start tag") }
                if peek("/>") { index += 2; return node }
                if bytes[index] == UInt8(ascii: ">") { index += 1; break }
                _ = try name()
                skipWhitespace()
                guard index < bytes.count, bytes[index] == UInt8(ascii: "=") else { throw fail("expected '='") }
                index += 1
                skipWhitespace()
                guard index < bytes.count, bytes[index] == 0x22 || bytes[index] == 0x27 else {
                    throw fail("expected a quoted attribute value")
                }
                let quote = bytes[index]
                index += 1
                while index < bytes.count, bytes[index] != quote { index += 1 }
                guard index < bytes.count else { throw fail("unterminated attribute value") }
                index += 1
            }
            var text: [UInt8] = []
            while true {
                guard index < bytes.count else { throw fail("unterminated element") }
                let b = bytes[index]
                if b == UInt8(ascii: "<") {
                    if peek("</") {
                        index += 2
                        let closing = try name()
                        guard closing == node.name else { throw fail("mismatched end tag") }
                        skipWhitespace()
                        guard index < bytes.count, bytes[index] == UInt8(ascii: ">") else { throw fail("expected '>'") }
                        index += 1
                        node.text = String(decoding: text, as: UTF8.self)
                        return node
                    } else if peek("<![CDATA[") {
                        index += 9
                        let start = index
                        try skip(until: "]]>")
                        text.append(contentsOf: bytes[start..<(index - 3)])
                    } else if peek("<!--") {
                        try skip(until: "-->")
                    } else if peek("<?") {
                        try skip(until: "?>")
                    } else {
                        node.children.append(try element(depth: depth + 1))
                    }
                } else if b == UInt8(ascii: "&") {
                    try entity(into: &text)
                } else if b == 0x0D {
                    // XML end-of-line handling: a literal CR or CRLF is read as LF
                    // (an escaped &#xD; is kept as CR).
                    text.append(0x0A)
                    index += 1
                    if index < bytes.count, bytes[index] == 0x0A { index += 1 }
                } else {
                    text.append(b)
                    index += 1
                }
            }
        }

        mutating func entity(into text: inout [UInt8]) throws(XMLParseError) {
            let start = index + 1
            var end = start
            while end < bytes.count, bytes[end] != UInt8(ascii: ";"), end - start < 12 { end += 1 }
            guard end < bytes.count, bytes[end] == UInt8(ascii: ";") else { throw fail("unterminated entity") }
            let ref = String(decoding: bytes[start..<end], as: UTF8.self)
            index = end + 1
            switch ref {
            case "lt": text.append(UInt8(ascii: "<"))
            case "gt": text.append(UInt8(ascii: ">"))
            case "amp": text.append(UInt8(ascii: "&"))
            case "quot": text.append(0x22)
            case "apos": text.append(0x27)
            default:
                var scalarValue: UInt32?
                if ref.hasPrefix("#x") || ref.hasPrefix("#X") {
                    scalarValue = UInt32(ref.dropFirst(2), radix: 16)
                } else if ref.hasPrefix("#") {
                    scalarValue = UInt32(ref.dropFirst(1), radix: 10)
                }
                guard let value = scalarValue, let scalar = Unicode.Scalar(value) else {
                    throw fail("unknown entity")
                }
                text.append(contentsOf: Array(String(Character(scalar)).utf8))
            }
        }
    }
}
