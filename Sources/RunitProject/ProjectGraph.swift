/// The order of a project's processes by their dependencies.
public enum ProjectGraph {
    /// The processes in levels: each level's processes depend only on earlier levels', so a level
    /// can start at once, in the file's order. Nil when the dependencies have a cycle (the parser
    /// refuses those). Linear in the processes and their dependencies: a chain of thousands is
    /// a file a generator may write.
    public static func levels(_ processes: [ProjectProcess]) -> [[String]]? {
        let index = Dictionary(processes.indices.map { (processes[$0].name, $0) }, uniquingKeysWith: { a, _ in a })
        var waiting = [Int](repeating: 0, count: processes.count)
        var dependants = [[Int]](repeating: [], count: processes.count)
        for (position, process) in processes.enumerated() {
            let needed = Set(process.dependsOn.compactMap { index[$0.name] })
            waiting[position] = needed.count
            for dependency in needed { dependants[dependency].append(position) }
        }
        var current = processes.indices.filter { waiting[$0] == 0 }
        var placed = 0
        var levels: [[String]] = []
        while !current.isEmpty {
            levels.append(current.map { processes[$0].name })
            placed += current.count
            var next: [Int] = []
            for position in current {
                for dependant in dependants[position] {
                    waiting[dependant] -= 1
                    if waiting[dependant] == 0 { next.append(dependant) }
                }
            }
            current = next.sorted()
        }
        return placed == processes.count ? levels : nil
    }

    /// One cycle in the dependencies, as the names along it; nil when there is none. Walked with
    /// a stack of its own: a recursion as deep as a chain of 15,000 processes overflowed the
    /// thread's stack (signal 11).
    public static func cycle(in processes: [ProjectProcess]) -> [String]? {
        let edges = Dictionary(processes.map { ($0.name, $0.dependsOn.map(\.name)) }, uniquingKeysWith: { a, _ in a })
        var state: [String: Int] = [:]  // 1: on the path, 2: done
        var path: [String] = []
        // The path's names, each with the index of the next of its dependencies to look at.
        var stack: [(name: String, next: Int)] = []
        for process in processes where state[process.name] == nil {
            state[process.name] = 1
            path.append(process.name)
            stack.append((process.name, 0))
            while let top = stack.last {
                let targets = edges[top.name] ?? []
                guard top.next < targets.count else {
                    stack.removeLast()
                    path.removeLast()
                    state[top.name] = 2
                    continue
                }
                stack[stack.count - 1].next += 1
                let next = targets[top.next]
                guard edges[next] != nil && next != top.name else { continue }
                if state[next] == 1, let start = path.firstIndex(of: next) { return Array(path[start...]) }
                if state[next] == nil {
                    state[next] = 1
                    path.append(next)
                    stack.append((next, 0))
                }
            }
        }
        return nil
    }

    /// `names` and every process they depend on, directly or not, in the file's order.
    public static func closure(of names: [String], in processes: [ProjectProcess]) -> [String] {
        let byName = Dictionary(processes.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        var chosen: Set<String> = []
        var queue = names
        while let name = queue.popLast() {
            guard chosen.insert(name).inserted else { continue }
            queue += byName[name]?.dependsOn.map(\.name) ?? []
        }
        return processes.map(\.name).filter { chosen.contains($0) }
    }

    /// `names` and every process that depends on them, directly or not (what must stop first).
    public static func dependants(of names: [String], in processes: [ProjectProcess]) -> [String] {
        var chosen = Set(names)
        var changed = true
        while changed {
            changed = false
            for process in processes where !chosen.contains(process.name) {
                if process.dependsOn.contains(where: { chosen.contains($0.name) }) {
                    chosen.insert(process.name)
                    changed = true
                }
            }
        }
        return processes.map(\.name).filter { chosen.contains($0) }
    }
}
