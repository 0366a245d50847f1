import Foundation
import RunitCore
import RunitKit

/// What `up` or `down` did to one process.
public struct ProjectResult: Sendable, Encodable, Equatable {
    /// The full name, `project/name`.
    public var name: String
    /// What happened: `started`, `completed`, `restarted`, `running`, `ready`, `stopped`,
    /// `not running`, `failed` or `skipped`.
    public var result: String
    /// Why it failed or was skipped.
    public var error: String?
    /// The last lines of its output, for a failure.
    public var lastLines: [String] = []
    /// Its pid once started.
    public var pid: Int32?

    /// Whether this counts as a success for the command's exit code.
    public var succeeded: Bool { error == nil }

    enum CodingKeys: String, CodingKey {
        case name, result, error, pid
        case lastLines = "last_lines"
    }
}

/// Brings a project's processes up in dependency order, each once its dependencies' conditions
/// hold and independent ones at the same time, and takes them down in reverse.
public struct ProjectRunner: Sendable {
    /// Where the processes live.
    public let registry: Registry
    /// The project, as read from its file.
    public let project: Project

    /// Who brings it up: `cli`, or `mcp:<client name>`.
    public var startedBy = "cli"
    /// Says why a start is refused (the MCP server's guard rails), or nil to let it go.
    public var admit: @Sendable (StartRequest) -> String? = { _ in nil }
    /// How long each start watches for an early exit (as `start --settle`); 0 returns as soon as
    /// each process runs.
    public var settleMillis: Int64 = StartRequest(name: "").settleMillis

    /// A runner for `project` in `registry`.
    public init(registry: Registry, project: Project) {
        self.registry = registry
        self.project = project
    }

    /// The processes `names` (every one when empty) and what they depend on; an unknown name throws.
    public func selection(_ names: [String]) throws(RunitError) -> [ProjectProcess] {
        for name in names where project.process(name) == nil {
            throw RunitError(
                .notFound,
                "'\(ByteText.visible(name))' is not a process of project '\(project.name)' (its processes: "
                    + project.processes.map(\.name).joined(separator: ", ") + ")")
        }
        let chosen = names.isEmpty ? project.processes.map(\.name) : ProjectGraph.closure(of: names, in: project.processes)
        return project.processes.filter { chosen.contains($0.name) }
    }

    /// Starts the processes `names` and their dependencies: one that runs with the same spec is
    /// left alone, one whose spec changed is restarted. With `wait`, each started process with a
    /// readiness check is also waited for. `report` is called as each result is known.
    public func up(
        _ names: [String], wait: Bool, timeoutMillis: Int64, report: @escaping @Sendable (ProjectResult) -> Void = { _ in }
    ) throws(RunitError) -> [ProjectResult] {
        let chosen = try selection(names)
        if let conflict = Self.conflict(registry, project) { throw conflict }
        let board = ResultBoard()
        let group = DispatchGroup()
        for process in chosen {
            group.enter()
            Thread.detachNewThread {
                let result = bringUp(process, board: board, wait: wait, timeoutMillis: timeoutMillis)
                board.post(process.name, result)
                report(result)
                group.leave()
            }
        }
        group.wait()
        let left = names.isEmpty ? leftRunning() : []
        left.forEach(report)
        return chosen.map { board.result(of: $0.name) } + left
    }

    /// This folder's processes of the project that run and are no longer in its file: `up`
    /// leaves them running, and says so (`down` stops them).
    func leftRunning() -> [ProjectResult] {
        Self.members(registry, project: project.name).compactMap { member in
            guard member.runs, member.directory == project.directory, let base = ProcessName(member.full)?.base,
                project.process(base) == nil
            else { return nil }
            return ProjectResult(name: member.full, result: "left running: no longer in the file; runit down stops it")
        }
    }

