import Foundation
import MCP
import RunitCore

/// The MCP server over stdio (placeholder until the tools land).
public struct RunitMCPServer: Sendable {
    let registry: Registry

    /// A server over `registry`.
    public init(registry: Registry) {
        self.registry = registry
    }

    /// Serves until the client closes stdin.
    public func run() async throws {}
}
