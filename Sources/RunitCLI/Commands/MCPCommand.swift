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

    func run() async throws {
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
