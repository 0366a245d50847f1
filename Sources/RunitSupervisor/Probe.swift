import CRunitSystem
import RunitKit

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The outcome of one check.
struct ProbeResult: Equatable {
    /// Whether the check passed.
    let ok: Bool
    /// What happened, its first line a summary: `HTTP 200`, `HTTP 503`, `connection refused`,
    /// `exit code 3`, `timed out after 5s (…)`; for a command, the first lines of its output follow,
    /// one per line.
    let detail: String
}

/// One run of a check, a non-blocking state machine for the supervisor's single-threaded poll loop.
///
/// After `start`, poll `fd` for `events` (a negative `fd` polls nothing; `poll` skips it), wake no
/// later than `deadline`, and call `step(now:)` after every wake-up: it does what can be done
/// without blocking and returns the result once there is one (nil while pending). `fd` and
/// `events` change as the probe goes on (another address, the request sent, the pipe at its end),
/// so read them again before each poll. A command's child is the supervisor's to reap: when
/// `waitpid(-1)` returns `pid`, pass its status to `exited(status:)`, then call `step(now:)`.
/// Dropping a probe closes what it holds and kills a command's process group that was not reaped.
struct Probe: ~Copyable {
    /// A connection: an HTTP exchange, or a port check that ends once connected.
    private var network: TCPExchange?
    /// A command and its output pipe.
    private var command: CommandRun?
    /// The outcome, once known; nothing is held open after it.
    private var result: ProbeResult?
    private let timeoutMillis: Int64
    /// Set once the owner has taken the result (see ``take()``).
    private var taken = false
    /// When an HTTP answer whose status is read stops being drained.
    private var drainUntil: Int64?
    /// How long the rest of an answer is read after its status line.
    static let drainGraceMillis: Int64 = 1_000
    /// When `step(now:)` must be called at the latest: the timeout, or the start when it already
    /// has a result (a check that could not even start).
    private(set) var deadline: Int64

    private init(timeoutMillis: Int64, deadline: Int64) {
        self.timeoutMillis = timeoutMillis
        self.deadline = deadline
    }

    deinit {
        network?.release()
        command?.release()
    }

    /// The descriptor to poll, or -1 when there is none to wait on (the result is known, or a
    /// command closed its output and only its exit is awaited).
    var fd: Int32 {
        guard result == nil else { return -1 }
        return network?.fd ?? command?.fd ?? -1
    }

    /// The events to poll `fd` for.
    var events: Int16 {
        guard result == nil else { return 0 }
        return network?.events ?? command.map { _ in Int16(POLLIN) } ?? 0
    }

    /// The command's pid (the leader of its own process group) until its exit is passed to
    /// `exited(status:)`; 0 for other checks.
    var pid: Int32 { command?.unreapedPID ?? 0 }

    /// Starts a check that fails unless it passes within `timeoutMillis` of `now` (monotonic
    /// milliseconds, `Platform.monotonicMillis()`). A command runs in `cwd` (empty: the
    /// supervisor's own) with `environment` (`KEY=VALUE` entries; nil: the supervisor's own).
    static func start(
        _ kind: ProbeKind, timeoutMillis: Int64, now: Int64, cwd: String = "", environment: [String]? = nil
    ) -> Probe {
        let (deadline, overflow) = now.addingReportingOverflow(max(0, timeoutMillis))
        var probe = Probe(timeoutMillis: timeoutMillis, deadline: overflow ? Int64.max : deadline)
        switch kind {
        case .http(let url):
            do {
                let target = try HTTPTarget(parsing: url)
                probe.network = TCPExchange(addresses: target.addresses, port: target.port, request: target.request)
            } catch {
                probe.finish(ProbeResult(ok: false, detail: error.message))
            }
        case .port(let port):
            probe.network = TCPExchange(addresses: ["127.0.0.1", "::1"], port: port, request: [])
        case .command(let text):
            do {
                probe.command = try CommandRun(command: text, cwd: cwd, environment: environment)
            } catch {
                probe.finish(ProbeResult(ok: false, detail: error.message))
            }
        }
        if probe.network != nil, let failed = probe.network!.begin() { probe.finish(failed) }
        if probe.result != nil { probe.deadline = now }
        return probe
    }

    /// Does what can be done without blocking; the result once known (every call after that
    /// returns it again), nil while pending. Past the deadline, the check fails as timed out.
    mutating func step(now: Int64) -> ProbeResult? {
        if let result { return result }
        if network != nil {
            if let outcome = network!.advance() {
                finish(outcome)
            } else if let answered = network!.answered {
                // The status is known. A server that keeps the connection open (keep-alive in
                // spite of `Connection: close`) is given a moment to end it, then left.
                if drainUntil == nil {
                    drainUntil = min(deadline, now + Self.drainGraceMillis)
                    deadline = drainUntil!
                }
                if now >= drainUntil! { finish(answered) }
            }
        } else if command != nil {
            command!.readOutput()
        }
        if result == nil && now >= deadline { timeOut() }
        return result
    }

    /// Takes the wait status of the command's child, reaped by the supervisor: the command's
    /// result, unless the probe had already finished (timed out, cancelled).
    mutating func exited(status: Int32) {
        guard command != nil else { return }
        let outcome = command!.exited(status: status)
        if result == nil { finish(outcome) }
    }

    /// Marks the result as taken by the owner; true the first time only, so that a probe kept
    /// until its command is reaped has its result counted once.
    mutating func take() -> Bool {
        guard result != nil, !taken else { return false }
        taken = true
        return true
    }

    /// Stops the check: closes its sockets or pipe and kills a command's process group. Its
    /// result is then a failure, "cancelled"; a command's child still has to be reaped.
    mutating func cancel() {
        guard result == nil else { return }
        finish(ProbeResult(ok: false, detail: "cancelled"))
    }

    private mutating func finish(_ outcome: ProbeResult) {
        result = outcome
        network?.release()
        network = nil
        command?.killGroup()
        command?.closeOutput()
    }

    private mutating func timeOut() {
        var detail = "timed out after \(DurationText.format(milliseconds: timeoutMillis))"
        if let network { detail += " (\(network.waitingFor))" }
        if command != nil {
            command!.killGroup()
            command!.readOutput()
            let lines = command!.firstLines
            if !lines.isEmpty { detail += "\n" + lines }
        }
        finish(ProbeResult(ok: false, detail: detail))
    }
}
