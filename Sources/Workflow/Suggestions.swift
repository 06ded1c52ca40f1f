/// "Did you mean" hints for misspelt keys, step ids and names.
public enum Suggestions {
    /// Longest word (in UTF-8 bytes) considered for a hint.
    static let maxLength = 64
    /// Most candidates compared for one hint.
    static let maxCandidates = 1000

    /// The candidate closest to `word`, if it is close enough to be a likely typo.
    ///
    /// Bounded in time and memory whatever the input: words longer than
    /// ``maxLength`` get no hint, and at most ``maxCandidates`` are compared.
    public static func closest(to word: String, in candidates: some Sequence<String>) -> String? {
        guard !word.isEmpty, word.utf8.count <= maxLength else { return nil }
        var best: (String, Int)? = nil
        let lowered = word.lowercased()
        let length = lowered.count
        let limit = max(1, min(3, length / 3 + 1))
        for candidate in candidates.prefix(maxCandidates) {
            guard candidate.utf8.count <= maxLength else { continue }
            let other = candidate.lowercased()
            guard abs(other.count - length) <= limit else { continue }
            let distance = editDistance(lowered, other)
            if distance <= limit, best == nil || distance < best!.1 {
                best = (candidate, distance)
            }
        }
        return best?.0
    }

    /// ` (did you mean "x"?)` or "", spending at most what is left of
    /// `budget` (candidate comparisons).
    static func hint(for word: String, in candidates: some Sequence<String>, budget: HintBudget) -> String {
        guard budget.remaining > 0 else { return "" }
        var counted = 0
        let limited = candidates.prefix(min(maxCandidates, budget.remaining)).map { counted += 1; return $0 }
        budget.remaining -= counted
        return hint(for: word, in: limited)
    }

    /// ` (did you mean "x"?)` or "".
    static func hint(for word: String, in candidates: some Sequence<String>) -> String {
        guard let match = closest(to: word, in: candidates) else { return "" }
        return " (did you mean \"\(match)\"?)"
    }

    /// Optimal string alignment distance: insertions, deletions,
    /// substitutions and transpositions of neighbours each cost one.
    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var beforePrevious = Array(repeating: 0, count: b.count + 1)
        var previous = Array(0...b.count)
        var current = Array(repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
                    current[j] = min(current[j], beforePrevious[j - 2] + 1)
                }
            }
            (beforePrevious, previous, current) = (previous, current, beforePrevious)
        }
        return previous[b.count]
    }
}

/// Comparisons left for "did you mean" hints while validating one file, so
/// thousands of unknown names cost a bounded time (later ones get no hint).
final class HintBudget {
    var remaining: Int
    init(_ comparisons: Int = 20_000) { remaining = comparisons }

    func hint(for word: String, in candidates: some Sequence<String>) -> String {
        Suggestions.hint(for: word, in: candidates, budget: self)
    }
}
