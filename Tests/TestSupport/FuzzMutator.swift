/// Seeded mutations of real inputs (responses, message bodies) for the parser robustness
/// tests: byte flips, random bytes, truncation, duplicated and deleted spans, inserted tokens,
/// deep nesting and huge values. Deterministic for a given seed, so CI runs the same inputs
/// every time and a failure names a reproducible case.
public struct FuzzMutator {
    /// How the input format nests, and tokens worth inserting (entities, escapes, keywords).
    public struct Grammar: Sendable {
        public var open: [UInt8]
        public var close: [UInt8]
        public var tokens: [[UInt8]]
        public init(open: String, close: String, tokens: [String]) {
            self.open = Array(open.utf8)
            self.close = Array(close.utf8)
            self.tokens = tokens.map { Array($0.utf8) }
        }
    }

    private var state: UInt64
    public let grammar: Grammar
    /// Mutated inputs never grow beyond this many bytes.
    public var maxLength = 1 << 20

    /// Opening runs of every depth of `depths`, and the same runs closed again (built once:
    /// debug builds are slow at concatenating).
    private let openRuns: [[UInt8]]
    private let balancedRuns: [[UInt8]]

    public init(seed: UInt64, grammar: Grammar) {
        self.state = seed
        self.grammar = grammar
        openRuns = Self.depths.map { depth in Self.repeated(grammar.open, depth) }
        balancedRuns = Self.depths.map { depth in Self.repeated(grammar.open, depth) + Self.repeated(grammar.close, depth) }
    }

    static func repeated(_ piece: [UInt8], _ times: Int) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(piece.count * times)
        for _ in 0..<times { out.append(contentsOf: piece) }
        return out
    }

    /// SplitMix64.
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A number in `range` (which must not be empty).
    public mutating func int(_ range: Range<Int>) -> Int {
        range.lowerBound + Int(next() % UInt64(range.count))
    }

    /// One mutation of `input` (half the time) or two to four.
    public mutating func mutate(_ input: [UInt8]) -> [UInt8] {
        var bytes = input
        for _ in 0..<(int(0..<2) == 0 ? 1 : int(2..<5)) { mutateOnce(&bytes) }
        if bytes.count > maxLength { bytes.removeLast(bytes.count - maxLength) }
        return bytes
    }

    static let interestingBytes: [UInt8] = [0x00, 0x0A, 0x0D, 0x22, 0x26, 0x3C, 0x3E, 0x5C, 0x7F, 0x80, 0xBF, 0xC0, 0xED, 0xF4, 0xF5, 0xFF]
    static let depths = [8, 33, 65, 513, 10_000, 100_000]

    private mutating func mutateOnce(_ bytes: inout [UInt8]) {
        let at = int(0..<(bytes.count + 1))
        switch int(0..<10) {
        case 0 where !bytes.isEmpty:  // flip one bit
            let index = int(0..<bytes.count)
            bytes[index] ^= UInt8(1) << UInt8(int(0..<8))
        case 1 where !bytes.isEmpty:  // overwrite a byte with an interesting or random one
            let index = int(0..<bytes.count)
            bytes[index] = int(0..<2) == 0 ? Self.interestingBytes[int(0..<Self.interestingBytes.count)] : UInt8(truncatingIfNeeded: next())
        case 2:  // truncate
            bytes.removeLast(bytes.count - at)
        case 3 where !bytes.isEmpty:  // duplicate a span, once or many times
            let start = int(0..<bytes.count)
            let span = Array(bytes[start..<min(bytes.count, start + int(1..<256))])
            let times = int(0..<4) == 0 ? int(2..<200) : 1
            bytes.insert(contentsOf: Self.repeated(span, times), at: at)
        case 4 where !bytes.isEmpty:  // delete a span
            let start = int(0..<bytes.count)
            bytes.removeSubrange(start..<min(bytes.count, start + int(1..<64)))
        case 5 where !grammar.tokens.isEmpty:  // insert a token of the grammar
            bytes.insert(contentsOf: grammar.tokens[int(0..<grammar.tokens.count)], at: at)
        case 6:  // deep nesting, balanced or not
            let depth = int(0..<Self.depths.count)
            bytes.insert(contentsOf: int(0..<2) == 0 ? openRuns[depth] : balancedRuns[depth], at: at)
        case 7:  // a huge number
            let digits = [UInt8](repeating: UInt8(ascii: "9"), count: int(20..<2000))
            let huge = int(0..<2) == 0 ? digits : Array("1e999999".utf8) + digits
            bytes.insert(contentsOf: huge, at: at)
        case 8:  // a long run of one byte (a huge string or text node)
            let byte = int(0..<2) == 0 ? UInt8(ascii: "a") : Self.interestingBytes[int(0..<Self.interestingBytes.count)]
            bytes.insert(contentsOf: [UInt8](repeating: byte, count: int(1000..<20_000)), at: at)
        default:  // random bytes
            bytes.insert(contentsOf: (0..<int(1..<16)).map { _ in UInt8(truncatingIfNeeded: next()) }, at: at)
        }
    }
}
