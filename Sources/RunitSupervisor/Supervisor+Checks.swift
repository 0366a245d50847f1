import CRunitSystem
import RunitKit

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Readiness and health, run by the supervisor itself from timers in its loop: no client needs
/// to run, a probe never blocks the loop, and between checks the loop sleeps.
///
/// Readiness (any check set) moves a new run from `starting` to `ready`: a line of the process's
/// own output that matches (never runit's `sys` records), a port that a process of this tree
/// listens on (never another program's), an HTTP answer, a command that exits 0, or `READY=1`
/// on the notify socket. Health checks follow Docker: every interval after the start, each
/// bounded by its timeout; failures during the start period do not count; after `retries`
/// failures in a row the process is `unhealthy`, and a restart policy other than `never`
/// restarts it.
extension Supervisor {
    /// How often a readiness check that is not an event (port, HTTP, command) is tried.
    static let readyIntervalMillis: Int64 = 250
    /// How long one readiness probe may take.
    static let readyTimeoutMillis: Int64 = 5_000

    /// Sets up what a run's checks need before the process starts: the notify socket (its
    /// address goes into the process's environment).
    mutating func prepareChecks() -> String? {
        let ready = arguments.policies.ready
        if ready.notify {
            do {
                let socket = try NotifySocket()
                setenv("NOTIFY_SOCKET", socket.address, 1)
                notifySocket = .some(socket)
            } catch {
                return error.message
            }
        }
        if let pattern = ready.log {
            do {
                log.readiness = try LineMatcher(pattern: pattern)
            } catch {
                return "--ready-log '\(pattern)': \(error.message)"
            }
        }
        return nil
    }

    /// Arms the checks for a run that just started.
    mutating func armChecks(now: Int64) {
        if arguments.policies.ready.isSet {
            status.state = .starting
            readyPending = true
            nextReadyAt = now
            log.readinessMet = false
        }
        if arguments.policies.health.isSet {
            status.health = "starting"
            status.healthFailures = 0
            status.healthCheckedAtMilliseconds = 0
            status.healthDetail = ""
            nextHealthAt = now + arguments.policies.health.intervalMillis
        }
    }

    /// Ends the checks of a run that is ending (its exit, a stop): no probe outlives it.
    mutating func disarmChecks() {
        readyPending = false
        nextReadyAt = nil
        nextHealthAt = nil
        readyProbe?.cancel()
        healthProbe?.cancel()
    }

    /// The earliest moment a check needs the loop.
    mutating func checkDeadline() -> Int64? {
        // No array: the loop allocates nothing per turn.
        func earlier(_ a: Int64?, _ b: Int64?) -> Int64? {
            guard let a else { return b }
            guard let b else { return a }
            return min(a, b)
        }
        return earlier(
            earlier(nextReadyAt, nextHealthAt), earlier(readyProbe?.state().deadline, healthProbe?.state().deadline))
    }

    /// Marks the process ready when its output matched `--ready-log`: a line, or a piece of one
    /// (a prompt), written when it has waited its delay.
    mutating func markReadyIfLogMatched() {
        if readyPending && log.readinessMet { markReady("a line of its output matched '\(arguments.policies.ready.log ?? "")'") }
    }

    /// Runs what is due: the readiness and health checks' timers and their probes' steps.
    mutating func runChecks(now: Int64, notified: Bool) {
        markReadyIfLogMatched()
        if notified, let messages = notifySocket?.receive() { takeNotifications(messages) }
        stepReadiness(now: now)
        stepHealth(now: now)
    }

    /// Marks the process ready on a `READY=1` sent by a process of its tree (the supervisor's
    /// descendants, as a subreaper), never on one from another live program that found the
    /// socket. A sender already gone is taken at its word: `systemd-notify --ready`, run by a
    /// script, has often exited (and been reaped) before its datagram is read.
    mutating func takeNotifications(_ messages: [NotifyMessage]) {
        let ready = messages.filter { $0.lines.contains("READY=1") }
        guard readyPending, !ready.isEmpty else { return }
        let tree = ProcessTable.descendantPIDs(of: getpid(), singleThreadedRoot: true)
        for message in ready {
            if tree.contains(message.pid) || (kill(message.pid, 0) != 0 && crunit_errno() == ESRCH) {
                markReady("it sent READY=1")
                return
            }
            log.system("ignored READY=1 from pid \(message.pid), which is not of this process's tree")
        }
    }

