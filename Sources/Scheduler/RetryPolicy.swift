/// How often a failed step is tried again and how long to wait in between.
public struct RetryPolicy: Sendable, Hashable {
    /// Total attempts including the first (1 = no retry).
    public var attempts: Int
    /// Delay before the first retry, in seconds; doubled for each later retry.
    public var backoff: Double
    /// Upper bound on a single delay, in seconds.
    public var maxBackoff: Double

    public static let none = RetryPolicy(attempts: 1, backoff: 0, maxBackoff: 0)

    public init(attempts: Int, backoff: Double, maxBackoff: Double = 300) {
        self.attempts = max(1, attempts)
        self.backoff = max(0, backoff)
        self.maxBackoff = max(0, maxBackoff)
    }

    /// The exponential delay before attempt `attempt` (2 for the first retry),
    /// before jitter.
    public func baseDelay(beforeAttempt attempt: Int) -> Double {
        let exponent = Double(max(0, attempt - 2))
        return min(maxBackoff, backoff * pow2(exponent))
    }

    /// The delay with "equal jitter": half fixed, half random, so retries of
    /// many steps that failed together do not hit a provider in lockstep.
    ///
    /// - Parameter random: A value in `0..<1` (injected so tests are exact).
    public func delay(beforeAttempt attempt: Int, random: Double) -> Double {
        let base = baseDelay(beforeAttempt: attempt)
        return base / 2 + base / 2 * min(max(random, 0), 1)
    }

    private func pow2(_ exponent: Double) -> Double {
        var result = 1.0
        var remaining = Int(exponent)
        while remaining > 0 { result *= 2; remaining -= 1 }
        return result
    }
}
