/// A subject hash (`SubjectHasher`) as its 32 bytes: what `etl` keeps in memory per erased
/// subject (a fifth of the hex string's footprint, hashed and compared as four words).
public struct SubjectDigest: Hashable, Sendable {
    let words: (UInt64, UInt64, UInt64, UInt64)

    init(bytes: UnsafePointer<UInt8>) {
        let raw = UnsafeRawPointer(bytes)
        words = (
            raw.loadUnaligned(fromByteOffset: 0, as: UInt64.self), raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self),
            raw.loadUnaligned(fromByteOffset: 16, as: UInt64.self), raw.loadUnaligned(fromByteOffset: 24, as: UInt64.self)
        )
    }

    /// The digest of a 64-character hex hash (as stored in `fetchde.subject_erasures`); nil
    /// for anything else.
    public init?(hex: String) {
        var hex = hex
        let parsed: (UInt64, UInt64, UInt64, UInt64)? = hex.withUTF8 { utf8 in
            withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 32) { out in
                guard Hex.decode(UnsafeRawBufferPointer(utf8), into: UnsafeMutableRawBufferPointer(out)) else { return nil }
                return SubjectDigest(bytes: out.baseAddress!).words
            }
        }
        guard let parsed else { return nil }
        words = parsed
    }

    /// The first 8 bytes as a word: what `etl` keeps in memory per tombstone
    /// (`SubjectErasures`).
    public var prefix: UInt64 { words.0 }

    /// The ``prefix`` of the hash whose hex form starts with `hex` (16 hex digits); nil for
    /// anything else.
    public static func prefix(hex: UnsafeRawBufferPointer) -> UInt64? {
        guard hex.count == 16 else { return nil }
        var word: UInt64 = 0
        let decoded = withUnsafeMutableBytes(of: &word) { Hex.decode(hex, into: $0) }
        return decoded ? word : nil
    }

    /// The 64-character lowercase hex form (the tombstone's `subject_hash`).
    public var hex: String {
        withUnsafeBytes(of: words) { Hex.encode($0) }
    }

    public static func == (a: SubjectDigest, b: SubjectDigest) -> Bool {
        a.words.0 == b.words.0 && a.words.1 == b.words.1 && a.words.2 == b.words.2 && a.words.3 == b.words.3
    }

    public func hash(into hasher: inout Hasher) {
        // The words are already uniform (HMAC output): one feeds the hasher enough.
        hasher.combine(words.0)
    }
}