    /// Hands the wait status of a reaped child to the probe that ran it; false when no probe did.
    mutating func probeExited(pid: Int32, status waitStatus: Int32) -> Bool {
        if readyProbe?.state().pid == pid {
            readyProbe?.exited(status: waitStatus)
            return true
        }
        if healthProbe?.state().pid == pid {
            healthProbe?.exited(status: waitStatus)
            return true
        }
        return false
    }

    private mutating func stepReadiness(now: Int64) {
        if readyProbe?.state() != nil {
            guard let result = readyProbe?.step(now: now) else { return }
            // A command killed at its timeout is kept until it is reaped: its result counts once.
            let fresh = readyProbe?.take() == true
            if readyProbe?.state().pid == 0 { readyProbe = nil }
            if readyPending && fresh {
                if result.ok {
                    markReady(readinessText(result))
                } else {
                    nextReadyAt = now + Self.readyIntervalMillis
                }
            }
            return
        }
        guard readyPending, let due = nextReadyAt, now >= due else { return }
        let ready = arguments.policies.ready
        nextReadyAt = nil
        if let port = ready.port {
            // Only a listener of this tree counts, never another program that holds the port.
            if ListeningPorts.ports(heldByTree: getpid()).contains(port) {
                markReady("a process of its tree listens on port \(port)")
            } else {
                nextReadyAt = now + Self.readyIntervalMillis
            }
        } else if let url = ready.http {
            readyProbe = Probe.start(.http(url: url), timeoutMillis: Self.readyTimeoutMillis, now: now)
        } else if let command = ready.command {
            readyProbe = Probe.start(
                .command(command), timeoutMillis: Self.readyTimeoutMillis, now: now, cwd: arguments.cwd)
        }
    }

    private func readinessText(_ result: ProbeResult) -> String {
        let summary = result.detail.split(separator: "\n").first.map(String.init) ?? ""
        if let url = arguments.policies.ready.http { return "\(url) answered \(summary)" }
        return "its readiness command exited 0"
    }

    /// Records that the run is ready.
    mutating func markReady(_ why: String) {
        guard readyPending else { return }
        readyPending = false
        nextReadyAt = nil
        readyProbe?.cancel()
        log.readinessMet = true
        // A failing health check keeps its verdict: ready, it is still unhealthy (and becomes
        // `ready` when a check passes).
        status.state = status.health == "unhealthy" ? .unhealthy : .ready
        log.system("ready: \(why)")
        writeStatus()
    }

    private mutating func stepHealth(now: Int64) {
        let health = arguments.policies.health
        if healthProbe?.state() != nil {
            guard let result = healthProbe?.step(now: now) else { return }
            // A command killed at its timeout is kept until it is reaped: its result counts once.
            let fresh = healthProbe?.take() == true
            if healthProbe?.state().pid == 0 { healthProbe = nil }
            if fresh {
                recordHealth(result, now: now)
                nextHealthAt = now + health.intervalMillis
            }
            return
        }
        guard let due = nextHealthAt, now >= due, childPID > 0 else { return }
        nextHealthAt = nil
        let kind: ProbeKind
        if let command = health.command {
            kind = .command(command)
        } else if let url = health.http {
            kind = .http(url: url)
        } else if let port = health.port {
            kind = .port(port)
        } else {
            return
        }
        healthProbe = Probe.start(kind, timeoutMillis: health.timeoutMillis, now: now, cwd: arguments.cwd)
    }

