import Foundation
import MCP
import RunitCore
import RunitKit

extension RunitTools {
    /// How long a start with no output yet waits for a first line or an exit, so that a
    /// command failing a little after the supervisor's settle time (200 ms) is still seen.
    static let quietStartMillis: Int64 = 1_000

    func start(_ arguments: ToolArguments, progress: ProgressSink?, cancelled: CancellationFlag) throws(RunitError)
        -> ToolAnswer
    {
        let name = try arguments.requiredString("name")
        var request = try Self.startRequest(arguments, name: name)
        let waitFor = try arguments.object("wait_for", keys: ["log_regex", "port", "http", "cmd", "timeout_s"])
        var condition: WaitCondition?
        if let waitFor {
            // What makes it ready becomes its readiness check, run by its supervisor: the wait
            // is for that check (a log check never fires on runit's own lines; a port check
            // only on a listener of its tree).
            var ready = ReadinessCheck()
            ready.log = try waitFor.string("log_regex")
            if let log = ready.log { _ = try LogPattern(log) }
            ready.port = try waitFor.int("port")
            ready.http = try waitFor.string("http")
            ready.command = try waitFor.string("cmd").map(ByteText.literal)
            let given = [ready.log != nil, ready.port != nil, ready.http != nil, ready.command != nil].filter { $0 }.count
            guard given == 1 else {
                throw RunitError(
                    .invalidInput,
                    "start_process: wait_for takes one of 'log_regex', 'port', 'http' or 'cmd', not \(given); to wait for "
                        + "more, call wait_for_process after the start")
            }
            var policies = request.policies ?? ProcessPolicies()
            policies.ready = ready
            request.policies = policies
            condition = WaitCondition(ready: true)
        }
        let timeout = try waitFor?.timeoutMillis() ?? 30_000
        request.startedBy = client.startedBy
        try rails.check(request, registry: registry)
        defer { rails.admitted.release([request.name]) }
        switch try arguments.string("if_running") ?? "error" {
        case "error": break
        case "replace": request.replace = true
        case "keep":
            if let kept = try keep(name, request) { return kept }
        case let other:
            throw RunitError(.invalidInput, "start_process: 'if_running' must be keep, replace or error, not '\(other)'")
        }
        // Where this run's output begins: the end of the log before the start.
        let cursor = (try? registry.logReader(name))?.endCursor()
        let outcome: StartOutcome
        do throws(RunitError) {
            outcome = try registry.start(request)
        } catch let error where error.code == .alreadyRunning {
            // The CLI's message names `runit restart`; say what to call from here as well.
            throw RunitError(
                error.code,
                error.message
                    + ". From MCP: call restart_process, or start_process with replace: true to run this command instead")
        }
        let notes = Self.notes(outcome)
        if let failure = outcome.failure { return failed(name, failure, structured: notes) }
        if outcome.finishedCleanly {
            // One rule, whatever the timing: with `wait_for`, an exit before the condition held
            // is a failure, even with code 0; without it, an exit with code 0 is a success.
            if condition != nil {
                return failed(name, "\(name) exited with code 0 before it was ready", structured: notes)
            }
            return exitedCleanly(name, from: cursor, structured: notes)
        }
        var structured = notes
        var text = "started \(name) (pid \(outcome.snapshot.pid.map(String.init) ?? "?")"
        text += (outcome.port.map { ", PORT=\($0)" } ?? "") + ")"
        if let condition {
            let result = try registry.wait(
                for: name, until: condition, timeoutMillis: timeout, from: cursor,
                tick: { waited in progress?.report(Double(waited) / 1000, "waiting for \(name) to be ready") },
                isCancelled: cancelled.isSet)
            switch result {
            case .ready, .logMatched, .portOpen, .healthy:
                structured["ready"] = true
                let why = readiness(name)
                if let why { structured["ready_because"] = .string(why) }
                if let pattern = request.policies?.ready.log, let line = matchedLine(name, pattern: pattern) {
                    structured["ready_line"] = .string(line)
                    text += "; ready: \(line)"
                } else {
                    text += "; ready" + (why.map { ": " + $0 } ?? "")
                }
            case .exited(.lost, _, _):
                structured["ready"] = false
                return failed(name, registry.endLostStart(name), structured: structured)
            case .runEnded(let code, let signal, _), .exited(_, let code, let signal):
                structured["ready"] = false
                return failed(name, "\(name) \(Self.how(code, signal)) before it was ready", structured: structured)
            case .unhealthy(let detail):
                structured["ready"] = false
                return failed(name, "\(name) turned unhealthy before it was ready: \(detail)", structured: structured)
            case .timedOut:
                structured["ready"] = false
                text += "; not ready after \(Double(timeout) / 1000)s (still running)"
            case .cancelled:
                // Cut short (the request cancelled, or the client gone): no verdict on readiness.
                structured["ready"] = false
                structured["cancelled"] = true
                text += "; the wait for readiness was cancelled (it still runs; wait_for_process waits again)"
            }
        }
        var lines = firstLines(name, from: cursor)
        if condition == nil, lines.isEmpty {
            let settled = try registry.wait(
                for: name, until: WaitCondition(output: true), timeoutMillis: Self.quietStartMillis,
                from: cursor ?? LogCursor(inode: 0, offset: 0), isCancelled: cancelled.isSet)
            var ended: (code: Int32?, signal: Int32?)?
            switch settled {
            case .exited(_, let code, let signal), .runEnded(let code, let signal, _): ended = (code, signal)
            default: break
            }
            if ended == nil, let now = try? registry.existing(name), [.exited, .failed, .lost].contains(now.state) {
                // The first line came, and the process is gone already (an error, then exit).
                ended = (now.status?.exitCode, now.status?.exitSignal)
            }
            if let ended {
                if ended.code == 0 && ended.signal == nil { return exitedCleanly(name, from: cursor, structured: notes) }
                return failed(name, "'\(name)' \(Self.how(ended.code, ended.signal)) right after it started", structured: notes)
            }
            lines = firstLines(name, from: cursor)
        }
        structured["process"] = encode(try registry.report(name, withMetrics: false))
        structured["output"] = .array(lines.map { .string($0) })
        return ToolAnswer(text: text + Self.warningBlock(outcome.warnings) + Self.outputBlock(lines), structured: structured)
    }

