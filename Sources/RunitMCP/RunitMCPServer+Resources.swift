import Foundation
import MCP
import RunitCore

extension RunitMCPServer {
    /// Serves the processes as resources, with `resources/subscribe` and `subscriptions/listen`;
    /// notifications go out through `send`, in order. Returns the subscriptions, to end at exit.
    static func serveResources(
        on server: Server, tools: RunitTools, watcher: ResourceWatcher, send: @escaping @Sendable (Data) -> Void
    ) async -> Subscriptions {
        let catalog = ResourceCatalog(tools: tools)
        let subscriptions = Subscriptions(send: send, interestChanged: { watcher.watchLogs(of: $0) })
        watcher.start { subscriptions.deliver($0) }
        let exists: @Sendable (String) -> Bool = { (try? tools.registry.existing($0)) != nil }
        await server.withMethodHandler(ListResources.self) { _ in
            let resources = try await RunitTools.offPool { Result { () throws(MCPError) in try catalog.list() } }.get()
            return ListResources.Result(resources: resources)
        }
        await server.withMethodHandler(ListResourceTemplates.self) { _ in
            ListResourceTemplates.Result(templates: ResourceCatalog.templates)
        }
        await server.withMethodHandler(ReadResource.self) { parameters in
            let uri = parameters.uri
            let contents = try await RunitTools.offPool { Result { () throws(MCPError) in try catalog.read(uri) } }.get()
            return ReadResource.Result(contents: contents)
        }
        await server.withMethodHandler(ResourceSubscribe.self) { parameters in
            let uri = try ResourceURI(parameters.uri)
            if let name = uri.name, !exists(name) {
                throw MCPError.invalidParams(
                    "no process named '\(name)'; subscribe to runit://processes to hear when one is added")
            }
            subscriptions.subscribe(uri)
            return Empty()
        }
        await server.withMethodHandler(ResourceUnsubscribe.self) { parameters in
            subscriptions.unsubscribe(try ResourceURI(parameters.uri))
            return Empty()
        }
        await server.withMethodHandler(SubscriptionsListen.self) { parameters in
            guard let id = parameters.requestID else { throw MCPError.invalidRequest("subscriptions/listen needs an id") }
            guard parameters.notifications?.objectValue != nil else {
                throw MCPError.invalidParams(
                    "subscriptions/listen needs params {\"notifications\": {\"resourcesListChanged\": true, "
                        + "\"resourceSubscriptions\": [URI, …]}}")
            }
            let names = await RunitTools.offPool { Set((try? tools.registry.names()) ?? []) }
            await subscriptions.listen(id: id, filter: parameters.notifications, names: names)
            // Cancelled by the client: no answer is sent.
            try Task.checkCancellation()
            return Empty()
        }
        return subscriptions
    }
}