    /// Takes one health check's result: the verdict, and a restart after too many failures.
    private mutating func recordHealth(_ result: ProbeResult, now: Int64) {
        guard childPID > 0, case .running = phase else { return }
        let health = arguments.policies.health
        let before = (status.health, status.healthFailures, status.state)
        status.healthCheckedAtMilliseconds = Platform.nowMicros() / 1000
        status.healthDetail = String(result.detail.prefix(600))
        if result.ok {
            status.healthFailures = 0
            status.health = "healthy"
            if status.state == .unhealthy {
                status.state = readyPending ? .starting : arguments.policies.ready.isSet ? .ready : .running
            }
        } else if now - childStartedAt >= health.startPeriodMillis {
            status.healthFailures += 1
            if status.healthFailures >= health.retries && status.health != "unhealthy" {
                status.health = "unhealthy"
                status.state = .unhealthy
                let summary = result.detail.split(separator: "\n").first.map(String.init) ?? ""
                log.system("unhealthy after \(status.healthFailures) failed checks in a row: \(summary)")
                if arguments.restart != .never {
                    writeStatus()
                    restartInPlace(because: "it is unhealthy", countsAsFailure: true)
                    return
                }
            }
        }
        // The verdict is written when it changes; the time of each check, without an fsync.
        let changed = before != (status.health, status.healthFailures, status.state)
        writeStatus(durable: changed)
    }

    /// Runs in a row that one path changed early in, after which its changes are ignored.
    static let selfWriteRuns = 5
    /// How early: within this long of the start, the debounce included (a person who saves a
    /// file within 2 s of five restarts in a row is rare; a program that writes it at start is not).
    static let selfWriteWindowMillis: Int64 = 2_000

    /// `--watch`: a change restarts a running process in place, and starts one waiting in
    /// backoff at once (a fix for what made it crash); it never counts as a failure.
    mutating func restartForChange(_ path: String) {
        switch phase {
        case .running:
            let early = Platform.monotonicMillis() - childStartedAt < Self.selfWriteWindowMillis
            changeStreak = early ? (path, changeStreak.path == path ? changeStreak.runs + 1 : 1) : ("", 0)
            if changeStreak.runs >= Self.selfWriteRuns {
                fileWatch.quieted.insert(path)
                log.system(
                    "\(path) changed soon after each of the last \(changeStreak.runs) starts: the process seems to write it "
                        + "itself, so its changes no longer restart it (add --watch-ignore for it)")
                changeStreak = ("", 0)
                return
            }
            restartInPlace(because: "\(path) changed", countsAsFailure: false)
        case .backoff:
            // A change made while the run that just failed was young is most likely its own
            // write (a cache, a pid file): starting at once would skip the backoff and, with
            // the count cleared, --max-restarts, for a crash loop without end.
            // Changes come debounced into one, so this is said about once per failed run.
            if Platform.monotonicMillis() - childStartedAt < Self.selfWriteWindowMillis {
                log.system("\(path) changed while the failed run was young: the restart waits for its backoff")
                return
            }
            log.system("\(path) changed: starting it now")
            quickFailures = 0
            status.restarts += 1
            startProcess()
        case .stopping, .cleaning, .done:
            break
        }
    }

    /// Writes what could not be watched, once each, as `sys` records.
    mutating func logWatchProblems() {
        let problems = fileWatch.problems
        while fileWatchProblemsLogged < problems.count {
            log.system(problems[fileWatchProblemsLogged])
            fileWatchProblemsLogged += 1
        }
    }

    /// Stops the tree and starts the process again, in place: for a health failure (counted as
    /// a quick failure, with its backoff), a change under `--watch`, or a restart asked from
    /// inside the process's own tree.
    mutating func restartInPlace(because reason: String, countsAsFailure: Bool) {
        guard case .running = phase else { return }
        log.system("restarting: \(reason)")
        beginStop(graceMillis: arguments.policies.stopTimeoutMillis, then: countsAsFailure ? .afterFailure : .now)
    }
}

/// What follows a stop that is part of a restart in place.
enum RestartAfterStop {
    /// Start again at once.
    case now
    /// Start again as after a failure: a quick failure counts, with its backoff.
    case afterFailure
}

/// What the loop reads of a running probe, copied out (a probe is not copyable).
struct ProbeState: Equatable {
    let fd: Int32
    let events: Int16
    let deadline: Int64
    let pid: Int32
}

extension Probe {
    /// Its descriptor, events, deadline and pid, as they are now.
    mutating func state() -> ProbeState { ProbeState(fd: fd, events: events, deadline: deadline, pid: pid) }
}

extension NotifySocket {
    /// Its descriptor, for the poll set.
    mutating func descriptor() -> Int32 { fd }
}
