import Foundation
import RunitCore
import RunitKit

/// A project: the processes of one `runit.yaml` (or `Procfile`), resolved: env files merged,
/// paths absolute, every value checked.
public struct Project: Sendable, Encodable {
    /// The project's name: the file's `name`, or its directory's.
    public var name: String
    /// The directory holding the file.
    public var directory: String
    /// The file read, absolute.
    public var file: String
    /// The processes, in the file's order.
    public var processes: [ProjectProcess]

    /// The process named `name`, if any.
    public func process(_ name: String) -> ProjectProcess? { processes.first { $0.name == name } }
}

/// One process of a project, ready to start.
public struct ProjectProcess: Sendable, Encodable {
    /// Its name within the project.
    public var name: String
    /// A shell command, or nil when `argv` is given.
    public var command: String?
    /// A program and its arguments, or nil when `command` is given.
    public var argv: [String]?
    /// The working directory, absolute.
    public var cwd: String
    /// The environment on top of the inherited one: the env files' entries, then `env`'s.
    public var env: [EnvironmentEntry] = []
    /// The restart policy.
    public var restart = RestartPolicy.never
    /// Readiness, health, restart tuning, stopping and watching.
    public var policies = ProcessPolicies()
    /// The log size limit and rotated files kept.
    public var logMaxSize = 10 * 1024 * 1024
    public var logKeep = 5
    /// What it waits for before it starts.
    public var dependsOn: [ProcessDependency] = []

    /// The full name of the process in project `project`: `project/name`.
    public func fullName(in project: String) -> String { project + "/" + name }

    /// The request that starts it through the same path as `runit start`.
    public func startRequest(in project: Project) -> StartRequest {
        var request = StartRequest(name: fullName(in: project.name), command: command, argv: argv)
        request.cwd = cwd
        request.env = env.map { "\($0.key)=\($0.value)" }
        request.restart = restart
        request.logMaxSize = logMaxSize
        request.logKeep = logKeep
        request.policies = policies
        request.project = ProjectLink(directory: project.directory, file: project.file, dependsOn: dependsOn)
        return request
    }

    /// Whether a process started from `spec` runs what this one describes (a changed entry is restarted by `up`).
    public func matches(_ spec: ProcessSpec, in project: Project) -> Bool {
        let argv = self.argv ?? ["/bin/sh", "-c", command ?? ""]
        return spec.argv == argv && spec.command == command && spec.cwd == cwd && spec.env == env
            && spec.restart == restart && spec.policies == policies && spec.logMaxSize == logMaxSize
            && spec.logKeep == logKeep && spec.project?.dependsOn == dependsOn
    }

    enum CodingKeys: String, CodingKey {
        case name, command, argv, cwd, env, restart, policies
        case logMaxSize = "log_max_size"
        case logKeep = "log_keep"
        case dependsOn = "depends_on"
    }
}

/// A problem in a project file: where, and what is wrong and what is allowed.
public struct ProjectProblem: Error, Equatable, Sendable, CustomStringConvertible {
    /// The file.
    public var file: String
    /// The line and column, from 1; 0 when the problem has no place (a cycle, a missing file).
    public var line: Int
    public var column: Int
    /// What is wrong, and what is allowed.
    public var message: String

    public var description: String {
        line > 0 ? "\(file):\(line):\(column): \(message)" : "\(file): \(message)"
    }
}

/// Every problem found in a project file: nothing starts while there is one.
public struct ProjectErrors: Error, Sendable, CustomStringConvertible {
    /// The problems, in the file's order.
    public var problems: [ProjectProblem]

    public var description: String { problems.map(\.description).joined(separator: "\n") }

    /// The problems as one error of the CLI's kind (a usage error, exit 2).
    public var runitError: RunitError {
        let count = problems.count == 1 ? "a problem" : "\(problems.count) problems"
        return RunitError(.invalidInput, "the project file has \(count); nothing was done:\n" + description)
    }
}
