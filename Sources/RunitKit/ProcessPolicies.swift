#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// What tells that a process is ready: any one check set makes its state go `starting` → `ready`.
public struct ReadinessCheck: Equatable, Sendable, Codable {
    /// A regular expression (POSIX extended) that a line of the process's own output matches.
    public var log: String?
    /// A TCP port that a process of its tree listens on.
    public var port: Int?
    /// An `http://` URL that answers 2xx or 3xx.
    public var http: String?
    /// A shell command that exits 0.
    public var command: String?
    /// The process sends `READY=1` to `$NOTIFY_SOCKET` (systemd's `sd_notify`).
    public var notify = false

    /// No check.
    public init() {}

    /// Whether any check is set.
    public var isSet: Bool { log != nil || port != nil || http != nil || command != nil || notify }
}

/// A health check, with Docker's names and meanings.
public struct HealthCheck: Equatable, Sendable, Codable {
    /// A shell command that exits 0 when healthy.
    public var command: String?
    /// An `http://` URL that answers 2xx or 3xx when healthy.
    public var http: String?
    /// A TCP port that accepts a connection when healthy.
    public var port: Int?
    /// Time between checks.
    public var intervalMillis: Int64 = 30_000
    /// How long one check may take.
    public var timeoutMillis: Int64 = 30_000
    /// Failed checks in a row after which the process is unhealthy.
    public var retries = 3
    /// Time after a start during which failed checks do not count.
    public var startPeriodMillis: Int64 = 0

    /// No check.
    public init() {}

    /// Whether a check is set.
    public var isSet: Bool { command != nil || http != nil || port != nil }

    enum CodingKeys: String, CodingKey {
        case command, http, port, retries
        case intervalMillis = "interval_ms"
        case timeoutMillis = "timeout_ms"
        case startPeriodMillis = "start_period_ms"
    }
}

/// How the supervisor watches, restarts and stops a process: shared by the client's spec and
/// the supervisor's command line, so one vocabulary serves both.
public struct ProcessPolicies: Equatable, Sendable, Codable {
    /// When the process is ready.
    public var ready = ReadinessCheck()
    /// Whether it stays healthy.
    public var health = HealthCheck()
    /// Quick failures in a row (runs shorter than `minUptimeMillis`) after which restarts stop.
    public var maxRestarts = 10
    /// A run shorter than this counts as a quick failure; a longer one resets the backoff.
    public var minUptimeMillis: Int64 = 10_000
    /// The longest wait between restarts (the wait doubles from 500 ms up to this).
    public var backoffMaxMillis: Int64 = 30_000
    /// The first signal a stop sends.
    public var stopSignal: Int32 = SIGTERM
    /// How long a stop waits after that signal before SIGKILL.
    public var stopTimeoutMillis: Int64 = 10_000
    /// Paths whose changes restart the process.
    public var watch: [String] = []
    /// Globs of paths under `watch` that do not.
    public var watchIgnore: [String] = []
    /// Runs the process under a pseudo-terminal: stdout and stderr are one stream, and input
    /// goes through the terminal (Linux).
    public var tty = false

    /// The defaults: no checks, restart tuning as before, SIGTERM with 10 s.
    public init() {}

    enum CodingKeys: String, CodingKey {
        case ready, health, watch
        case maxRestarts = "max_restarts"
        case minUptimeMillis = "min_uptime_ms"
        case backoffMaxMillis = "backoff_max_ms"
        case stopSignal = "stop_signal"
        case stopTimeoutMillis = "stop_timeout_ms"
        case watchIgnore = "watch_ignore"
        case tty
    }

    /// The ranges of each number, checked wherever a policy comes in.
    public enum Range {
        public static let port = 1...65535
        public static let maxRestarts = 0...1_000_000
        public static let minUptimeMillis: ClosedRange<Int64> = 0...86_400_000
        public static let backoffMaxMillis: ClosedRange<Int64> = 100...86_400_000
        public static let stopTimeoutMillis: ClosedRange<Int64> = 0...3_600_000
        public static let intervalMillis: ClosedRange<Int64> = 100...86_400_000
        public static let timeoutMillis: ClosedRange<Int64> = 10...3_600_000
        public static let retries = 1...1000
        public static let startPeriodMillis: ClosedRange<Int64> = 0...86_400_000
    }
}

