import RunitKit

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// What a wait is for: a log line, a listening port, readiness, health, or the process's exit.
public struct WaitCondition: Sendable {
    /// A line of the process's own output (never runit's `sys` records) matching this pattern.
    public var logPattern: LogPattern?
    /// A TCP port that a process of its tree listens on (never another program's).
    public var port: Int?
    /// The end of a run (it is always reported; with this set, it is what is waited for), seen
    /// in the log even when the restart policy has already started the next run.
    public var exit = false
    /// Any line of the process's own output (not runit's), whatever it says.
    public var output = false
    /// The process is ready: its readiness check passed (without one: it runs).
    public var ready = false
    /// Its health check says healthy.
    public var healthy = false

    /// A condition with the parts given.
    public init(
        logPattern: LogPattern? = nil, port: Int? = nil, exit: Bool = false, output: Bool = false, ready: Bool = false,
        healthy: Bool = false
    ) {
        self.logPattern = logPattern
        self.port = port
        self.exit = exit
        self.output = output
        self.ready = ready
        self.healthy = healthy
    }
}

/// How a wait ended.
public enum WaitOutcome: Sendable, Equatable {
    /// A line of its output matched.
    case logMatched(LogRecord)
    /// A process of its tree listens on the port.
    case portOpen(Int)
    /// Its readiness check passed (or, without one, it runs).
    case ready
    /// Its health check passed.
    case healthy
    /// Its health check failed its retries: the last check's detail.
    case unhealthy(String)
    /// A run ended, as its `sys` record at `micros` says: its code or signal. The restart
    /// policy may already have started the next run.
    case runEnded(code: Int32?, signal: Int32?, micros: Int64)
    /// The process is not running (it ended before the wait began, or is stopped or lost).
    case exited(state: DisplayState, code: Int32?, signal: Int32?)
    /// The time ran out.
    case timedOut
    /// The caller gave up (its request was cancelled).
    case cancelled
}

extension Registry {
    /// Waits until `condition` holds, a run ends, or `timeoutMillis` passes.
    ///
    /// Log lines are looked for from `cursor` on; without one, in everything the current run
    /// has printed (a server that is already ready is found at once) and what follows. The end
    /// of a run is read from its `sys` record in the log, so an exit followed at once by a
    /// restart is still seen, with that run's code. Sleeps on inotify between writes; only a
    /// port is checked by polling (every 100 ms), since no event tells that a port started
    /// listening. `tick` is called about once a second with the milliseconds waited;
    /// `isCancelled` is checked at least as often.
    public func wait(
        for name: String, until condition: WaitCondition, timeoutMillis: Int64, from cursor: LogCursor? = nil,
        tick: (Int64) -> Void = { _ in }, isCancelled: () -> Bool = { false }
    ) throws(RunitError) -> WaitOutcome {
        let snapshot = try existing(name)
        if condition.healthy, let spec = snapshot.spec, !spec.policies.health.isSet {
            // Nothing would ever say healthy: fail now, not at the end of the timeout.
            throw RunitError(
                .invalidInput,
                "'\(snapshot.name)' has no health check; start it with --health-cmd, --health-http or --health-port")
        }
        let paths = ProcessPaths(home: context.home, name: snapshot.name)
        let reader = LogReader(paths: paths)
        var position = cursor ?? reader.endCursor() ?? LogCursor(inode: 0, offset: 0)
        if cursor == nil, let pattern = condition.logPattern, let started = snapshot.status?.startedAtMilliseconds {
            // A line the current run already printed counts: look back to its start first.
            var earlier = LogQuery(lines: 1)
            earlier.pattern = pattern
            earlier.sinceMicros = started * 1000
            earlier.ownOutput = true
            if let match = reader.tail(earlier, end: position).records.last { return .logMatched(match) }
        }
        let watcher = DirectoryWatcher(paths: [paths.directory, paths.logs])
        defer { watcher.close() }
        // The end of a run before the current one (a replaced copy's stop) ends no wait.
        let runStartMicros = (snapshot.status?.startedAtMilliseconds ?? 0) * 1000
        let start = Platform.monotonicMillis()
        var lastTick = start
        while true {
            // Every record since the last look, in order: the lines, and the end of a run.
            while true {
                let (records, next) = reader.read(from: position, limit: 500)
                position = next
                for record in records where record.micros >= runStartMicros {
                    if let outcome = Self.verdict(on: record, for: condition) { return outcome }
                }
                if records.count < 500 { break }
            }
            let current = try existing(name)
            if let outcome = Self.verdict(on: current, for: condition) { return outcome }
            if let port = condition.port, let supervisor = current.supervisorPID,
                ListeningPorts.ports(heldByTree: supervisor).contains(port)
            {
                return .portOpen(port)
            }
            if !current.isSupervised || [.exited, .stopped, .failed, .lost].contains(current.state) {
                // Read what the process wrote before it ended, in case the line came last.
                let (records, _) = reader.read(from: position, limit: 500)
                for record in records where record.micros >= runStartMicros {
                    if let outcome = Self.verdict(on: record, for: condition) { return outcome }
                }
                return .exited(state: current.state, code: current.status?.exitCode, signal: current.status?.exitSignal)
            }
            let now = Platform.monotonicMillis()
            if now - start >= timeoutMillis { return .timedOut }
            if isCancelled() { return .cancelled }
            if now - lastTick >= 1000 {
                lastTick = now
                tick(now - start)
            }
            let step = condition.port == nil ? 250 : 100
            watcher.wait(timeoutMillis: Int32(min(Int64(step), max(1, timeoutMillis - (now - start)))))
        }
    }

