import ArgumentParser
import Foundation
import RunitCore
import RunitKit

/// `runit mcp`: the MCP server on stdio. The server is its own executable, `runit-mcp`,
/// installed beside `runit`, so that every other command stays light; this command
/// replaces itself with it.
struct MCPCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mcp",
        abstract: "Serve runit's tools to an AI assistant over the Model Context Protocol on stdio."
    )

    @Option(name: .long, help: "Only let processes run in this directory or under it; repeatable.")
    var allowDir: [String] = []

    @Option(name: .long, help: "Refuse commands matching this regular expression; repeatable.")
    var denyCommand: [String] = []

    @Flag(name: .long, help: "Serve only the tools that change nothing.")
    var readOnly = false

    // Unconditional, so that `--max-processes -1` is told what is allowed, not that a value is missing.
    @Option(name: .long, parsing: .unconditional, help: "The most processes that may run at once.")
    var maxProcesses: Int?

    func validate() throws {
        // An empty pattern would deny nothing, silently: a rail its owner believes is there.
        if denyCommand.contains(where: \.isEmpty) || allowDir.contains(where: \.isEmpty) {
            throw ValidationError("--deny-command and --allow-dir need a value; an empty one would refuse nothing")
        }
    }

    func run() async throws {
        // Handed to the server as the environment variables it also reads from clients that only pass env.
        func add(_ key: String, _ values: [String]) {
            guard !values.isEmpty else { return }
            let existing = ProcessInfo.processInfo.environment[key].map { [$0] } ?? []
            setenv(key, (existing + values).joined(separator: "\n"), 1)
        }
        add("RUNIT_MCP_ALLOW_DIR", allowDir)
        add("RUNIT_MCP_DENY_COMMAND", denyCommand)
        if readOnly { setenv("RUNIT_MCP_READ_ONLY", "1", 1) }
        if let maxProcesses { setenv("RUNIT_MCP_MAX_PROCESSES", String(maxProcesses), 1) }
        let context = RunitContext.fromEnvironment()
        let server =
            ProcessInfo.processInfo.environment["RUNIT_MCP"]
            ?? URL(fileURLWithPath: context.supervisorPath).deletingLastPathComponent().appendingPathComponent("runit-mcp").path
        guard FileManager.default.isExecutableFile(atPath: server) else {
            throw RunitError(
                .failed, "the MCP server executable \(server) is missing; install runit-mcp beside runit (or set RUNIT_MCP)")
        }
        var arguments: [UnsafeMutablePointer<CChar>?] = [strdup(server), nil]
        execv(server, &arguments)
        throw RunitError(.failed, "cannot start \(server): \(Platform.describe(errno: Platform.lastError))")
    }
}
