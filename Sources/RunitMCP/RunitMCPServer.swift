import Foundation
import Logging
import MCP
import RunitCore

/// The MCP server: runit's tools over stdio, on the same registry as the CLI.
public struct RunitMCPServer: Sendable {
    let tools: RunitTools

    /// How long calls still running at end of input may go on before they are ended.
    static let exitGraceNanoseconds: UInt64 = 3_000_000_000

    /// A server over `registry`.
    public init(registry: Registry, rails: GuardRails = GuardRails()) {
        self.tools = RunitTools(registry: registry, rails: rails)
    }

    /// Serves on stdin and stdout until the client closes stdin; replies still being worked
    /// on are finished and sent before it returns.
    public func run() async throws {
        signal(SIGPIPE, SIG_IGN)
        let server = Server(
            name: "runit", version: "0.1.0", title: "runit process manager",
            instructions: """
                runit runs long-lived processes (dev servers, watchers, workers) that outlive this session. \
                Start one with start_process (use wait_for to wait until it is ready), read its output with \
                get_process_logs, and stop or remove it when done. The user sees the same processes in `runit list`.
                """,
            capabilities: .init(resources: .init(subscribe: true, listChanged: true), tools: .init(listChanged: false)))
        let tools = self.tools
        await server.withMethodHandler(ListTools.self) { _ in
            ListTools.Result(tools: tools.definitions)
        }
        await server.withMethodHandler(CallTool.self) { [weak server] parameters in
            var sink: ProgressSink?
            if let token = parameters._meta?.progressToken, let server {
                sink = ProgressSink { progress, message in
                    Task {
                        try? await server.notify(
                            ProgressNotification.message(.init(progressToken: token, progress: progress, message: message)))
                    }
                }
            }
            let result = await tools.call(parameters.name, arguments: parameters.arguments, progress: sink)
            // A cancelled request gets no answer (the SDK sends none for a CancellationError).
            try Task.checkCancellation()
            return result
        }
        await server.withMethodHandler(InvalidToolCall.self) { parameters in
            throw MCPError.invalidParams(parameters.reason)
        }
        let transport = LineTransport()
        // Notifications of changes go out one after another, in the order they happened.
        // Bounded, for a client that stops reading: the oldest notifications go first.
        let (outgoing, queue) = AsyncStream<Data>.makeStream(bufferingPolicy: .bufferingNewest(10_000))
        let sender = Task {
            for await message in outgoing { try? await transport.send(message) }
        }
        let watcher = ResourceWatcher(registry: tools.registry)
        let subscriptions = await Self.serveResources(on: server, tools: tools, watcher: watcher) { queue.yield($0) }
        let client = tools.client
        try await server.start(transport: transport) { info, _ in client.set(info.name) }
        await server.waitUntilCompleted()
        // Nothing more can be asked for: listening streams end with their result.
        watcher.stop()
        subscriptions.endAll()
        queue.finish()
        await sender.value
        // The receive loop ends at end of input; answers still being worked on go out first.
        // A wait that would go on long after the client left is ended after a short grace:
        // it answers as cancelled, and the server exits.
        let grace = Task {
            try await Task.sleep(nanoseconds: Self.exitGraceNanoseconds)
            CancellationFlag.shutdown.set()
        }
        await transport.drain()
        grace.cancel()
    }
}
