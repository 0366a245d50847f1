import ArgumentParser
import Foundation
import RunitCore
import RunitKit

/// `runit start`'s options for readiness, health, restart tuning, stopping and watching.
struct PolicyOptions: ParsableArguments {
    @Option(name: .long, help: "Ready when a line of the process's output matches this regular expression.")
    var readyLog: String?

    @Option(name: .long, help: "Ready when a process of its tree listens on this TCP port.")
    var readyPort: Int?

    @Option(name: .long, help: "Ready when this http:// URL answers 2xx or 3xx.")
    var readyHttp: String?

    @Option(name: .long, help: "Ready when this shell command exits 0.")
    var readyCmd: String?

    @Flag(name: .long, help: "Ready when the process sends READY=1 to $NOTIFY_SOCKET (systemd's sd_notify).")
    var readyNotify = false

    @Option(name: .long, help: "Healthy while this shell command exits 0.")
    var healthCmd: String?

    @Option(name: .long, help: "Healthy while this http:// URL answers 2xx or 3xx.")
    var healthHttp: String?

    @Option(name: .long, help: "Healthy while this TCP port accepts connections.")
    var healthPort: Int?

    @Option(name: .long, help: "Time between health checks (default 30s).")
    var healthInterval: String?

    @Option(name: .long, help: "How long one health check may take (default 30s).")
    var healthTimeout: String?

    @Option(name: .long, help: "Failed checks in a row that make it unhealthy (default 3).")
    var healthRetries: Int?

    @Option(name: .long, help: "Time after a start when failed checks do not count (default 0s).")
    var healthStartPeriod: String?

    @Option(name: .long, help: "Restarts in a row, each after a run under --min-uptime, before giving up (default 10).")
    var maxRestarts: Int?

    @Option(name: .long, help: "A run shorter than this is a quick failure (default 10s).")
    var minUptime: String?

    @Option(name: .long, help: "The longest wait between restarts (default 30s).")
    var backoffMax: String?

    @Option(
        name: .long,
        help:
            "The signal a stop sends first: a name (TERM, INT, HUP, QUIT, KILL, USR1, USR2, WINCH, CONT, STOP) or a number from 1 to 64 (default TERM)."
    )
    var stopSignal: String?

    @Option(name: .long, help: "How long a stop waits before SIGKILL (default 10s).")
    var stopTimeout: String?

    @Option(name: .long, help: "Restart when a file under this path changes; repeatable.")
    var watch: [String] = []

    @Option(name: .long, help: "Leave out of --watch the paths matching this glob; repeatable.")
    var watchIgnore: [String] = []

    @Flag(
        name: .long,
        help: "Run it under a pseudo-terminal: output comes line by line and in colour, as in a terminal (Linux).")
    var tty = false

    /// The policies these options give, or nil when none was given (a start of a stopped
    /// process then keeps its stored ones).
    func policies() throws -> ProcessPolicies? {
        var policies = ProcessPolicies()
        var given = false
        func duration(_ text: String?, _ flag: String, _ apply: (Int64) -> Void) throws {
            guard let text else { return }
            guard let millis = DurationText.milliseconds(text) else {
                throw RunitError(.invalidInput, "\(flag) '\(text)' is not a duration; \(DurationText.rule)")
            }
            apply(millis)
            given = true
        }
        func set<T>(_ value: T?, _ apply: (T) -> Void) {
            guard let value else { return }
            apply(value)
            given = true
        }
        set(readyLog) { policies.ready.log = $0 }
        set(readyPort) { policies.ready.port = $0 }
        set(readyHttp) { policies.ready.http = $0 }
        set(readyCmd) { policies.ready.command = $0 }
        if readyNotify { set(true) { policies.ready.notify = $0 } }
        set(healthCmd) { policies.health.command = $0 }
        set(healthHttp) { policies.health.http = $0 }
        set(healthPort) { policies.health.port = $0 }
        try duration(healthInterval, "--health-interval") { policies.health.intervalMillis = $0 }
        try duration(healthTimeout, "--health-timeout") { policies.health.timeoutMillis = $0 }
        set(healthRetries) { policies.health.retries = $0 }
        try duration(healthStartPeriod, "--health-start-period") { policies.health.startPeriodMillis = $0 }
        set(maxRestarts) { policies.maxRestarts = $0 }
        try duration(minUptime, "--min-uptime") { policies.minUptimeMillis = $0 }
        try duration(backoffMax, "--backoff-max") { policies.backoffMaxMillis = $0 }
        if let stopSignal {
            guard let number = SignalName.number(stopSignal) else {
                throw RunitError(.invalidInput, "--stop-signal '\(stopSignal)' is not a signal; \(SignalName.rule)")
            }
            set(number) { policies.stopSignal = $0 }
        }
        try duration(stopTimeout, "--stop-timeout") { policies.stopTimeoutMillis = $0 }
        if !watch.isEmpty { set(watch) { policies.watch = $0 } }
        if !watchIgnore.isEmpty { set(watchIgnore) { policies.watchIgnore = $0 } }
        if tty { set(true) { policies.tty = $0 } }
        return given ? policies : nil
    }
}
