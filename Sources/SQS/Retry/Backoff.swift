/// Capped exponential backoff with jitter: the one backoff of the product, for retrying an SQS
/// request, waiting for an unavailable database or queue, and re-offering a batch.
///
/// Attempt n (0-based) has the ceiling c = min(cap, base·2ⁿ); its delay is random in [c/2, c]
/// ("equal jitter"): spread out so that many consumers do not retry in step, yet never so
/// short that a restarting service is hammered.
public struct Backoff: Sendable {
    public let base: Duration
    public let cap: Duration
    /// Delays handed out since the start or the last ``reset()``.
    public private(set) var attempt = 0

    public init(base: Duration = .milliseconds(200), cap: Duration = .seconds(10)) {
        self.base = base
        self.cap = cap
    }

    /// The next delay; advances the attempt.
    public mutating func next() -> Duration {
        defer { attempt += 1 }
        return Self.delay(attempt: attempt, base: base, cap: cap)
    }

    /// Starts over after a success.
    public mutating func reset() { attempt = 0 }

    /// The delay of attempt `attempt` (0-based): c/2 + c/2·`unit` for c = min(cap, base·2^attempt);
    /// `unit` is random in [0, 1] unless a test fixes it.
    public static func delay(attempt: Int, base: Duration, cap: Duration, unit: Double = Double.random(in: 0...1)) -> Duration {
        let ceiling = min(cap, base * (1 << min(max(0, attempt), 30)))
        return ceiling / 2 + (ceiling / 2) * min(1, max(0, unit))
    }
}