    /// `if_running: "keep"`: the answer for a process of this name that runs with the same
    /// command, cwd and env (no second dev server); an error saying what differs when it runs
    /// with another; nil when none runs.
    func keep(_ name: String, _ request: StartRequest) throws(RunitError) -> ToolAnswer? {
        guard let snapshot = try? registry.existing(name), snapshot.isSupervised, snapshot.supervisorPID != nil,
            let spec = snapshot.spec
        else { return nil }
        var differences: [String] = []
        if let command = request.command, spec.command != command { differences.append("command") }
        if let argv = request.argv, spec.argv != argv || spec.command != nil { differences.append("argv") }
        let cwd = RunitContext.absolute(request.cwd ?? registry.context.workingDirectory, from: registry.context.workingDirectory)
        if cwd != spec.cwd { differences.append("cwd") }
        // A port asked for as "auto" was chosen at the first start: its PORT is not compared.
        let given = Set(request.env.filter { request.port == nil || !$0.hasPrefix("PORT=") })
        let stored = Set(spec.env.map { "\($0.key)=\($0.value)" }.filter { request.port == nil || !$0.hasPrefix("PORT=") })
        if given != stored { differences.append("env") }
        guard differences.isEmpty else {
            throw RunitError(
                .alreadyRunning,
                "'\(snapshot.name)' is running with another \(differences.joined(separator: ", ")); call start_process with "
                    + "if_running: \"replace\" to run this one instead")
        }
        let report = registry.report(for: snapshot)
        let lines = lastLines(snapshot.name)
        return ToolAnswer(
            text: "\(snapshot.name) is already running with this spec (pid \(report.pid.map(String.init) ?? "?")); kept it"
                + Self.outputBlock(lines),
            structured: [
                "process": encode(report), "output": .array(lines.map { .string($0) }), "kept": true, "warnings": [],
            ])
    }

