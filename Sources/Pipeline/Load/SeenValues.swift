import PIICrypto

/// The (field, token) pairs this process has committed to the vault, so a value seen again
/// is not re-encrypted. Compact (the first 128 bits of the token and the field: a collision
/// is as unlikely as one of SHA-256 truncated to 128 bits) and bounded: when full it starts
/// over (ON CONFLICT still dedupes).
struct SeenValues: Sendable {
    private struct Key: Hashable, Sendable {
        let high: UInt64
        let low: UInt64
        let field: PIIField
    }

    private var keys = Set<Key>()
    let capacity: Int

    init(capacity: Int = 1_000_000) {
        self.capacity = capacity
    }

    func contains(_ key: VaultKey) -> Bool {
        Self.compact(key).map(keys.contains) ?? false
    }

    mutating func insert(contentsOf committed: [VaultKey]) {
        if keys.count + committed.count > capacity { keys.removeAll(keepingCapacity: true) }
        for key in committed {
            if let compact = Self.compact(key) { keys.insert(compact) }
        }
    }

    mutating func removeAll() { keys.removeAll() }

    /// The first 32 hex digits of the token as two integers (nil for a malformed token,
    /// which is then simply never cached).
    private static func compact(_ key: VaultKey) -> Key? {
        var words: (UInt64, UInt64) = (0, 0)
        var index = 0
        for byte in key.token.utf8.prefix(32) {
            let nibble: UInt64
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): nibble = UInt64(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): nibble = UInt64(byte - UInt8(ascii: "a") + 10)
            default: return nil
            }
            if index < 16 { words.0 = words.0 << 4 | nibble } else { words.1 = words.1 << 4 | nibble }
            index += 1
        }
        guard index == 32 else { return nil }
        return Key(high: words.0, low: words.1, field: key.field)
    }
}