    /// What one log record decides: a matching line of the process's own output, or the end of
    /// a run (which ends every wait: the one for it, and the others, which it failed).
    package static func verdict(on record: LogRecord, for condition: WaitCondition) -> WaitOutcome? {
        if record.stream == .sys {
            guard let end = RunEnd(record) else { return nil }
            return .runEnded(code: end.code, signal: end.signal, micros: record.micros)
        }
        if let pattern = condition.logPattern, pattern.matches(record) { return .logMatched(record) }
        if condition.output && condition.logPattern == nil { return .logMatched(record) }
        return nil
    }

    /// What the process's state decides: ready, healthy, or unhealthy.
    package static func verdict(on snapshot: ProcessSnapshot, for condition: WaitCondition) -> WaitOutcome? {
        if condition.ready {
            let hasCheck = snapshot.spec?.policies.ready.isSet ?? false
            if snapshot.state == .ready
                || (!hasCheck && [.running, .unhealthy].contains(snapshot.state) && !inCrashLoop(snapshot))
            {
                return .ready
            }
        }
        if condition.healthy, let status = snapshot.status, snapshot.isSupervised {
            if status.health == "healthy" { return .healthy }
            if status.health == "unhealthy" { return .unhealthy(status.healthDetail) }
        }
        return nil
    }

    /// Whether the process runs again after quick failures (runs under `--min-uptime`) and its
    /// current run has not yet lasted that long: without a readiness check, it is not ready
    /// until it has (or until its run ends, which fails the wait).
    public static func inCrashLoop(_ snapshot: ProcessSnapshot) -> Bool {
        guard let status = snapshot.status, status.quickFailures > 0, status.startedAtMilliseconds > 0 else { return false }
        let minUptime = snapshot.spec?.policies.minUptimeMillis ?? ProcessPolicies().minUptimeMillis
        return Platform.nowMicros() / 1000 - status.startedAtMilliseconds < minUptime
    }

    /// Whether something accepts TCP connections on `port` at 127.0.0.1 or ::1.
    public static func portIsOpen(_ port: Int) -> Bool {
        guard (1...65535).contains(port) else { return false }
        return connects(family: AF_INET, port: port) || connects(family: AF_INET6, port: port)
    }

    private static func connects(family: Int32, port: Int) -> Bool {
        let fd = socket(family, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { Platform.closeDescriptor(fd) }
        if family == AF_INET {
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(UInt16(port).bigEndian)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            return withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
                }
            }
        }
        var address = sockaddr_in6()
        address.sin6_family = sa_family_t(AF_INET6)
        address.sin6_port = in_port_t(UInt16(port).bigEndian)
        address.sin6_addr = in6addr_loopback
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) == 0
            }
        }
    }
}

/// The end of a run, as its supervisor's `sys` record says it: `exited with code N` or
/// `killed by signal N`.
package struct RunEnd {
    package let code: Int32?
    package let signal: Int32?

    package init?(_ record: LogRecord) {
        let text = record.textString
        if text.hasPrefix("exited with code "), let code = Int32(text.dropFirst(17)) {
            self.code = code
            signal = nil
        } else if text.hasPrefix("killed by signal "), let signal = Int32(text.dropFirst(17)) {
            code = nil
            self.signal = signal
        } else {
            return nil
        }
    }
}