    /// The start request a `start_process` call describes.
    static func startRequest(_ arguments: ToolArguments, name: String) throws(RunitError) -> StartRequest {
        // What the process gets is the text as sent (``ByteText/literal(_:)``).
        var request = StartRequest(
            name: name, command: try arguments.string("command").map(ByteText.literal),
            argv: try arguments.strings("argv")?.map(ByteText.literal))
        if request.command == nil && request.argv == nil {
            throw RunitError(
                .invalidInput, "start_process needs 'command' (a shell command) or 'argv' (a program and its arguments)")
        }
        request.cwd = try arguments.string("cwd").map(ByteText.literal)
        let env = try arguments.stringMap("env") ?? []
        // A name ends at its first `=`: `{"X=Y": "v"}` would set X to `Y=v`.
        if let bad = env.first(where: { $0.0.isEmpty || $0.0.utf8.contains(UInt8(ascii: "=")) }) {
            throw RunitError(
                .invalidInput,
                "start_process: the env name '\(bad.0)' is empty or holds '='; give names such as PORT or DATABASE_URL")
        }
        request.env = env.map { ByteText.literal("\($0.0)=\($0.1)") }
        request.replace = try arguments.bool("replace") ?? false
        request.port = try port(arguments)
        if let health = try health(arguments) {
            var policies = request.policies ?? ProcessPolicies()
            policies.health = health
            request.policies = policies
        }
        if try arguments.bool("tty") == true {
            var policies = request.policies ?? ProcessPolicies()
            policies.tty = true
            request.policies = policies
        }
        if let policy = try arguments.string("restart") {
            guard let value = RestartPolicy(rawValue: policy) else {
                throw RunitError(.invalidInput, "start_process: \(RestartPolicy.rule), not '\(policy)'")
            }
            request.restart = value
        }
        return request
    }

    /// Why the process is ready, as its supervisor logged it ("a process of its tree listens on port 5173").
    func readiness(_ name: String) -> String? {
        guard let reader = try? registry.logReader(name) else { return nil }
        var query = LogQuery(lines: 1)
        query.pattern = try? LogPattern("^ready: ")
        guard let record = reader.tail(query).records.last, record.stream == .sys else { return nil }
        return String(record.textString.dropFirst(7))
    }

    /// The line of this run's own output that met a `log_regex` readiness check.
    func matchedLine(_ name: String, pattern: String) -> String? {
        guard let reader = try? registry.logReader(name), let compiled = try? LogPattern(pattern) else { return nil }
        var query = LogQuery(lines: 1)
        query.pattern = compiled
        query.ownOutput = true
        if let started = (try? registry.existing(name))?.status?.startedAtMilliseconds { query.sinceMicros = started * 1000 }
        return reader.tail(query).records.last.map(AnswerText.line)
    }

    /// The `health` argument: a health check run by the process's supervisor.
    static func health(_ arguments: ToolArguments) throws(RunitError) -> HealthCheck? {
        guard
            let given = try arguments.object(
                "health", keys: ["cmd", "http", "port", "interval_s", "timeout_s", "retries", "start_period_s"])
        else { return nil }
        var health = HealthCheck()
        health.command = try given.string("cmd").map(ByteText.literal)
        health.http = try given.string("http")
        health.port = try given.int("port")
        func millis(_ key: String) throws(RunitError) -> Int64? {
            guard let seconds = try given.number(key) else { return nil }
            guard seconds.isFinite, seconds >= 0, seconds <= 86_400 else {
                throw RunitError(.invalidInput, "start_process: health.\(key) must be 0 to 86400 seconds, not \(seconds)")
            }
            return Int64(seconds * 1000)
        }
        if let value = try millis("interval_s") { health.intervalMillis = value }
        if let value = try millis("timeout_s") { health.timeoutMillis = value }
        if let value = try millis("start_period_s") { health.startPeriodMillis = value }
        if let retries = try given.int("retries") { health.retries = retries }
        return health
    }

