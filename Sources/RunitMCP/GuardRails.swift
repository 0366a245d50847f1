import Foundation
import RunitCore
import RunitKit

/// What the person who runs the MCP server allows its client to do: `runit mcp --allow-dir DIR
/// --deny-command REGEX --read-only --max-processes N`, or the same as environment variables
/// for clients that only pass env (`RUNIT_MCP_ALLOW_DIR`, `RUNIT_MCP_DENY_COMMAND`, each
/// several values on separate lines; `RUNIT_MCP_READ_ONLY=1`; `RUNIT_MCP_MAX_PROCESSES`).
public struct GuardRails: Sendable {
    /// Directories a process's cwd must lie in (resolved through links); empty: anywhere.
    public var allowedDirectories: [String] = []
    /// Patterns a command (or its argv, joined by spaces) must not match.
    public var deniedCommands: [String] = []
    /// Only the tools that change nothing are listed and served.
    public var readOnly = false
    /// The most processes that may run at once; nil: no limit.
    public var maxProcesses: Int?

    /// The starts admitted and not yet over, shared by every copy of the rails: counted with
    /// the running processes, so that starts at the same time (a project's, or two calls)
    /// cannot each see room for one more.
    let admitted = Admitted()

    /// No limits.
    public init() {}

    /// The rails the environment sets; an error names a bad value.
    public static func fromEnvironment(_ environment: [String: String]) throws(RunitError) -> GuardRails {
        var rails = GuardRails()
        func lines(_ key: String) -> [String] {
            (environment[key] ?? "").split(separator: "\n").map(String.init).filter { !$0.isEmpty }
        }
        for directory in lines("RUNIT_MCP_ALLOW_DIR") {
            let resolved = RunitContext.resolved(RunitContext.absolute(directory, from: FileManager.default.currentDirectoryPath))
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: resolved, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw RunitError(.invalidInput, "--allow-dir '\(directory)' is not a directory")
            }
            rails.allowedDirectories.append(resolved)
        }
        for pattern in lines("RUNIT_MCP_DENY_COMMAND") {
            do {
                _ = try NSRegularExpression(pattern: pattern)
            } catch {
                throw RunitError(.invalidInput, "--deny-command '\(pattern)' is not a valid regular expression")
            }
            rails.deniedCommands.append(pattern)
        }
        if let flag = environment["RUNIT_MCP_READ_ONLY"] {
            // A guard rail fails closed: only a clear "off" leaves the server writable.
            switch flag.lowercased() {
            case "", "0", "false", "no", "off": break
            case "1", "true", "yes", "on": rails.readOnly = true
            default:
                throw RunitError(
                    .invalidInput,
                    "RUNIT_MCP_READ_ONLY '\(flag.prefix(40))' is not a switch: give 1, true, yes or on (or 0, false, no, off)")
            }
        }
        if let text = environment["RUNIT_MCP_MAX_PROCESSES"], !text.isEmpty {
            guard let number = Int(text), number >= 0 else {
                throw RunitError(.invalidInput, "--max-processes '\(text)' is not a number of processes (0 or more)")
            }
            rails.maxProcesses = number
        }
        return rails
    }

    /// Refuses a start that the rails do not allow: its cwd, its command (or the command of its
    /// readiness or health check, which runs in the same shell), or, when `counted`, one process
    /// too many.
    func check(_ request: StartRequest, registry: Registry, counted: Bool = true) throws(RunitError) {
        let cwd = RunitContext.resolved(
            RunitContext.absolute(request.cwd ?? registry.context.workingDirectory, from: registry.context.workingDirectory))
        if !allowedDirectories.isEmpty,
            !allowedDirectories.contains(where: { cwd == $0 || cwd.hasPrefix($0 == "/" ? "/" : $0 + "/") })
        {
            throw RunitError(
                .invalidInput,
                "the working directory \(cwd) is outside the directories this server allows (--allow-dir: "
                    + allowedDirectories.joined(separator: ", ") + ")")
        }
        let commands = [
            (request.command ?? (request.argv ?? []).joined(separator: " "), "commands"),
            (request.policies?.ready.command, "readiness commands"), (request.policies?.health.command, "health commands"),
        ]
        for case (let command?, let kind) in commands {
            for pattern in deniedCommands {
                guard let expression = try? NSRegularExpression(pattern: pattern) else { continue }
                let range = NSRange(command.startIndex..., in: command)
                if expression.firstMatch(in: command, range: range) != nil {
                    throw RunitError(.invalidInput, "this server refuses \(kind) matching '\(pattern)' (--deny-command)")
                }
            }
        }
        if counted, let maxProcesses {
            // Checked and reserved under one lock; `release` ends the reservation once the start is over.
            try admitted.reserve(request.name) { reserved throws(RunitError) in
                let others = reserved.subtracting([request.name])
                let running = ((try? registry.list()) ?? []).filter {
                    $0.isSupervised && $0.name != request.name && !others.contains($0.name)
                }.count
                guard running + others.count < maxProcesses else {
                    throw RunitError(
                        .invalidInput,
                        "\(running + others.count) processes run or are starting, the most this server allows "
                            + "(--max-processes \(maxProcesses)); stop one first")
                }
            }
        }
    }
}

/// The names of starts admitted by the rails and not yet over.
final class Admitted: @unchecked Sendable {
    private let lock = NSLock()
    private var names: Set<String> = []

    /// Runs `check` with the names reserved (under the lock), then reserves `name` if it passed.
    func reserve(_ name: String, _ check: (Set<String>) throws(RunitError) -> Void) throws(RunitError) {
        lock.lock()
        defer { lock.unlock() }
        try check(names)
        names.insert(name)
    }

    /// Ends the reservations of `names`: their starts are over, and they run or failed.
    func release(_ released: [String]) {
        lock.lock()
        names.subtract(released)
        lock.unlock()
    }
}
