/// Capped exponential backoff with jitter (each delay random in the upper half of its
/// ceiling), for retrying an unavailable service.
struct Backoff: Sendable {
    let base: Duration
    let cap: Duration
    private(set) var attempt = 0

    init(base: Duration = .milliseconds(200), cap: Duration = .seconds(10)) {
        self.base = base
        self.cap = cap
    }

    /// The next delay, random in [c/2, c] for c = min(cap, base·2^attempt); advances the attempt.
    mutating func next() -> Duration {
        let exponent = min(attempt, 20)
        attempt += 1
        let ceiling = min(cap, base * (1 << exponent))
        let millis = ceiling.components.seconds * 1000 + ceiling.components.attoseconds / 1_000_000_000_000_000
        return .milliseconds(Int64.random(in: max(1, millis / 2)...max(1, millis)))
    }

    mutating func reset() { attempt = 0 }
}