    /// The `port` argument: "auto" or a port number.
    static func port(_ arguments: ToolArguments) throws(RunitError) -> PortRequest? {
        guard let value = arguments.values["port"], !value.isNull else { return nil }
        if let text = value.stringValue, let port = PortRequest(text) { return port }
        if let number = try? arguments.int("port") { return .number(number) }
        throw RunitError(
            .invalidInput,
            "start_process: 'port' must be \"auto\" or a port number from 1 to 65535, not \(ToolArguments.describe(value))")
    }

    /// What every answer to a start carries besides the process: its warnings (always, so a
    /// model can rely on the key) and the port given as `PORT`, when one was asked for.
    static func notes(_ outcome: StartOutcome) -> [String: Value] {
        var notes: [String: Value] = ["warnings": .array(outcome.warnings.map { .string($0) })]
        if let port = outcome.port { notes["port"] = .int(port) }
        return notes
    }

    /// The warnings as lines of an answer's text.
    static func warningBlock(_ warnings: [String]) -> String {
        warnings.map { "\nwarning: " + $0 }.joined()
    }

    static func how(_ code: Int32?, _ signal: Int32?) -> String {
        signal.map { "was killed by signal \($0)" } ?? "exited with code \(code.map(String.init) ?? "?")"
    }

    /// The answer for a process that ended badly: the failure, the process as it is now, and
    /// the last lines of its run (where the error usually is).
    func failed(_ name: String, _ failure: String, structured extra: [String: Value] = [:]) -> ToolAnswer {
        var structured = extra
        structured["failure"] = .string(failure)
        structured["process"] = (try? registry.report(name, withMetrics: false)).map(encode) ?? .null
        let lines = lastLines(name, count: 20)
        structured["output"] = .array(lines.map { .string($0) })
        let warnings = structured["warnings"]?.arrayValue?.compactMap(\.stringValue) ?? []
        return ToolAnswer(
            text: failure + Self.warningBlock(warnings) + Self.outputBlock(lines), structured: structured, isError: true)
    }

    /// The answer for a one-shot command that ran and exited with code 0.
    func exitedCleanly(_ name: String, from cursor: LogCursor?, structured extra: [String: Value] = [:]) -> ToolAnswer {
        // The supervisor may report the exit a moment before status.json says so: wait for it.
        _ = try? registry.wait(for: name, until: WaitCondition(exit: true), timeoutMillis: 1000)
        let lines = firstLines(name, from: cursor)
        var structured = extra
        structured["process"] = (try? registry.report(name, withMetrics: false)).map(encode) ?? .null
        structured["output"] = .array(lines.map { .string($0) })
        return ToolAnswer(text: "\(name) ran and exited with code 0" + Self.outputBlock(lines), structured: structured)
    }

    func restart(_ arguments: ToolArguments) throws(RunitError) -> ToolAnswer {
        let name = try arguments.requiredString("name")
        // Where the new run's output begins: the end of the log before the restart.
        let cursor = try registry.logReader(name).endCursor()
        // A restart runs the stored command again, in its folder: the rails hold as for a start,
        // running or not; one that does not run starts one more (--max-processes counts it).
        let snapshot = try registry.existing(name)
        if let spec = snapshot.spec {
            var request = StartRequest(name: snapshot.name, command: spec.command, argv: spec.command == nil ? spec.argv : nil)
            request.cwd = spec.cwd
            request.policies = spec.policies
            try rails.check(request, registry: registry, counted: !snapshot.isSupervised)
        }
        defer { rails.admitted.release([snapshot.name]) }
        let outcome = try registry.restart(name)
        let notes = Self.notes(outcome)
        if let failure = outcome.failure { return failed(name, failure, structured: notes) }
        if outcome.finishedCleanly { return exitedCleanly(name, from: cursor, structured: notes) }
        let report = try registry.report(name, withMetrics: false)
        let lines = firstLines(name, from: cursor)
        var structured = notes
        structured["process"] = encode(report)
        structured["output"] = .array(lines.map { .string($0) })
        let text = "restarted \(report.name) (pid \(report.pid.map(String.init) ?? "?"), restarts \(report.restarts))"
        return ToolAnswer(text: text + Self.warningBlock(outcome.warnings) + Self.outputBlock(lines), structured: structured)
    }
}
