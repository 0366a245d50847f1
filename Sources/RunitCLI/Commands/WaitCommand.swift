import ArgumentParser
import Foundation
import RunitCore
import RunitFront
import RunitKit

/// `runit wait NAME... (--ready | --healthy | --exit | --log REGEX | --port N) [--timeout D]`.
struct WaitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "wait",
        abstract: "Wait until processes are ready, healthy, have exited, printed a line or listen on a port.",
        discussion: """
            Sleeps on the state files' events, not in a polling loop (a port is checked every 100ms).
            Exit codes: 0 the condition holds for every name; 1 a process ended (or turned unhealthy)
            first, with its last lines; 2 bad input; 124 the time ran out.
            """
    )

    /// The exit code when the time runs out, as timeout(1) uses it.
    static let timedOut: Int32 = 124

    @Argument(help: "The process names; each must meet the condition.", completion: .processNames)
    var names: [String]

    @Flag(name: .long, help: "Until its readiness check passes (without one: until it runs).")
    var ready = false

    @Flag(name: .long, help: "Until its health check passes.")
    var healthy = false

    @Flag(name: .long, help: "Until a run ends, even one its restart policy has started again; says its code.")
    var exit = false

    @Option(name: .long, help: "Until a line of its own output matches this regular expression.")
    var log: String?

    @Option(name: .long, help: "Until a process of its tree listens on this TCP port.")
    var port: Int?

    @Option(name: .long, help: "Give up after this long.")
    var timeout: String = "30s"

    @OptionGroup var output: OutputOptions

    func validate() throws {
        let given = [ready, healthy, exit, log != nil, port != nil].filter { $0 }.count
        guard given == 1 else {
            throw ValidationError("give one condition: --ready, --healthy, --exit, --log REGEX or --port N")
        }
        if let port, !(1...65535).contains(port) { throw ValidationError("--port must be 1 to 65535, not \(port)") }
        guard let millis = DurationText.milliseconds(timeout), millis <= 86_400_000 else {
            throw ValidationError("--timeout '\(timeout)' is not a duration from 0s to 1d; \(DurationText.rule)")
        }
        _ = millis
    }

    func run() async throws {
        var condition = WaitCondition(exit: exit, ready: ready, healthy: healthy)
        condition.port = port
        if let log { condition.logPattern = try LogPattern(log) }
        let registry = Registry(context: .fromEnvironment())
        let deadline = Platform.monotonicMillis() + (DurationText.milliseconds(timeout) ?? 30_000)
        var results: [WaitJSON] = []
        var code: Int32 = 0
        for name in names {
            let left = max(0, deadline - Platform.monotonicMillis())
            let outcome: WaitOutcome
            do {
                outcome = try registry.wait(for: name, until: condition, timeoutMillis: left)
            } catch {
                guard error.code == .notFound else { throw error }
                // Bad input, as the help says (exit 2), so that a script can tell it from a crash (1).
                Front.report(error.message, code: error.code.rawValue, arguments: ByteText.arguments)
                throw ExitCode(2)
            }
            let result = Self.describe(outcome, name: name, registry: registry, exitIsTheGoal: exit)
            results.append(result)
            if !output.json { Self.print(result) }
            if !result.met {
                code = result.outcome == "timeout" ? Self.timedOut : 1
                break
            }
        }
        if output.json { try Terminal.printJSON(results) }
        if code != 0 { throw ExitCode(code) }
    }

    /// Prints a result: met on stdout, not met on stderr; the last lines of a run that ended.
    static func print(_ result: WaitJSON) {
        var text =
            result.met
            ? "\(result.name): \(LogText.visible(result.message))" : "runit: '\(result.name)' \(LogText.visible(result.message))"
        if !result.lastLines.isEmpty {
            text += "; its last lines:\n" + result.lastLines.map { "  " + LogText.visible($0) }.joined(separator: "\n")
        }
        if result.met {
            Terminal.write(text + "\n")
        } else {
            Terminal.standardError.write(text + "\n")
        }
    }

    /// What a wait's outcome means for `name`: met or not, in words, with the last lines of a
    /// run that ended. An exit is what `--exit` waits for (`exitIsTheGoal`); for any other
    /// condition it is a failure, and one of a crash loop says so.
    static func describe(
        _ outcome: WaitOutcome, name: String, registry: Registry, exitIsTheGoal: Bool = false
    ) -> WaitJSON {
        var result = WaitJSON(name: name, met: true, outcome: "", message: "")
        func lastLines(until micros: Int64?) -> [String] {
            registry.runLines(name, endingAt: micros).map { LogText.clean($0.textString) }
        }
        func how(_ code: Int32?, _ signal: Int32?) -> String {
            signal.map { "was killed by signal \($0)" } ?? code.map { "exited with code \($0)" } ?? "ended"
        }
        switch outcome {
        case .logMatched(let record):
            (result.outcome, result.message) = ("log_match", "matched: " + LogText.clean(record.textString))
        case .portOpen(let port):
            (result.outcome, result.message) = ("port_open", "a process of its tree listens on port \(port)")
        case .ready:
            (result.outcome, result.message) = ("ready", "ready")
        case .healthy:
            (result.outcome, result.message) = ("healthy", "healthy")
        case .unhealthy(let detail):
            result.met = false
            (result.outcome, result.message) = ("unhealthy", "is unhealthy: \(detail)")
            result.lastLines = lastLines(until: nil)
        case .runEnded(let code, let signal, let micros):
            result.outcome = "exited"
            (result.exitCode, result.exitSignal) = (code, signal)
            result.message = how(code, signal)
            if !exitIsTheGoal, let loop = crashLoop(try? registry.existing(name), endedAtMicros: micros) {
                result.message = "keeps exiting: \(result.message) (\(loop))"
            }
            result.lastLines = lastLines(until: micros)
            result.met = false
        case .exited(let state, let code, let signal):
            result.met = false
            result.outcome = "exited"
            (result.exitCode, result.exitSignal) = (code, signal)
            result.message =
                state == .stopped
                ? "was stopped" : code == nil && signal == nil ? "is \(state.rawValue)" : how(code, signal)
            if !exitIsTheGoal, state == .failed, let loop = crashLoop(try? registry.existing(name), endedAtMicros: nil) {
                result.message = "kept exiting: \(result.message) (\(loop))"
            }
            result.lastLines = lastLines(until: nil)
        case .timedOut, .cancelled:
            result.met = false
            (result.outcome, result.message) = ("timeout", "did not get there in time")
            let snapshot = try? registry.existing(name)
            if let snapshot, snapshot.state == .backoff, let status = snapshot.status,
                let loop = crashLoop(snapshot, endedAtMicros: nil)
            {
                // Nothing runs: say what the last run did and when the next one comes.
                (result.exitCode, result.exitSignal) = (status.exitCode, status.exitSignal)
                let millis = max(0, status.nextRestartAtMilliseconds - Platform.nowMicros() / 1000)
                // As `status` says its next start: whole seconds, or milliseconds under one.
                let left =
                    millis < 1000 ? "\(millis)ms" : ProcessMetrics.formatDuration((Double(millis) / 1000).rounded(.up))
                result.message +=
                    ": it keeps exiting (last \(how(status.exitCode, status.exitSignal)); \(loop)) "
                    + "and starts again in \(left)"
            } else if let snapshot, snapshot.state == .running, !(snapshot.spec?.policies.ready.isSet ?? false),
                Registry.inCrashLoop(snapshot), let status = snapshot.status
            {
                // Without a readiness check of its own, a run counts as ready once it lasted --min-uptime.
                // Why a process that runs is not ready: it failed quickly before this run.
                let uptime = DurationText.format(
                    milliseconds: snapshot.spec?.policies.minUptimeMillis ?? ProcessPolicies().minUptimeMillis)
                result.message +=
                    ": it runs again after \(status.quickFailures) quick failure\(status.quickFailures == 1 ? "" : "s"), "
                    + "and counts as ready once this run has lasted --min-uptime (\(uptime))"
            }
            result.lastLines = lastLines(until: nil)
        }
        if exitIsTheGoal && result.outcome == "exited" { result.met = true }
        return result
    }

    /// What makes `snapshot` a crash loop, in words, or nil when it is none: runs that each ended
    /// under `--min-uptime`, as its supervisor counts them. A run that ended at `endedAtMicros`
    /// after lasting that long is no quick failure, whatever an older count says.
    /// One quick failure is no loop. A status written between a run's end and the restart's
    /// decision (no message, no next start yet) still counts the runs before: it is told by that
    /// count, and only of a run whose end was seen (whose length is known).
    static func crashLoop(_ snapshot: ProcessSnapshot?, endedAtMicros: Int64?) -> String? {
        guard let snapshot, let status = snapshot.status, status.quickFailures >= 2 else { return nil }
        let settled = !(status.message.isEmpty || status.nextRestartAtMilliseconds <= 0)
        if snapshot.state == .backoff && !settled && endedAtMicros == nil { return nil }
        let minUptime = snapshot.spec?.policies.minUptimeMillis ?? ProcessPolicies().minUptimeMillis
        let under = DurationText.format(milliseconds: minUptime)
        // A negative run time: the status tells of a later run already, counted with this one.
        if let ended = endedAtMicros, status.startedAtMilliseconds > 0,
            ended / 1000 - status.startedAtMilliseconds >= minUptime
        {
            return nil
        }
        switch snapshot.state {
        case .backoff where settled:
            // The supervisor's own words: "quick failure 3 of at most 10 in a row".
            return "\(status.message), each run under --min-uptime \(under)"
        case .failed:
            return status.message
        default:
            let count = status.quickFailures
            return "\(count) earlier run\(count == 1 ? "" : "s") in a row ended under --min-uptime \(under)"
        }
    }
}

/// `runit wait --json`: one object per name waited for.
struct WaitJSON: Encodable {
    var name: String
    var met: Bool
    var outcome: String
    var message: String
    var exitCode: Int32?
    var exitSignal: Int32?
    var lastLines: [String] = []

    enum CodingKeys: String, CodingKey {
        case name, met, outcome, message
        case exitCode = "exit_code"
        case exitSignal = "exit_signal"
        case lastLines = "last_lines"
    }
}
