/// A binary min-heap of step indices: the scheduler's "look at these next,
/// in declaration order" queue. Duplicates are allowed (the caller skips them).
struct IndexHeap: Sendable {
    private var items: [Int] = []

    init() {}

    /// A heap holding `sorted` (ascending order is already a valid heap).
    init(sorted: [Int]) { items = sorted }

    var isEmpty: Bool { items.isEmpty }
    var min: Int? { items.first }

    mutating func push(_ value: Int) {
        items.append(value)
        var child = items.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard items[child] < items[parent] else { break }
            items.swapAt(child, parent)
            child = parent
        }
    }

    mutating func popMin() -> Int? {
        guard let first = items.first else { return nil }
        let last = items.removeLast()
        guard !items.isEmpty else { return first }
        items[0] = last
        var parent = 0
        while true {
            let left = 2 * parent + 1, right = left + 1
            var smallest = parent
            if left < items.count, items[left] < items[smallest] { smallest = left }
            if right < items.count, items[right] < items[smallest] { smallest = right }
            guard smallest != parent else { break }
            items.swapAt(parent, smallest)
            parent = smallest
        }
        return first
    }
}