    /// One process's part of `up`: its dependencies' conditions, then its start.
    private func bringUp(_ process: ProjectProcess, board: ResultBoard, wait: Bool, timeoutMillis: Int64) -> ProjectResult {
        let full = process.fullName(in: project.name)
        let deadline = Platform.monotonicMillis() + timeoutMillis
        for dependency in process.dependsOn {
            let before = board.await(dependency.name)
            guard before.succeeded else {
                return ProjectResult(
                    name: full, result: "skipped", error: "not started: its dependency '\(dependency.name)' failed")
            }
            if let problem = Self.condition(registry, project.name + "/" + dependency.name, dependency, deadline: deadline) {
                return ProjectResult(
                    name: full, result: "skipped",
                    error: "not started: '\(dependency.name)' \(problem.text)", lastLines: problem.lines)
            }
        }
        return start(process, wait: wait, deadline: deadline)
    }

    /// Nil when `dependency`'s condition holds of the process `name` (its full name) by
    /// `deadline`; otherwise what went wrong and its last lines.
    static func condition(_ registry: Registry, _ name: String, _ dependency: ProcessDependency, deadline: Int64) -> (
        text: String, lines: [String]
    )? {
        let wanted: WaitCondition
        switch dependency.condition {
        case .started: return nil
        case .ready: wanted = WaitCondition(ready: true)
        case .healthy: wanted = WaitCondition(healthy: true)
        case .completedSuccessfully: wanted = WaitCondition(exit: true)
        }
        let left = max(0, deadline - Platform.monotonicMillis())
        let outcome: WaitOutcome
        do {
            outcome = try registry.wait(for: name, until: wanted, timeoutMillis: left)
        } catch {
            return (error.message, [])
        }
        let lines = { registry.runLines(name).map { LogText.clean($0.textString) } }
        switch outcome {
        case .ready, .healthy, .logMatched, .portOpen: return nil
        case .runEnded(let code, let signal, let micros):
            if dependency.condition == .completedSuccessfully && code == 0 { return nil }
            let how = signal.map { "was killed by signal \($0)" } ?? "exited with code \(code.map(String.init) ?? "?")"
            return (how, registry.runLines(name, endingAt: micros).map { LogText.clean($0.textString) })
        case .exited(.lost, _, _):
            // Its supervisor died: what it left would run on unwatched.
            return (registry.endLostStart(name), lines())
        case .exited(let state, let code, let signal):
            if dependency.condition == .completedSuccessfully && code == 0 && signal == nil { return nil }
            let how =
                signal.map { "was killed by signal \($0)" } ?? code.map { "exited with code \($0)" } ?? "is \(state.rawValue)"
            return (how, lines())
        case .unhealthy(let detail): return ("is unhealthy: \(detail)", lines())
        case .timedOut, .cancelled:
            return ("was not \(dependency.condition.rawValue.replacingOccurrences(of: "_", with: " ")) in time", lines())
        }
    }

