import Foundation
import MCP
import RunitCore
import RunitKit

/// One tool answer: a short text for people, structured content for programs.
struct ToolAnswer {
    var text: String
    var structured: [String: Value]
    var isError = false

    /// The answer for a failure: the message as text, the code and message as structured content.
    init(error: RunitError) {
        text = error.message
        structured = ["error": ["code": .string(error.code.rawValue), "message": .string(error.message)]]
        isError = true
    }

    init(text: String, structured: [String: Value], isError: Bool = false) {
        self.text = text
        self.structured = structured
        self.isError = isError
    }

    var result: CallTool.Result {
        CallTool.Result(
            content: [.text(text: text, annotations: nil, _meta: nil)], structuredContent: .object(structured), isError: isError)
    }
}

/// The MCP tools over a registry; each call runs its blocking work off the cooperative pool.
public struct RunitTools: Sendable {
    /// The registry the tools act on.
    public let registry: Registry

    /// The most processes one `list_processes` answer carries, so that it stays bounded.
    let maxListed: Int

    /// Tools over `registry`.
    public init(registry: Registry, maxListed: Int = 200) {
        self.registry = registry
        self.maxListed = maxListed
    }

    /// The tool definitions.
    public var definitions: [Tool] { ToolCatalog.tools }

    /// Calls a tool; never throws: every failure is an answer with `isError`.
    public func call(_ name: String, arguments: [String: Value]?, progress: ProgressSink? = nil) async -> CallTool.Result {
        guard let tool = ToolCatalog.tools.first(where: { $0.name == name }) else {
            let names = ToolCatalog.tools.map(\.name).joined(separator: ", ")
            return ToolAnswer(error: RunitError(.invalidInput, "there is no tool '\(name)'; the tools are: \(names)")).result
        }
        let cancelled = CancellationFlag()
        return await withTaskCancellationHandler {
            await Self.offPool {
                do throws(RunitError) {
                    let arguments = try ToolArguments(arguments, tool: tool)
                    return try answer(tool.name, arguments, progress: progress, cancelled: cancelled).result
                } catch {
                    return ToolAnswer(error: error).result
                }
            }
        } onCancel: {
            cancelled.set()
        }
    }

    private func answer(_ name: String, _ arguments: ToolArguments, progress: ProgressSink?, cancelled: CancellationFlag)
        throws(RunitError) -> ToolAnswer
    {
        switch name {
        case "start_process": return try start(arguments, cancelled: cancelled)
        case "stop_process": return try stop(arguments)
        case "restart_process": return try restart(arguments)
        case "remove_process": return try remove(arguments)
        case "list_processes": return list()
        case "get_process_status": return try status(arguments)
        case "get_process_logs": return try logs(arguments)
        case "wait_for_process": return try wait(arguments, progress: progress, cancelled: cancelled)
        default: return try send(arguments)
        }
    }

