import RunitKit

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The processes on disk under `$RUNIT_HOME/procs`, and every operation on them.
///
/// The filesystem is the database: nothing is cached between calls, so any number of
/// clients can work side by side and each sees the processes as they are.
public struct Registry: Sendable {
    /// The context the registry works in.
    public let context: RunitContext

    /// A registry over `context`.
    public init(context: RunitContext) {
        self.context = context
    }

    /// Validates a name given by a user.
    public static func name(_ text: String) throws(RunitError) -> ProcessName {
        guard let name = ProcessName(text) else {
            throw RunitError(.invalidInput, ProcessName.problem(with: text) ?? ProcessName.rule)
        }
        return name
    }

    /// The names of every process on disk, sorted; throws when the state directory is not safe to use.
    public func names() throws(RunitError) -> [String] {
        try checkHome()
        return Platform.directoryEntries(context.processesDirectory).compactMap { ProcessName(storage: $0)?.rawValue }.sorted()
    }

    /// A snapshot of every process, sorted by name; damaged files show as a problem, not a failure.
    public func list() throws(RunitError) -> [ProcessSnapshot] {
        try names().compactMap { name in
            guard let valid = ProcessName(name) else { return nil }
            return snapshot(of: valid)
        }
    }

    /// A snapshot of one process, whether or not it exists.
    package func snapshot(of name: ProcessName) -> ProcessSnapshot {
        let paths = context.paths(name)
        var snapshot = ProcessSnapshot(name: name.rawValue)
        if let problem = Platform.untrustedDirectory(paths.directory) {
            snapshot.problem = problem
            return snapshot
        }
        if let holder = Platform.lockHolder(paths.lock), holder > 0 { snapshot.supervisorPID = holder }
        // Each file on its own: a damaged spec must not hide the status of a running process.
        var problems: [String] = []
        do { snapshot.spec = try StateFiles.readSpec(paths) } catch { problems.append(error.message) }
        do { snapshot.status = try StateFiles.readStatus(paths) } catch { problems.append(error.message) }
        if !problems.isEmpty { snapshot.problem = problems.joined(separator: "; ") }
        return snapshot
    }

    /// The full name that `text` stands for. A name with a `/`, or one a loose process has, is
    /// itself. Otherwise, inside a project's directory (the one recorded when its processes were
    /// brought up), `name` is that project's `project/name`; with nested projects, the innermost.
    public func resolve(_ text: String) -> String {
        guard ProcessName.isValidPart(text) else { return text }
        var info = stat()
        if stat(ProcessPaths(home: context.home, name: text).directory, &info) == 0 { return text }
        let cwd = context.workingDirectory
        var best: (name: String, depth: Int)?
        for name in (try? names()) ?? [] where name.hasSuffix("/" + text) {
            guard let valid = ProcessName(name), let directory = snapshot(of: valid).spec?.project?.directory else {
                continue
            }
            guard cwd == directory || cwd.hasPrefix(directory == "/" ? "/" : directory + "/") else { continue }
            if best == nil || directory.count > best!.depth { best = (name, directory.count) }
        }
        return best?.name ?? text
    }

    /// The snapshot of an existing process; a not-found error (with the closest name) otherwise.
    public func existing(_ given: String) throws(RunitError) -> ProcessSnapshot {
        let text = resolve(given)
        let name = try Self.name(text)
        try checkHome()
        var info = stat()
        guard lstat(context.paths(name).directory, &info) == 0 else {
            throw notFound(text)
        }
        try checkDirectory(context.paths(name).directory)
        return snapshot(of: name)
    }

    /// Refuses a state directory that another user could change (``Platform/untrustedDirectory(_:followLink:)``):
    /// `RUNIT_HOME` itself (a link to a directory is fine there) and the folders runit keeps in it.
    public func checkHome() throws(RunitError) {
        if let problem = Platform.untrustedDirectory(context.home, followLink: true) {
            throw RunitError(.storage, "refusing to use the state directory: " + problem)
        }
        for folder in [context.processesDirectory, context.home + "/locks"] { try checkDirectory(folder) }
    }

    /// Refuses a folder under `RUNIT_HOME` that is a link, not ours, or writable by others.
    package func checkDirectory(_ path: String) throws(RunitError) {
        if let problem = Platform.untrustedDirectory(path) {
            throw RunitError(.storage, "refusing to use the state directory: " + problem)
        }
    }

    /// The error for an unknown name, suggesting the closest existing one.
    package func notFound(_ text: String) -> RunitError {
        var message = "no process named '\(text)'"
        if let close = Suggestion.closest(to: text, among: (try? names()) ?? []) {
            message += "; did you mean '\(close)'?"
        } else {
            message += "; run 'runit list' to see the processes"
        }
        return RunitError(.notFound, message)
    }
}

/// The closest of a set of names, for "did you mean" hints.
public enum Suggestion {
    /// The candidate with the smallest edit distance, if it is close enough to be a likely typo.
    public static func closest(to text: String, among candidates: [String]) -> String? {
        let scored = candidates.map { ($0, distance(text.lowercased(), $0.lowercased())) }
        guard let best = scored.min(by: { $0.1 < $1.1 }) else { return nil }
        let limit = max(2, text.count / 3)
        return best.1 <= limit || best.0.lowercased().hasPrefix(text.lowercased()) ? best.0 : nil
    }

    /// Edit distance, counting a swap of two neighbours as one edit.
    package static func distance(_ a: String, _ b: String) -> Int {
        let a = Array(a)
        let b = Array(b)
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var before = Array(repeating: 0, count: b.count + 1)
        var previous = Array(0...b.count)
        for i in 1...a.count {
            var current = [i] + Array(repeating: 0, count: b.count)
            for j in 1...b.count {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
                    current[j] = min(current[j], before[j - 2] + 1)
                }
            }
            before = previous
            previous = current
        }
        return previous[b.count]
    }
}

extension Registry {
    /// Refuses `project` when it is not a name a project can have, or when no process has it
    /// (`projects` holds each listed process's project, nil for a loose one; the known ones are
    /// named). `list`, `logs`, `stop` and MCP say the same.
    public static func checkProject(_ project: String, among projects: [String?]) throws(RunitError) {
        guard ProcessName.isValidPart(project) else {
            throw RunitError(.invalidInput, "'\(project)' is not a project name; \(ProcessName.rule)")
        }
        guard !projects.contains(project) else { return }
        let known = Set(projects.compactMap { $0 }).sorted()
        throw RunitError(
            .notFound, "no project '\(project)'" + (known.isEmpty ? "" : " (projects: \(known.joined(separator: ", ")))"))
    }
}
