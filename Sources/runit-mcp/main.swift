import Foundation
import RunitCore
import RunitMCP

// `runit mcp` execs this executable: the MCP server on stdio.
do {
    try await RunitMCPServer(registry: Registry(context: .fromEnvironment())).run()
} catch {
    FileHandle.standardError.write(Data("runit mcp: \(error)\n".utf8))
    exit(1)
}