/// Signal names as people write them: `TERM`, `SIGTERM`, `term` or a number.
public enum SignalName {
    static let names: [(String, Int32)] = [
        ("HUP", SIGHUP), ("INT", SIGINT), ("QUIT", SIGQUIT), ("KILL", SIGKILL), ("USR1", SIGUSR1),
        ("USR2", SIGUSR2), ("TERM", SIGTERM), ("WINCH", SIGWINCH), ("CONT", SIGCONT), ("STOP", SIGSTOP),
    ]

    /// Whether a stop with `signal` is followed by SIGCONT, so that a process paused by SIGSTOP
    /// (Ctrl-Z, a debugger) acts on it: not for SIGKILL or SIGCONT, and not for a signal that
    /// itself pauses (a stop signal of STOP or TSTP means to pause, which SIGCONT would undo).
    public static func continuesAfter(_ signal: Int32) -> Bool {
        ![SIGKILL, SIGCONT, SIGSTOP, SIGTSTP, SIGTTIN, SIGTTOU].contains(signal)
    }

    /// What is accepted, for an error message.
    public static let rule =
        "a signal is a name (TERM, INT, HUP, QUIT, KILL, USR1, USR2, WINCH, CONT, STOP, with or without SIG) or a number "
        + "from 1 to 64"

    /// The signal number for `text`; nil when it is not a signal.
    public static func number(_ text: String) -> Int32? {
        if let number = Int32(text) { return (1...64).contains(number) ? number : nil }
        var upper = text.uppercased()
        if upper.hasPrefix("SIG") { upper = String(upper.dropFirst(3)) }
        return names.first { $0.0 == upper }?.1
    }

    /// The name of `number` (`TERM`), or the number as text.
    public static func name(_ number: Int32) -> String {
        names.first { $0.1 == number }?.0 ?? String(number)
    }
}

extension ProcessPolicies {
    /// Reads policies from their JSON object (as `JSONEncoder` wrote them); a missing field takes
    /// its default; nil when a field has the wrong type.
    public init?(json value: JSONValue) {
        guard value.isObject else { return nil }
        var policies = ProcessPolicies()
        var valid = true
        func integer(_ field: JSONValue?, _ apply: (Int64) -> Void) {
            guard let field, !field.isNull else { return }
            if let number = field.integer { apply(number) } else { valid = false }
        }
        func text(_ field: JSONValue?, _ apply: (String) -> Void) {
            guard let field, !field.isNull else { return }
            if let string = field.string { apply(string) } else { valid = false }
        }
        func texts(_ field: JSONValue?) -> [String] {
            guard let field, !field.isNull else { return [] }
            guard let items = field.array?.compactMap(\.string), items.count == field.array?.count else {
                valid = false
                return []
            }
            return items
        }
        if let ready = value["ready"] {
            text(ready["log"]) { policies.ready.log = $0 }
            integer(ready["port"]) { policies.ready.port = Int($0) }
            text(ready["http"]) { policies.ready.http = $0 }
            text(ready["command"]) { policies.ready.command = $0 }
            if let notify = ready["notify"], case .bool(let flag) = notify { policies.ready.notify = flag }
        }
        if let health = value["health"] {
            text(health["command"]) { policies.health.command = $0 }
            text(health["http"]) { policies.health.http = $0 }
            integer(health["port"]) { policies.health.port = Int($0) }
            integer(health["interval_ms"]) { policies.health.intervalMillis = $0 }
            integer(health["timeout_ms"]) { policies.health.timeoutMillis = $0 }
            integer(health["retries"]) { policies.health.retries = Int($0) }
            integer(health["start_period_ms"]) { policies.health.startPeriodMillis = $0 }
        }
        integer(value["max_restarts"]) { policies.maxRestarts = Int($0) }
        integer(value["min_uptime_ms"]) { policies.minUptimeMillis = $0 }
        integer(value["backoff_max_ms"]) { policies.backoffMaxMillis = $0 }
        integer(value["stop_signal"]) { policies.stopSignal = Int32(clamping: $0) }
        integer(value["stop_timeout_ms"]) { policies.stopTimeoutMillis = $0 }
        policies.watch = texts(value["watch"])
        policies.watchIgnore = texts(value["watch_ignore"])
        if let tty = value["tty"], case .bool(let flag) = tty { policies.tty = flag }
        guard valid else { return nil }
        self = policies
    }
}
