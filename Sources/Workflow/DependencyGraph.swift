/// The steps' dependency graph, computed once by the loader in O(V + E).
///
/// `waves` groups steps that can run together: wave 0 holds steps with no
/// dependency, wave k the steps whose longest chain of dependencies has k
/// steps. Within a wave, steps keep their file order.
public struct DependencyGraph: Sendable, Hashable {
    /// Step ids in a topological order (every step after all of its dependencies).
    public let order: [String]
    /// Topological levels (see the type's documentation).
    public let waves: [[String]]
    /// The wave of each step.
    public let level: [String: Int]
    /// For each step, the steps that depend on it directly, in file order.
    public let dependents: [String: [String]]
    /// Dependency cycles, each as the steps on it in "needs" order, starting
    /// with the first of them in file order. Empty for a loaded workflow.
    public let cycles: [[String]]

    /// Builds the graph from steps whose `dependencies` are resolved.
    /// Dependencies that name no step are ignored.
    public init(steps: [Step]) {
        var index: [String: Int] = [:]
        for (i, step) in steps.enumerated() where index[step.id] == nil { index[step.id] = i }
        let n = steps.count
        var edges: [[Int]] = Array(repeating: [], count: n)      // i -> its dependencies
        var reverse: [[Int]] = Array(repeating: [], count: n)    // i -> its dependents
        var pending = Array(repeating: 0, count: n)
        for (i, step) in steps.enumerated() where index[step.id] == i {
            var seen = Set<Int>()
            for dependency in step.dependencies {
                guard let j = index[dependency], seen.insert(j).inserted else { continue }
                edges[i].append(j)
                reverse[j].append(i)
                pending[i] += 1
            }
        }
        // Kahn's algorithm, computing each step's longest-chain level on the way.
        var queue: [Int] = (0..<n).filter { pending[$0] == 0 && index[steps[$0].id] == $0 }
        var levels = Array(repeating: 0, count: n)
        var head = 0
        while head < queue.count {
            let i = queue[head]
            head += 1
            for k in reverse[i] {
                levels[k] = max(levels[k], levels[i] + 1)
                pending[k] -= 1
                if pending[k] == 0 { queue.append(k) }
            }
        }
        order = queue.map { steps[$0].id }
        var level: [String: Int] = [:]
        var waves: [[String]] = []
        let sorted = Set(queue)
        for i in 0..<n where sorted.contains(i) {
            let l = levels[i]
            level[steps[i].id] = l
            while waves.count <= l { waves.append([]) }
            waves[l].append(steps[i].id)
        }
        self.level = level
        self.waves = waves
        var dependents: [String: [String]] = [:]
        for i in 0..<n where index[steps[i].id] == i {
            dependents[steps[i].id] = reverse[i].sorted().map { steps[$0].id }
        }
        self.dependents = dependents
        cycles = sorted.count == n ? [] : Self.findCycles(steps: steps, edges: edges, skip: sorted)
    }

    /// Depth-first search without recursion (a 100,000-step chain must not
    /// overflow the stack), visiting steps and dependencies in file order.
    private static func findCycles(steps: [Step], edges: [[Int]], skip: Set<Int>) -> [[String]] {
        var state = Array(repeating: 0, count: steps.count)   // 1 on the stack, 2 done
        for i in skip { state[i] = 2 }
        var result: [[String]] = []
        var reported: Set<Set<Int>> = []
        var path: [Int] = []
        var position: [Int: Int] = [:]                        // step -> index in path
        for start in steps.indices where state[start] == 0 {
            var stack: [(node: Int, next: Int)] = [(start, 0)]
            state[start] = 1
            path.append(start)
            position[start] = 0
            while !stack.isEmpty {
                let (node, next) = stack[stack.count - 1]
                if next < edges[node].count {
                    stack[stack.count - 1].next += 1
                    let target = edges[node][next]
                    switch state[target] {
                    case 1:
                        let cycle = Array(path[position[target]!...])
                        if reported.insert(Set(cycle)).inserted { result.append(cycle.map { steps[$0].id }) }
                    case 2:
                        continue
                    default:
                        state[target] = 1
                        position[target] = path.count
                        path.append(target)
                        stack.append((target, 0))
                    }
                } else {
                    stack.removeLast()
                    state[node] = 2
                    position[node] = nil
                    path.removeLast()
                }
            }
        }
        return result
    }
}
