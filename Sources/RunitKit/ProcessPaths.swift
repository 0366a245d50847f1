/// Where one process's files live under `$RUNIT_HOME/procs/<name>/` (`<project>~<name>` for a
/// project's process).
public struct ProcessPaths: Sendable {
    /// The process's directory.
    public let directory: String

    /// Paths for `name` (`web`, or `shop/web` for a project's) under the runit home directory `home`.
    public init(home: String, name: String) {
        self.directory = home + "/procs/" + ProcessName.storage(of: name)
    }

    /// Paths inside an existing process directory.
    public init(directory: String) {
        self.directory = directory
    }

    /// The desired state, written by clients.
    public var spec: String { directory + "/spec.json" }
    /// The observed state, written by the supervisor.
    public var status: String { directory + "/status.json" }
    /// A page of zeros kept so that the status can still be written on a full disk: deleted to
    /// make room for that one write, and made again by the supervisor once there is room.
    public var reserve: String { directory + "/reserve" }
    /// Held (as a POSIX record lock) by the live supervisor.
    public var lock: String { directory + "/lock" }
    /// A FIFO that carries control commands to the supervisor.
    public var control: String { directory + "/control" }
    /// A FIFO that is the process's stdin; writers reach the process through it.
    public var input: String { directory + "/input" }
    /// The log directory.
    public var logs: String { directory + "/logs" }
    /// The log file being written.
    public var currentLog: String { logs + "/current.log" }

    /// The rotated log file number `index` (1 is the newest).
    public func rotatedLog(_ index: Int) -> String { logs + "/previous.\(index).log" }
}
