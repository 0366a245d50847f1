import Foundation
import RunitCore
import RunitMCP

// `runit mcp` execs this executable: the MCP server on stdio.
// It takes its rails from the environment only; an argument given to it directly (a client set
// up with `runit-mcp --read-only`) would be ignored, and the server run without the rail.
if CommandLine.arguments.count > 1 {
    let given = CommandLine.arguments.dropFirst().joined(separator: " ")
    FileHandle.standardError.write(
        Data(
            ("runit-mcp takes no arguments (given: \(given)); run 'runit mcp \(given)', which passes them on, "
                + "or set RUNIT_MCP_ALLOW_DIR, RUNIT_MCP_DENY_COMMAND, RUNIT_MCP_READ_ONLY or RUNIT_MCP_MAX_PROCESSES\n").utf8))
    exit(2)
}
let rails: GuardRails
do {
    rails = try GuardRails.fromEnvironment(ProcessInfo.processInfo.environment)
} catch {
    FileHandle.standardError.write(Data("runit mcp: \(error.message)\n".utf8))
    exit(2)
}
do {
    try await RunitMCPServer(registry: Registry(context: .fromEnvironment()), rails: rails).run()
} catch {
    FileHandle.standardError.write(Data("runit mcp: \(error)\n".utf8))
    exit(1)
}
