import RunitKit

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// What a reader sees of one process: its spec, its last status and whether a supervisor holds it.
public struct ProcessSnapshot: Sendable {
    /// The name.
    public var name: String
    /// The spec, if it could be read.
    public var spec: ProcessSpec?
    /// The status, if the supervisor has written one.
    public var status: StatusRecord?
    /// The pid of the live supervisor holding the lock, or nil when none does.
    public var supervisorPID: Int32?
    /// A problem with the files (damaged or unreadable), said for the user.
    public var problem: String?

    /// The state to show: the recorded one, corrected when the supervisor is gone.
    public var state: DisplayState {
        guard let status else { return supervisorPID == nil ? .unknown : .starting }
        if supervisorPID == nil && status.state.isActive { return .lost }
        return DisplayState(rawValue: status.state.rawValue) ?? .unknown
    }

    /// Whether a supervisor is alive for this process.
    public var isSupervised: Bool { supervisorPID != nil }

    /// The pid of the running process, or nil.
    public var pid: Int32? {
        guard isSupervised, let status, status.pid > 0, status.state.isActive, status.state != .backoff else {
            return nil
        }
        return status.pid
    }

    /// Seconds since the current run started, while it runs.
    public func uptime(nowMicros: Int64 = Platform.nowMicros()) -> Double? {
        guard pid != nil, let status, status.startedAtMilliseconds > 0 else { return nil }
        return max(0, Double(nowMicros) / 1_000_000 - Double(status.startedAtMilliseconds) / 1000)
    }
}

/// A process state as shown to users: the recorded states, plus what a reader can tell on its own.
public enum DisplayState: String, Sendable, Codable, CaseIterable {
    case starting, running, ready, unhealthy, backoff, stopping, stopped, exited, failed
    /// The status says active, but no supervisor holds the lock: it died without a word.
    case lost
    /// No readable status and no supervisor: a start in its first moment, before its supervisor
    /// runs, or a status file that is missing or damaged (`problem` says which).
    case unknown

    /// The ANSI colour `list`, `status` and `top` show the state in: green when it runs, yellow
    /// on its way, red when it failed, grey at rest.
    public var colorCode: String {
        switch self {
        case .running, .ready: return "32"
        case .starting, .stopping, .backoff: return "33"
        case .failed, .lost, .unhealthy: return "31"
        case .stopped, .exited, .unknown: return "90"
        }
    }
}
