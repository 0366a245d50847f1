import Foundation
import RunitCore
import RunitMCP

// `runit mcp` execs this executable: the MCP server on stdio.
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
