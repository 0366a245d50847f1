import RunitKit

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// What the user last asked of a process: kept so that a reboot brings back the processes that
/// were running, and not the ones stopped on purpose.
public enum DesiredState: String, Codable, Sendable {
    /// Last started (or restarted).
    case running
    /// Last stopped.
    case stopped
}

/// When a project's process may start after another: Docker Compose's conditions.
public enum DependencyCondition: String, Codable, Sendable, CaseIterable {
    /// The dependency's process was started.
    case started
    /// It is ready (its readiness check passed; without one, it runs).
    case ready
    /// It is healthy (its health check passed).
    case healthy
    /// It exited with code 0: a one-shot, such as a migration.
    case completedSuccessfully = "completed_successfully"
}

/// One dependency of a project's process.
public struct ProcessDependency: Codable, Equatable, Sendable {
    /// The other process's name within the project.
    public var name: String
    /// What must hold before this one starts.
    public var condition: DependencyCondition

    /// A dependency on `name` with `condition`.
    public init(name: String, condition: DependencyCondition = .started) {
        self.name = name
        self.condition = condition
    }
}

/// Where a project's process comes from: its project's directory and file, and what it needs.
public struct ProjectLink: Codable, Equatable, Sendable {
    /// The directory holding the project file (a bare name is resolved inside it).
    public var directory: String
    /// The project file, absolute.
    public var file: String
    /// The processes of its project it depends on.
    public var dependsOn: [ProcessDependency] = []

    /// A link to the project in `directory`, read from `file`.
    public init(directory: String, file: String, dependsOn: [ProcessDependency] = []) {
        self.directory = directory
        self.file = file
        self.dependsOn = dependsOn
    }

    enum CodingKeys: String, CodingKey {
        case directory, file
        case dependsOn = "depends_on"
    }

    /// Reads the link from a spec's JSON; nil when it is not one.
    package init?(json value: JSONValue) {
        guard let directory = value["directory"]?.string, let file = value["file"]?.string else { return nil }
        var dependencies: [ProcessDependency] = []
        for entry in value["depends_on"]?.array ?? [] {
            guard let name = entry["name"]?.string,
                let condition = entry["condition"]?.string.flatMap(DependencyCondition.init(rawValue:))
            else { return nil }
            dependencies.append(ProcessDependency(name: name, condition: condition))
        }
        self.init(directory: directory, file: file, dependsOn: dependencies)
    }
}
