/// How `vault retokenize` moves entries and rows to their new tokens.
public enum RetokenizeMethod: String, Sendable, CaseIterable {
    /// Rebuild a table when most of it moves and nothing bound to it forbids it, else in place.
    case auto
    /// Fill a copy with the new tokens, index it, swap it in (see ``TableRebuild``).
    case rebuild
    /// Update where they are, a batch per transaction.
    case inPlace = "in-place"
}
