/// The (field, token) pairs this process has committed to the vault, so a value seen again
/// is not re-encrypted. Bounded: when full it starts over (ON CONFLICT still dedupes).
struct SeenValues: Sendable {
    private var keys = Set<VaultKey>()
    let capacity: Int

    init(capacity: Int = 200_000) {
        self.capacity = capacity
    }

    func contains(_ key: VaultKey) -> Bool { keys.contains(key) }

    mutating func insert(contentsOf committed: [VaultKey]) {
        if keys.count + committed.count > capacity { keys.removeAll(keepingCapacity: true) }
        keys.formUnion(committed)
    }

    mutating func removeAll() { keys.removeAll() }
}
