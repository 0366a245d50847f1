import RunitKit

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A process as both surfaces report it: `runit status --json`, `runit list --json` and the MCP tools.
public struct ProcessReport: Codable, Equatable, Sendable {
    public var name: String
    public var state: DisplayState
    public var pid: Int32?
    public var supervisorPID: Int32?
    public var command: String?
    public var argv: [String]?
    public var cwd: String?
    /// Environment entries given at start, secrets masked.
    public var env: [String: String]?
    public var restartPolicy: String?
    /// RFC 3339 time of the current (or last) start.
    public var startedAt: String?
    public var uptimeSeconds: Int?
    public var restarts: Int
    public var exitCode: Int32?
    public var exitSignal: Int32?
    public var message: String?
    public var logPath: String
    public var memoryBytes: Int64?
    public var cpuSeconds: Double?
    public var processCount: Int?
    /// The TCP ports the process's tree listens on, sorted; empty when it listens on none or
    /// does not run.
    public var ports: [Int] = []
    /// A problem with the process's files, if any.
    public var problem: String?
    /// The health check's last verdict, when there is a check.
    public var health: HealthReport?
    /// When the restart policy starts it again (in `backoff`): an RFC 3339 time.
    public var nextRestartAt: String?
    /// Seconds until then, from the stored deadline (a countdown, never a frozen text).
    public var nextRestartInSeconds: Double?
    /// The project it belongs to (`project/name`); nil for a loose process.
    public var project: String?
    /// What the user last asked: `running` (started) or `stopped`.
    public var desired: String?
    /// Who started it: `cli`, or `mcp:<client name>`.
    public var startedBy: String?
    /// True while the running process's input is ended (`close_input`); absent otherwise.
    public var inputClosed: Bool?

    enum CodingKeys: String, CodingKey {
        case name, state, pid, command, argv, cwd, env, restarts, message, problem, ports, project, desired
        case startedBy = "started_by"
        case inputClosed = "input_closed"
        case supervisorPID = "supervisor_pid"
        case restartPolicy = "restart_policy"
        case startedAt = "started_at"
        case uptimeSeconds = "uptime_seconds"
        case exitCode = "exit_code"
        case exitSignal = "exit_signal"
        case logPath = "log_path"
        case memoryBytes = "memory_bytes"
        case cpuSeconds = "cpu_seconds"
        case processCount = "process_count"
        case health
        case nextRestartAt = "next_restart_at"
        case nextRestartInSeconds = "next_restart_in_seconds"
    }

    /// The report for a snapshot; `withMetrics` reads memory and CPU from `/proc`, `withPorts`
    /// the ports a running process listens on (a caller reporting many processes leaves them
    /// out and finds them for all at once, with ``PortOwners``).
    public init(
        _ snapshot: ProcessSnapshot, paths: ProcessPaths, withMetrics: Bool, withPorts: Bool = true,
        nowMicros: Int64 = Platform.nowMicros()
    ) {
        name = snapshot.name
        project = ProcessName(snapshot.name)?.project
        desired = snapshot.spec?.desired.rawValue
        startedBy = snapshot.spec?.startedBy
        state = snapshot.state
        pid = snapshot.pid
        supervisorPID = snapshot.supervisorPID
        command = snapshot.spec?.displayCommand
        argv = snapshot.spec?.argv
        cwd = snapshot.spec?.cwd
        if let entries = snapshot.spec?.env {
            env = Dictionary(entries.map { ($0.key, $0.displayValue) }, uniquingKeysWith: { _, last in last })
        }
        restartPolicy = snapshot.spec?.restart.rawValue
        if let started = snapshot.status?.startedAtMilliseconds, started > 0 {
            startedAt = Timestamp.string(micros: started * 1000)
        }
        uptimeSeconds = snapshot.uptime(nowMicros: nowMicros).map { Int($0) }
        restarts = snapshot.status?.restarts ?? 0
        exitCode = snapshot.status?.exitCode
        exitSignal = snapshot.status?.exitSignal
        message = snapshot.status?.message.isEmpty == false ? snapshot.status?.message : nil
        logPath = paths.currentLog
        problem = snapshot.problem
        if let status = snapshot.status, !status.health.isEmpty {
            health = HealthReport(status, nowMicros: nowMicros)
        }
        // Only while a supervisor lives to do it: a `lost` process that died in backoff starts no more.
        if let status = snapshot.status, snapshot.state == .backoff, status.nextRestartAtMilliseconds > 0 {
            nextRestartAt = Timestamp.string(micros: status.nextRestartAtMilliseconds * 1000)
            let left = Double(status.nextRestartAtMilliseconds) / 1000 - Double(nowMicros) / 1_000_000
            nextRestartInSeconds = (max(0, left) * 10).rounded() / 10
        }
        guard let supervisor = snapshot.supervisorPID, snapshot.pid != nil else { return }
        if snapshot.status?.inputClosed == true { inputClosed = true }
        // The tree under the supervisor, read once for the ports and the metrics; the
        // supervisor itself listens on no TCP port, and the kernel is asked for the listening
        // sockets only when the tree holds a socket.
        var tree: [Int32]?
        if withPorts {
            tree = ProcessTable.descendantPIDs(of: supervisor, singleThreadedRoot: true)
            ports = ListeningPorts.ports(heldBy: tree ?? [])
        }
        if withMetrics,
            let metrics = ProcessMetrics.tree(tree ?? ProcessTable.descendantPIDs(of: supervisor, singleThreadedRoot: true))
        {
            memoryBytes = metrics.residentBytes
            cpuSeconds = (metrics.cpuSeconds * 100).rounded() / 100
            processCount = metrics.processCount
        }
    }

