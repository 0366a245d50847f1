import Foundation
import RunitKit

/// Projects as namespaces: a project's process is `project/name` from anywhere, and `name` inside
/// its project's directory; batches select processes by name, glob or project.
extension Registry {
    /// The names of a project's processes, sorted.
    public func names(inProject project: String) throws(RunitError) -> [String] {
        try names().filter { ProcessName($0)?.project == project }
    }

    /// The processes a batch names: each name (resolved as ``resolve(_:)`` does) or glob pattern
    /// (`*`, `?`, `[…]`, matched against full names), every process of `project`, or all. A
    /// name or pattern that matches nothing is an error; the result has no duplicates.
    public func select(_ patterns: [String], project: String? = nil, all: Bool = false) throws(RunitError) -> [String] {
        let every = try names()
        if all { return every }
        var chosen: [String] = []
        func add(_ name: String) { if !chosen.contains(name) { chosen.append(name) } }
        if let project {
            try Self.checkProject(project, among: every.map { ProcessName($0)?.project })
            let members = every.filter { ProcessName($0)?.project == project }
            members.forEach(add)
        }
        for pattern in patterns {
            if pattern.contains(where: { "*?[".contains($0) }) {
                let matched = every.filter { fnmatch(pattern, $0, 0) == 0 }
                guard !matched.isEmpty else {
                    throw RunitError(.notFound, "no process matches '\(ByteText.visible(pattern))'")
                }
                matched.forEach(add)
            } else {
                let name = resolve(pattern)
                _ = try Self.name(name)
                guard every.contains(name) else { throw notFound(name) }
                add(name)
            }
        }
        return chosen
    }

    /// Runs `body` for each name, at most `width` at a time, and returns the results in the
    /// names' order: a batch of independent processes is as fast as its slowest few.
    public static func concurrently<T: Sendable>(
        _ names: [String], width: Int = 8, _ body: @escaping @Sendable (String) -> T
    ) -> [T] {
        let results = ResultSlots<T>(count: names.count)
        let group = DispatchGroup()
        // Threads of their own: the work blocks (a stop waits for exits), which the shared pool's
        // few threads must not do.
        for _ in 0..<min(width, names.count) {
            group.enter()
            Thread.detachNewThread {
                while let index = results.claim() { results.set(index, body(names[index])) }
                group.leave()
            }
        }
        group.wait()
        return results.values()
    }
}

/// Slots written by concurrent workers, each once.
final class ResultSlots<T>: @unchecked Sendable {
    private var slots: [T?]
    private let lock = NSLock()

    private var next = 0

    init(count: Int) { slots = Array(repeating: nil, count: count) }

    /// The next index no worker has taken, or nil when all are taken.
    func claim() -> Int? {
        lock.lock()
        defer { lock.unlock() }
        guard next < slots.count else { return nil }
        next += 1
        return next - 1
    }

    func set(_ index: Int, _ value: T) {
        lock.lock()
        slots[index] = value
        lock.unlock()
    }

    func values() -> [T] {
        lock.lock()
        defer { lock.unlock() }
        return slots.map { $0! }
    }
}
