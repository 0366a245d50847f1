import ArgumentParser
import Foundation
import RunitCore
import RunitMCP

/// `runit mcp`: the MCP server on stdio.
struct MCPCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mcp",
        abstract: "Serve runit's tools to an AI assistant over the Model Context Protocol on stdio."
    )

    func run() async throws {
        try await RunitMCPServer(registry: Registry(context: .fromEnvironment())).run()
    }
}