    /// How the last run ended, in words, or nil if it has not ended.
    public var lastExit: String? {
        if let exitSignal { return "killed by signal \(exitSignal)" + (Self.signalNames[exitSignal].map { " (\($0))" } ?? "") }
        if let exitCode { return "exited with code \(exitCode)" }
        return nil
    }

    package static let signalNames: [Int32: String] = [
        1: "SIGHUP", 2: "SIGINT", 3: "SIGQUIT", 6: "SIGABRT", 9: "SIGKILL", 11: "SIGSEGV", 13: "SIGPIPE", 15: "SIGTERM",
    ]
}

/// A health check's last verdict, as reported.
public struct HealthReport: Codable, Equatable, Sendable {
    /// `starting` (no verdict yet), `healthy` or `unhealthy`.
    public var status: String
    /// Failed checks in a row.
    public var failures: Int
    /// When the last check ended (RFC 3339), if one has.
    public var checkedAt: String?
    /// Seconds since then.
    public var checkedSecondsAgo: Int?
    /// What it said: the status code, the exit code and first lines, or the error.
    public var detail: String?

    enum CodingKeys: String, CodingKey {
        case status, failures, detail
        case checkedAt = "checked_at"
        case checkedSecondsAgo = "checked_seconds_ago"
    }

    package init(_ status: StatusRecord, nowMicros: Int64) {
        self.status = status.health
        failures = status.healthFailures
        if status.healthCheckedAtMilliseconds > 0 {
            checkedAt = Timestamp.string(micros: status.healthCheckedAtMilliseconds * 1000)
            checkedSecondsAgo = max(0, Int(Double(nowMicros) / 1_000_000 - Double(status.healthCheckedAtMilliseconds) / 1000))
        }
        detail = status.healthDetail.isEmpty ? nil : status.healthDetail
    }

    /// One line for people: `healthy (checked 3s ago: HTTP 200)`.
    public var summary: String {
        var text = status
        if let ago = checkedSecondsAgo {
            text += " (checked \(ago)s ago" + (detail.map { ": " + $0 } ?? "") + ")"
        }
        if failures > 0 { text += ", \(failures) failed in a row" }
        return text
    }
}

extension Registry {
    /// The report for one process.
    public func report(_ name: String, withMetrics: Bool = true) throws(RunitError) -> ProcessReport {
        report(for: try existing(name), withMetrics: withMetrics)
    }

    /// The reports for every process; the listening sockets are read once for all of them.
    /// Each process is read on its own, on two cores where there are many (``Concurrent``);
    /// who holds each listening socket comes from ``PortOwners``, read once for all of them.
    public func reports(withMetrics: Bool = false) throws(RunitError) -> [ProcessReport] {
        let names = try names().compactMap { ProcessName($0) }
        guard !names.isEmpty else { return [] }
        var reports = Concurrent.map(names) { [self] name in
            report(for: snapshot(of: name), withMetrics: withMetrics, withPorts: false)
        }
        let listening = ListeningPorts()
        guard !listening.isEmpty, reports.contains(where: { $0.pid != nil && $0.supervisorPID != nil }) else { return reports }
        let ports = PortOwners.ports(of: reports, listening: listening, home: context.home)
        for index in reports.indices where reports[index].pid != nil && reports[index].supervisorPID != nil {
            reports[index].ports = ports[reports[index].name] ?? []
        }
        return reports
    }

    /// The report for a snapshot this registry returned; as ``ProcessReport/init(_:paths:withMetrics:withPorts:nowMicros:)``.
    public func report(for snapshot: ProcessSnapshot, withMetrics: Bool = false, withPorts: Bool = true) -> ProcessReport {
        ProcessReport(
            snapshot, paths: ProcessPaths(home: context.home, name: snapshot.name), withMetrics: withMetrics,
            withPorts: withPorts)
    }
}
