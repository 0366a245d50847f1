import Foundation
import MCP
import RunitCore
import RunitKit

/// `signal_process`: a reload (or a Ctrl-C) without a restart.
extension RunitTools {
    static let signalTool = Tool(
        name: "signal_process",
        title: "Signal a process",
        description: """
            Send SIGINT, SIGHUP, SIGUSR1 or SIGUSR2 to a running process's group, through its supervisor \
            (which knows its process for sure): HUP or USR1 makes many servers reload their config without \
            a restart; INT is what Ctrl-C sends. Fails with isError when the process is not running.
            """,
        inputSchema: ToolCatalog.object(
            [
                "name": ToolCatalog.name,
                "signal": ["type": "string", "enum": ["INT", "HUP", "USR1", "USR2"], "description": "Which signal."],
            ], required: ["name", "signal"], additionalProperties: false),
        annotations: .init(readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: false),
        outputSchema: ToolCatalog.output(["name": ["type": "string"], "signal": ["type": "string"]])
    )

    func signal(_ arguments: ToolArguments) throws(RunitError) -> ToolAnswer {
        let name = try arguments.requiredString("name")
        let text = try arguments.requiredString("signal")
        let allowed: [String: Int32] = ["INT": SIGINT, "HUP": SIGHUP, "USR1": SIGUSR1, "USR2": SIGUSR2]
        guard let number = allowed[text] else {
            throw RunitError(.invalidInput, "signal_process: 'signal' must be INT, HUP, USR1 or USR2, not '\(text)'")
        }
        try registry.signal(name, signal: number)
        let full = registry.resolve(name)
        return ToolAnswer(text: "sent SIG\(text) to \(full)", structured: ["name": .string(full), "signal": .string(text)])
    }
}

/// Where this session last read each process's log, for `get_process_logs` with `since_last`.
final class SessionCursors: @unchecked Sendable {
    private let lock = NSLock()
    private var cursors: [String: LogCursor] = [:]

    func get(_ name: String) -> LogCursor? {
        lock.lock()
        defer { lock.unlock() }
        return cursors[name]
    }

    func set(_ name: String, _ cursor: LogCursor) {
        lock.lock()
        cursors[name] = cursor
        lock.unlock()
    }
}
