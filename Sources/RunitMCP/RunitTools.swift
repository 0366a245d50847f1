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
    /// Where this session last read each process's log (`since_last`).
    let sessionCursors = SessionCursors()

    /// What the person running the server allows.
    let rails: GuardRails
    /// The client's name from `initialize`, recorded as who started a process.
    let client = ClientName()

    public init(registry: Registry, maxListed: Int = 200, rails: GuardRails = GuardRails()) {
        self.rails = rails
        self.registry = registry
        self.maxListed = maxListed
    }

    /// The tool definitions: with `--read-only`, only those that change nothing.
    public var definitions: [Tool] {
        rails.readOnly ? ToolCatalog.tools.filter { $0.annotations.readOnlyHint == true } : ToolCatalog.tools
    }

    /// Calls a tool; never throws: every failure is an answer with `isError`.
    public func call(_ name: String, arguments: [String: Value]?, progress: ProgressSink? = nil) async -> CallTool.Result {
        guard let tool = ToolCatalog.tools.first(where: { $0.name == name }) else {
            let names = ToolCatalog.tools.map(\.name).joined(separator: ", ")
            return ToolAnswer(error: RunitError(.invalidInput, "there is no tool '\(name)'; the tools are: \(names)")).result
        }
        if rails.readOnly && tool.annotations.readOnlyHint != true {
            return ToolAnswer(
                error: RunitError(.invalidInput, "this server is read-only (--read-only): '\(name)' would change something")
            ).result
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
        case "start_process": return try start(arguments, progress: progress, cancelled: cancelled)
        case "stop_process": return try stop(arguments)
        case "restart_process": return try restart(arguments)
        case "remove_process": return try remove(arguments)
        case "list_processes": return try list(try arguments.string("project"))
        case "up_project": return try up(arguments)
        case "signal_process": return try signal(arguments)
        case "wait_for_change": return try waitForChange(arguments, cancelled: cancelled)
        case "down_project": return try down(arguments)
        case "get_process_status": return try status(arguments)
        case "get_process_logs": return try logs(arguments, cancelled: cancelled)
        case "wait_for_process": return try wait(arguments, progress: progress, cancelled: cancelled)
        default: return try send(arguments, cancelled: cancelled)
        }
    }

    /// Runs blocking work (process spawning, waits) on a dispatch thread, not the cooperative pool.
    static func offPool<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
        // A thread of its own, not Dispatch's global queue: that queue runs as many blocks at
        // once as there are cores, so two long searches on two cores would hold every other
        // call back until one ended.
        await withCheckedContinuation { continuation in
            let thread = Thread { continuation.resume(returning: work()) }
            thread.stackSize = 1 << 20
            thread.start()
        }
    }

    /// A process report as an answer carries it: its echoed fields cut.
    func encode(_ report: ProcessReport) -> Value {
        encodeValue(report.bounded)
    }

    func encode<T: Encodable>(_ value: T) -> Value {
        encodeValue(value)
    }

    private func encodeValue<T: Encodable>(_ value: T) -> Value {
        guard let data = try? JSONEncoder().encode(value), let decoded = try? JSONDecoder().decode(Value.self, from: data) else {
            return .null
        }
        return decoded
    }

    func stop(_ arguments: ToolArguments) throws(RunitError) -> ToolAnswer {
        let name = try arguments.requiredString("name")
        var grace: Int64?
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

    func remove(_ arguments: ToolArguments) throws(RunitError) -> ToolAnswer {
        let name = try arguments.requiredString("name")
        let outcome = try registry.remove(name)
        return ToolAnswer(
            text: "removed \(outcome.snapshot.name)" + (outcome.wasRunning ? " (stopped it first)" : ""),
            structured: ["name": .string(outcome.snapshot.name), "was_running": .bool(outcome.wasRunning), "removed": true])
    }

    func list(_ project: String?) throws(RunitError) -> ToolAnswer {
        var all = try registry.reports()
        if let project {
            try Registry.checkProject(project, among: all.map(\.project))
            all = all.filter { $0.project == project }
        }
        // Running ones first, so that a cut keeps what matters most.
        let reports = Array((all.filter { $0.pid != nil } + all.filter { $0.pid == nil }).prefix(maxListed))
        var text =
            reports.isEmpty
            ? "no processes"
            : reports.map {
                "\($0.name) \($0.state.rawValue) pid=\($0.pid.map(String.init) ?? "-") restarts=\($0.restarts)"
                    + ($0.ports.isEmpty ? "" : " ports=" + $0.ports.map(String.init).joined(separator: ","))
                    + " \(ProcessReport.cut($0.command ?? ""))"
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
        if !report.ports.isEmpty { text += ", listening on " + report.ports.map { ":\($0)" }.joined(separator: ", ") }
        if let uptime = report.uptimeSeconds { text += ", up \(ProcessMetrics.formatDuration(TimeInterval(uptime)))" }
        if let exit = report.lastExit { text += ", last \(exit)" }
        text += ", restarts \(report.restarts)\ncommand: \(ProcessReport.cut(report.command ?? "?"))\nlog: \(report.logPath)"
        return ToolAnswer(text: text, structured: ["process": encode(report)])
    }

}

/// A flag set when a tool call is cancelled, read by the blocking work. Every flag also reads
/// as set once the server shuts down (``shutdown``): the client closed its input, and work
/// still waiting is ended so the server can answer and exit.
final class CancellationFlag: @unchecked Sendable {
    // Guarded by `lock`.
    private let lock = NSLock()
    private var value = false

    /// Set when the server shuts down: every call's work ends.
    static let shutdown = ShutdownFlag()

    func set() {
        lock.lock()
        value = true
        lock.unlock()
    }

    func isSet() -> Bool {
        if Self.shutdown.isSet() { return true }
        lock.lock()
        defer { lock.unlock() }
        return value
    }
}

/// The server-wide flag behind ``CancellationFlag/shutdown``.
final class ShutdownFlag: @unchecked Sendable {
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

/// The MCP client's name, set once from `initialize`.
final class ClientName: @unchecked Sendable {
    private let lock = NSLock()
    private var value = "client"

    func set(_ name: String) {
        lock.lock()
        value = String(name.prefix(64))
        lock.unlock()
    }

    /// `mcp:<name>`, as a process records who started it.
    var startedBy: String {
        lock.lock()
        defer { lock.unlock() }
        return "mcp:" + value
    }
}
