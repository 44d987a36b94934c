import SQS

/// The ids of the entries of an SQS batch call made for a chunk of messages: each message's
/// index in the chunk, as decimal text ("0" … "9").
enum BatchEntryIDs {
    static func id(_ index: Int) -> String { String(index) }

    /// The message of `chunk` that the entry id `id` of a response names, or nil when `id`
    /// is not exactly one of the ids sent ("99", "-1", "x", "01", "+1"): a response's ids
    /// are data from the network and are never used as an index unchecked.
    static func message(forID id: String, in chunk: [SQSMessage]) -> SQSMessage? {
        guard let index = Int(id), chunk.indices.contains(index), Self.id(index) == id else { return nil }
        return chunk[index]
    }
}
