/// The order of a project's processes by their dependencies.
public enum ProjectGraph {
    /// The processes in levels: each level's processes depend only on earlier levels', so a level
    /// can start at once. Nil when the dependencies have a cycle (the parser refuses those).
    public static func levels(_ processes: [ProjectProcess]) -> [[String]]? {
        let names = Set(processes.map(\.name))
        var remaining = processes.filter { _ in true }
        var placed: Set<String> = []
        var levels: [[String]] = []
        while !remaining.isEmpty {
            let ready = remaining.filter { process in
                process.dependsOn.allSatisfy { placed.contains($0.name) || !names.contains($0.name) }
            }
            guard !ready.isEmpty else { return nil }
            levels.append(ready.map(\.name))
            placed.formUnion(ready.map(\.name))
            remaining.removeAll { placed.contains($0.name) }
        }
        return levels
    }

    /// One cycle in the dependencies, as the names along it; nil when there is none.
    public static func cycle(in processes: [ProjectProcess]) -> [String]? {
        let edges = Dictionary(processes.map { ($0.name, $0.dependsOn.map(\.name)) }, uniquingKeysWith: { a, _ in a })
        var state: [String: Int] = [:]  // 1: on the path, 2: done
        var path: [String] = []
        func visit(_ name: String) -> [String]? {
            state[name] = 1
            path.append(name)
            for next in edges[name] ?? [] where edges[next] != nil && next != name {
                if state[next] == 1, let start = path.firstIndex(of: next) { return Array(path[start...]) }
                if state[next] == nil, let found = visit(next) { return found }
            }
            path.removeLast()
            state[name] = 2
            return nil
        }
        for process in processes where state[process.name] == nil {
            if let found = visit(process.name) { return found }
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
