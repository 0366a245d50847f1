/// The life-cycle state of a managed process, as its supervisor last recorded it.
public enum ProcessState: String, Sendable, CaseIterable, Codable {
    /// The supervisor is spawning the process.
    case starting
    /// The process is running (and has no readiness check).
    case running
    /// The process runs and its readiness check has passed.
    case ready
    /// The process runs and its health check failed its retries in a row.
    case unhealthy
    /// The process exited and the restart policy will start it again after a delay.
    case backoff
    /// A stop was asked for and the process tree is being terminated.
    case stopping
    /// Stopped on request.
    case stopped
    /// Exited by itself, and the restart policy did not start it again.
    case exited
    /// Could not be started at all (bad cwd, program not found) or the restart policy gave up.
    case failed

    /// Whether a supervisor is expected to be alive in this state.
    public var isActive: Bool {
        switch self {
        case .starting, .running, .ready, .unhealthy, .backoff, .stopping: return true
        case .stopped, .exited, .failed: return false
        }
    }
}

/// The status file (`status.json`): a few fixed fields written by the supervisor.
public struct StatusRecord: Equatable, Sendable {
    /// The process name.
    public var name: String
    /// The state.
    public var state: ProcessState
    /// The process's pid (also its process group id); 0 when none runs.
    public var pid: Int32
    /// The supervisor's pid.
    public var supervisorPID: Int32
    /// When the current (or last) run started, in milliseconds since the epoch; 0 if never.
    public var startedAtMilliseconds: Int64
    /// How many times the process was started again after its first start.
    public var restarts: Int
    /// The exit code of the last run, if it exited normally.
    public var exitCode: Int32?
    /// The signal that ended the last run, if a signal did.
    public var exitSignal: Int32?
    /// A short explanation (a spawn error, why the policy gave up); empty when there is none.
    public var message: String
    /// When this record was written, in milliseconds since the epoch.
    public var updatedAtMilliseconds: Int64
    /// The run's token (``RunToken``) in the process's environment; empty in records of old versions.
    public var run: String = ""
    /// The health check's verdict: empty without a check, else `starting`, `healthy` or `unhealthy`.
    public var health: String = ""
    /// When the last health check ended, in milliseconds since the epoch; 0 before the first.
    public var healthCheckedAtMilliseconds: Int64 = 0
    /// What the last health check said: its status code, exit code and first lines, or its error.
    public var healthDetail: String = ""
    /// Failed health checks in a row.
    public var healthFailures = 0
    /// When the restart policy starts the process again (in `backoff`), in milliseconds since the epoch; 0 if not.
    public var nextRestartAtMilliseconds: Int64 = 0
    /// Whether this run's input was ended (`close_input`): what is sent now would wait for the next run.
    public var inputClosed = false
    /// Runs in a row that ended under `--min-uptime` (a crash loop); 0 once one ran that long.
    public var quickFailures = 0

    /// A record with every field given.
    public init(
        name: String, state: ProcessState, pid: Int32 = 0, supervisorPID: Int32 = 0,
        startedAtMilliseconds: Int64 = 0, restarts: Int = 0, exitCode: Int32? = nil,
        exitSignal: Int32? = nil, message: String = "", updatedAtMilliseconds: Int64 = 0
    ) {
        self.name = name
        self.state = state
        self.pid = pid
        self.supervisorPID = supervisorPID
        self.startedAtMilliseconds = startedAtMilliseconds
        self.restarts = restarts
        self.exitCode = exitCode
        self.exitSignal = exitSignal
        self.message = message
        self.updatedAtMilliseconds = updatedAtMilliseconds
    }

    /// The JSON text of the record, one object on one line, ending with a newline.
    public var json: String {
        var out = "{\"name\":"
        JSONText.appendString(name, to: &out)
        out += ",\"state\":\"\(state.rawValue)\""
        out += ",\"pid\":\(pid),\"supervisor_pid\":\(supervisorPID)"
        out += ",\"started_at_ms\":\(startedAtMilliseconds),\"restarts\":\(restarts)"
        out += ",\"exit_code\":" + (exitCode.map { String($0) } ?? "null")
        out += ",\"exit_signal\":" + (exitSignal.map { String($0) } ?? "null")
        out += ",\"message\":"
        JSONText.appendString(message, to: &out)
        out += ",\"updated_at_ms\":\(updatedAtMilliseconds),\"run\":"
        JSONText.appendString(run, to: &out)
        if !health.isEmpty {
            out += ",\"health\":"
            JSONText.appendString(health, to: &out)
            out += ",\"health_checked_at_ms\":\(healthCheckedAtMilliseconds),\"health_failures\":\(healthFailures)"
            out += ",\"health_detail\":"
            JSONText.appendString(healthDetail, to: &out)
        }
        if nextRestartAtMilliseconds > 0 { out += ",\"next_restart_at_ms\":\(nextRestartAtMilliseconds)" }
        if inputClosed { out += ",\"input_closed\":true" }
        if quickFailures > 0 { out += ",\"quick_failures\":\(quickFailures)" }
        out += "}\n"
        return out
    }
}

extension StatusRecord {
    /// Reads a status file's JSON text; nil when it is not a status record.
    public init?(json bytes: [UInt8]) {
        guard let value = JSONValue(parsing: bytes), let name = value["name"]?.string,
            let stateText = value["state"]?.string, let state = ProcessState(rawValue: stateText),
            let pid = value["pid"]?.integer, let supervisor = value["supervisor_pid"]?.integer,
            let started = value["started_at_ms"]?.integer, let restarts = value["restarts"]?.integer,
            let updated = value["updated_at_ms"]?.integer, let message = value["message"]?.string,
            let exitCode = value["exit_code"], let exitSignal = value["exit_signal"]
        else { return nil }
        func optional(_ field: JSONValue) -> Int32?? {
            if field.isNull { return .some(nil) }
            return field.integer.flatMap { Int32(exactly: $0) }.map { .some($0) }
        }
        guard let code = optional(exitCode), let signal = optional(exitSignal),
            let pid32 = Int32(exactly: pid), let supervisor32 = Int32(exactly: supervisor)
        else { return nil }
        self.init(
            name: name, state: state, pid: pid32, supervisorPID: supervisor32, startedAtMilliseconds: started,
            restarts: Int(restarts), exitCode: code, exitSignal: signal, message: message, updatedAtMilliseconds: updated)
        self.run = value["run"]?.string ?? ""
        self.health = value["health"]?.string ?? ""
        self.healthCheckedAtMilliseconds = value["health_checked_at_ms"]?.integer ?? 0
        self.healthDetail = value["health_detail"]?.string ?? ""
        self.healthFailures = Int(value["health_failures"]?.integer ?? 0)
        self.nextRestartAtMilliseconds = value["next_restart_at_ms"]?.integer ?? 0
        self.inputClosed = value["input_closed"] == .bool(true)
        self.quickFailures = Int(clamping: max(0, value["quick_failures"]?.integer ?? 0))
    }
}

/// Minimal JSON text helpers for code that does not link Foundation.
public enum JSONText {
    /// Appends `text` as a quoted, escaped JSON string.
    public static func appendString(_ text: String, to out: inout String) {
        out.append("\"")
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out.append("\\\"")
            case "\\": out.append("\\\\")
            case "\n": out.append("\\n")
            case "\r": out.append("\\r")
            case "\t": out.append("\\t")
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    out.append("\\u" + String(repeating: "0", count: 4 - hex.count) + hex)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        out.append("\"")
    }
}
