import Foundation
import RunitCore
import RunitKit

/// What the registry recorded of a project: which folder each of its processes came from, so
/// that two projects of one name are told apart, and a project whose file is broken or gone
/// can still be taken down.
extension ProjectRunner {
    /// The listed processes of the project named `name`: each one's full name, the folder its
    /// `up` ran in (nil when its spec cannot be read, or it has no link), and whether it runs.
    static func members(_ registry: Registry, project name: String) -> [(full: String, directory: String?, runs: Bool)] {
        ((try? registry.names(inProject: name)) ?? []).map { full in
            let snapshot = try? registry.existing(full)
            return (full, snapshot?.spec?.project?.directory, snapshot?.isSupervised ?? false)
        }
    }

    /// The processes of a project named `name` that run and came from another folder than
    /// `directory`, with that folder.
    public static func runningElsewhere(_ registry: Registry, name: String, directory: String) -> [(
        name: String, directory: String
    )] {
        members(registry, project: name).compactMap { member in
            guard member.runs, let folder = member.directory, folder != directory else { return nil }
            return (member.full, folder)
        }
    }

    /// The refusal of an `up` of `project` while a project of its name from another folder
    /// runs: it would take that one's processes over. Nil when there is none.
    public static func conflict(_ registry: Registry, _ project: Project) -> RunitError? {
        let others = runningElsewhere(registry, name: project.name, directory: project.directory)
        guard let folder = others.first?.directory else { return nil }
        return RunitError(
            .alreadyRunning,
            "project '\(project.name)' already runs from \(folder) (\(others.map(\.name).joined(separator: ", "))); "
                + "this one, in \(project.directory), has the same name: give it another with 'name:' in its file, "
                + "or take the other down first (cd \(ProcessSpec.shellQuoted(folder)) && runit down, or runit stop --project "
                + "\(ProcessSpec.shellQuoted(project.name)))")
    }

    /// The project `up` recorded in the nearest of `directory` and (with `upwards`) the folders above it: its
    /// processes as their specs hold them (each one's name, command and dependencies), for a
    /// `down` when the file is broken or gone. Nil when no process came from any of them.
    public static func recorded(_ registry: Registry, from directory: String, upwards: Bool = true) -> Project? {
        var specs: [(name: ProcessName, spec: ProcessSpec, link: ProjectLink)] = []
        for full in (try? registry.names()) ?? [] {
            guard let name = ProcessName(full), name.project != nil, let spec = try? registry.existing(full).spec,
                let link = spec.project
            else { continue }
            specs.append((name, spec, link))
        }
        var current = (directory as NSString).standardizingPath
        while true {
            let here = specs.filter { $0.link.directory == current }
            if let first = here.first, let project = first.name.project {
                let processes = here.filter { $0.name.project == project }.map { entry in
                    var process = ProjectProcess(
                        name: entry.name.base, command: entry.spec.command,
                        argv: entry.spec.command == nil ? entry.spec.argv : nil, cwd: entry.spec.cwd)
                    process.dependsOn = entry.link.dependsOn
                    return process
                }
                return Project(name: project, directory: current, file: first.link.file, processes: processes)
            }
            guard upwards, current != "/" else { return nil }
            current = (current as NSString).deletingLastPathComponent
        }
    }
}

extension ProjectRunner {
    /// `resurrect` with a project's order: each lost process is started again once the
    /// dependencies its spec records are up and their conditions hold (a `db: ready` first),
    /// as `up` would; one whose dependency failed is skipped. Loose processes and independent
    /// ones start together, several at a time.
    public static func resurrect(_ registry: Registry, timeoutMillis: Int64 = 120_000) throws(RunitError) -> [(
        name: String, result: String, error: String?
    )] {
        let names = try registry.lostButWanted()
        var dependencies: [String: [(full: String, dependency: ProcessDependency)]] = [:]
        for name in names {
            guard let project = ProcessName(name)?.project, let link = try? registry.existing(name).spec?.project else {
                continue
            }
            dependencies[name] = link.dependsOn.map { (project + "/" + $0.name, $0) }
        }
        // Levels: each after the lost processes it depends on (a cycle, which `up` refuses, goes last).
        var left = names
        var levels: [[String]] = []
        while !left.isEmpty {
            var level = left.filter { name in (dependencies[name] ?? []).allSatisfy { !left.contains($0.full) } }
            if level.isEmpty { level = left }
            levels.append(level)
            left.removeAll { level.contains($0) }
        }
        let deadline = Platform.monotonicMillis() + timeoutMillis
        let needs = dependencies
        var results: [(name: String, result: String, error: String?)] = []
        for level in levels {
            let failed = Set(results.filter { $0.error != nil }.map(\.name))
            results += Registry.concurrently(level) { name -> (name: String, result: String, error: String?) in
                for (full, dependency) in needs[name] ?? [] {
                    if failed.contains(full) {
                        return (name, "skipped", "not started: its dependency '\(dependency.name)' failed")
                    }
                    if let problem = condition(registry, full, dependency, deadline: deadline) {
                        return (name, "skipped", "not started: '\(dependency.name)' \(problem.text)")
                    }
                }
                return registry.resurrect(name)
            }
        }
        return results
    }
}