    /// Runs blocking work (process spawning, waits) on a dispatch thread, not the cooperative pool.
    static func offPool<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(returning: work()) }
        }
    }

    func encode<T: Encodable>(_ value: T) -> Value {
        guard let data = try? JSONEncoder().encode(value), let decoded = try? JSONDecoder().decode(Value.self, from: data) else {
            return .null
        }
        return decoded
    }

    /// The first output lines of a process, cleaned, for an answer.
    func firstLines(_ name: String, count: Int = 20) -> [String] {
        guard let reader = try? registry.logReader(name) else { return [] }
        return reader.tail(LogQuery(lines: count)).records.filter { $0.stream != .sys }.map { LogText.clean($0.textString) }
    }

    func start(_ arguments: ToolArguments, cancelled: CancellationFlag) throws(RunitError) -> ToolAnswer {
        let name = try arguments.requiredString("name")
        var request = StartRequest(name: name, command: try arguments.string("command"), argv: try arguments.strings("argv"))
        if request.command == nil && request.argv == nil {
            throw RunitError(
                .invalidInput, "start_process needs 'command' (a shell command) or 'argv' (a program and its arguments)")
        }
        request.cwd = try arguments.string("cwd")
        request.env = (try arguments.stringMap("env") ?? []).map { "\($0.0)=\($0.1)" }
        request.replace = try arguments.bool("replace") ?? false
        if let policy = try arguments.string("restart") {
            guard let value = RestartPolicy(rawValue: policy) else {
                throw RunitError(.invalidInput, "start_process: \(RestartPolicy.rule), not '\(policy)'")
            }
            request.restart = value
        }
        let waitFor = try arguments.object("wait_for")
        let condition = try waitFor.map { arguments throws(RunitError) in try Self.condition(arguments, exit: false) }
        let timeout = try waitFor?.timeoutMillis() ?? 30_000
        if let condition, condition.logPattern == nil, condition.port == nil {
            throw RunitError(.invalidInput, "start_process: wait_for needs 'log_regex' or 'port'")
        }
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
        var structured: [String: Value] = ["process": encode(registry.report(for: outcome.snapshot))]
        var text: String
        if let failure = outcome.failure {
            structured["failure"] = .string(failure)
            structured["output"] = .array(firstLines(name).map { .string($0) })
            return ToolAnswer(text: failure + Self.outputBlock(firstLines(name)), structured: structured, isError: true)
        }
        text =
            outcome.finishedCleanly
            ? "\(name) ran and exited with code 0" : "started \(name) (pid \(outcome.snapshot.pid.map(String.init) ?? "?"))"
        if let condition {
            let result = try registry.wait(
                for: name, until: condition, timeoutMillis: timeout, from: cursor, isCancelled: cancelled.isSet)
            switch result {
            case .logMatched(let record):
                structured["ready"] = true
                structured["ready_line"] = .string(LogText.clean(record.textString))
                text += "; ready: \(LogText.clean(record.textString))"
            case .portOpen(let port):
                structured["ready"] = true
                text += "; ready: port \(port) accepts connections"
            case .exited(let state, let code, let signal):
                structured["ready"] = false
                let how = signal.map { "was killed by signal \($0)" } ?? "exited with code \(code.map(String.init) ?? "?")"
                structured["failure"] = .string("\(name) \(how) (\(state.rawValue)) before it was ready")
                structured["process"] = encode(try registry.report(name, withMetrics: false))
                structured["output"] = .array(firstLines(name).map { .string($0) })
                return ToolAnswer(
                    text: "\(name) \(how) before it was ready" + Self.outputBlock(firstLines(name)), structured: structured,
                    isError: true)
            case .timedOut, .cancelled:
                structured["ready"] = false
                text += "; not ready after \(Double(timeout) / 1000)s (still running)"
            }
            structured["process"] = encode(try registry.report(name, withMetrics: false))
        }
        let lines = firstLines(name)
        structured["output"] = .array(lines.map { .string($0) })
        return ToolAnswer(text: text + Self.outputBlock(lines), structured: structured)
    }

    static func outputBlock(_ lines: [String]) -> String {
        lines.isEmpty ? "" : "\noutput:\n" + lines.map { "  " + $0 }.joined(separator: "\n")
    }

    func stop(_ arguments: ToolArguments) throws(RunitError) -> ToolAnswer {
        let name = try arguments.requiredString("name")
        var grace = Registry.defaultGraceMillis
        if let seconds = try arguments.number("timeout_s") {
            guard (0...300).contains(seconds) else {
                throw RunitError(.invalidInput, "stop_process: 'timeout_s' must be 0 to 300 seconds, not \(seconds)")
            }
            grace = Int64(seconds * 1000)
        }
        let outcome = try registry.stop(name, graceMillis: grace)
        let report = registry.report(for: outcome.snapshot)
        let text =
            outcome.wasRunning
            ? "stopped \(report.name)" + (report.lastExit.map { " (\($0))" } ?? "")
            : "\(report.name) was not running (\(report.state.rawValue))"
        return ToolAnswer(text: text, structured: ["was_running": .bool(outcome.wasRunning), "process": encode(report)])
    }

    func restart(_ arguments: ToolArguments) throws(RunitError) -> ToolAnswer {
        let name = try arguments.requiredString("name")
        let outcome = try registry.restart(name)
        let report = registry.report(for: outcome.snapshot)
        let lines = firstLines(report.name)
        var structured: [String: Value] = ["process": encode(report), "output": .array(lines.map { .string($0) })]
        if let failure = outcome.failure {
            structured["failure"] = .string(failure)
            return ToolAnswer(text: failure + Self.outputBlock(lines), structured: structured, isError: true)
        }
        let text = "restarted \(report.name) (pid \(report.pid.map(String.init) ?? "?"), restarts \(report.restarts))"
        return ToolAnswer(text: text + Self.outputBlock(lines), structured: structured)
    }

    func remove(_ arguments: ToolArguments) throws(RunitError) -> ToolAnswer {
        let name = try arguments.requiredString("name")
        let outcome = try registry.remove(name)
        return ToolAnswer(
            text: "removed \(outcome.snapshot.name)" + (outcome.wasRunning ? " (stopped it first)" : ""),
            structured: ["name": .string(outcome.snapshot.name), "was_running": .bool(outcome.wasRunning), "removed": true])
    }

    func list() -> ToolAnswer {
        let all = registry.reports()
        // Running ones first, so that a cut keeps what matters most.
        let reports = Array((all.filter { $0.pid != nil } + all.filter { $0.pid == nil }).prefix(maxListed))
        var text =
            reports.isEmpty
            ? "no processes"
            : reports.map {
                "\($0.name) \($0.state.rawValue) pid=\($0.pid.map(String.init) ?? "-") restarts=\($0.restarts) \($0.command ?? "")"
            }
            .joined(separator: "\n")
        let truncated = reports.count < all.count
        if truncated { text += "\n(\(all.count - reports.count) more not shown; get_process_status reads one by name)" }
        return ToolAnswer(
            text: text,
            structured: ["processes": .array(reports.map(encode)), "total": .int(all.count), "truncated": .bool(truncated)])
    }

    func status(_ arguments: ToolArguments) throws(RunitError) -> ToolAnswer {
        let report = try registry.report(try arguments.requiredString("name"))
        var text = "\(report.name): \(report.state.rawValue)"
        if let pid = report.pid { text += ", pid \(pid)" }
        if let uptime = report.uptimeSeconds { text += ", up \(ProcessMetrics.formatDuration(TimeInterval(uptime)))" }
        if let exit = report.lastExit { text += ", last \(exit)" }
        text += ", restarts \(report.restarts)\ncommand: \(report.command ?? "?")\nlog: \(report.logPath)"
        return ToolAnswer(text: text, structured: ["process": encode(report)])
    }

    func send(_ arguments: ToolArguments) throws(RunitError) -> ToolAnswer {
        let name = try arguments.requiredString("name")
        let text = try arguments.requiredString("text")
        let count = try registry.send(name, text: text, newline: try arguments.bool("newline") ?? true)
        return ToolAnswer(text: "sent \(count) bytes to \(name)", structured: ["name": .string(name), "bytes": .int(count)])
    }
}

/// A flag set when a tool call is cancelled, read by the blocking work.
final class CancellationFlag: @unchecked Sendable {
    // Guarded by `lock`.
    private let lock = NSLock()
    private var value = false

    func set() {
        lock.lock()
        value = true
        lock.unlock()
    }

    func isSet() -> Bool {
        lock.lock()
        defer { lock.unlock() }
        return value
    }
}