    /// Starts `process`, or leaves it running when its spec is unchanged.
    private func start(_ process: ProjectProcess, wait: Bool, deadline: Int64) -> ProjectResult {
        let full = process.fullName(in: project.name)
        var request = process.startRequest(in: project)
        request.startedBy = startedBy
        request.settleMillis = settleMillis
        if let refusal = admit(request) { return ProjectResult(name: full, result: "failed", error: refusal) }
        var verb = "started"
        if let snapshot = try? registry.existing(full), snapshot.supervisorPID != nil, snapshot.isSupervised {
            // One being stopped (a `stop` or a `down` under way) is not running: it is started
            // again once the stop is over, as the replacement of a start waits for it.
            let stopping = snapshot.status?.state == .stopping || snapshot.spec?.desired == .stopped
            if !stopping, let spec = snapshot.spec, process.matches(spec, in: project) {
                // A pid of 0 is one not known yet (another `up` is starting it): none is said.
                return ProjectResult(name: full, result: "running", pid: (snapshot.status?.pid).flatMap { $0 > 0 ? $0 : nil })
            }
            request.replace = true
            verb = stopping ? "started" : "restarted"
        }
        let outcome: StartOutcome
        do {
            outcome = try registry.start(request)
        } catch {
            // Another `up` of this project started it in the meantime: running, if with this spec.
            if error.code == .alreadyRunning, let spec = try? registry.existing(full).spec, process.matches(spec, in: project) {
                return ProjectResult(name: full, result: "running")
            }
            return ProjectResult(name: full, result: "failed", error: error.message)
        }
        let lines = { registry.runLines(full).map { LogText.clean($0.textString) } }
        if outcome.finishedCleanly { return ProjectResult(name: full, result: "completed") }
        if let failure = outcome.failure {
            return ProjectResult(name: full, result: "failed", error: failure, lastLines: lines())
        }
        let pid = (outcome.snapshot.status?.pid).flatMap { $0 > 0 ? $0 : nil }
        guard wait, process.policies.ready.isSet else { return ProjectResult(name: full, result: verb, pid: pid) }
        let left = max(0, deadline - Platform.monotonicMillis())
        switch (try? registry.wait(for: full, until: WaitCondition(ready: true), timeoutMillis: left)) ?? .timedOut {
        case .ready: return ProjectResult(name: full, result: "ready", pid: pid)
        case .timedOut, .cancelled:
            return ProjectResult(name: full, result: "failed", error: "was not ready in time", lastLines: lines())
        case .exited(.lost, _, _):
            return ProjectResult(name: full, result: "failed", error: registry.endLostStart(full), lastLines: lines())
        default:
            return ProjectResult(name: full, result: "failed", error: "ended before it was ready", lastLines: lines())
        }
    }

    /// Stops the processes `names` and what depends on them (every process of the project, also
    /// those no longer in its file, when empty), dependants first.
    public func down(_ names: [String], graceMillis: Int64?) throws(RunitError) -> [ProjectResult] {
        _ = try selection(names)
        let inFile = names.isEmpty ? project.processes.map(\.name) : ProjectGraph.dependants(of: names, in: project.processes)
        // Only this folder's: a project of the same name from another folder is not this one.
        let members = Self.members(registry, project: project.name).filter { member in
            member.directory.map { $0 == project.directory } ?? true
        }.compactMap { ProcessName($0.full)?.base }
        let orphans = names.isEmpty ? members.filter { project.process($0) == nil } : []
        var order = (ProjectGraph.levels(project.processes.filter { inFile.contains($0.name) }) ?? [inFile]).reversed()
            .map { $0 }
        if !orphans.isEmpty { order.insert(orphans, at: 0) }
        var results: [ProjectResult] = []
        for level in order {
            let present = level.filter { members.contains($0) }
            results += Registry.concurrently(present.map { project.name + "/" + $0 }) { full in
                do throws(RunitError) {
                    let outcome = try registry.stop(full, graceMillis: graceMillis)
                    return ProjectResult(name: full, result: outcome.wasRunning ? "stopped" : "not running")
                } catch {
                    return ProjectResult(name: full, result: "failed", error: error.message)
                }
            }
        }
        return results
    }
}

/// The results posted by `up`'s threads, each awaited by its dependants.
final class ResultBoard: @unchecked Sendable {
    private let condition = NSCondition()
    private var results: [String: ProjectResult] = [:]

    func post(_ name: String, _ result: ProjectResult) {
        condition.lock()
        results[name] = result
        condition.broadcast()
        condition.unlock()
    }

    /// Blocks until `name` has a result.
    func await(_ name: String) -> ProjectResult {
        condition.lock()
        defer { condition.unlock() }
        while results[name] == nil { condition.wait() }
        return results[name]!
    }

    func result(of name: String) -> ProjectResult {
        condition.lock()
        defer { condition.unlock() }
        return results[name]!
    }
}
