import Foundation
import MCP
import RunitCore

/// `subscriptions/listen` (the 2026-07-28 revision): one long-lived request that carries the
/// notifications its filter asks for, each tagged with the request's id, until the client
/// cancels it or the server ends it with its result.
enum SubscriptionsListen: Method {
    static let name = "subscriptions/listen"

    struct Parameters: Codable, Hashable, Sendable {
        /// What the client wants: `resourcesListChanged`, `resourceSubscriptions` (URIs), …
        var notifications: Value?
        /// The request's own id, put here by the transport (the SDK gives a handler no id).
        var requestID: Value?

        enum CodingKeys: String, CodingKey {
            case notifications
            case requestID = "runit/requestId"
        }
    }

    /// `request` with its id copied into its params, when it is a `subscriptions/listen`
    /// request; nil for every other message.
    static func tagged(_ message: Data) -> Data? {
        guard message.range(of: Data(name.utf8)) != nil,
            var object = try? JSONDecoder().decode([String: Value].self, from: message),
            object["method"]?.stringValue == name, let id = object["id"]
        else { return nil }
        var params = object["params"]?.objectValue ?? [:]
        params[Parameters.CodingKeys.requestID.rawValue] = id
        object["params"] = .object(params)
        return try? JSONEncoder().encode(object)
    }
}

/// Who listens for what, and the notifications that follow from a change: the session's
/// `resources/subscribe` URIs (2025-11-25) and each open `subscriptions/listen` stream.
final class Subscriptions: @unchecked Sendable {
    private struct Stream {
        var id: Value
        var listChanged: Bool
        var uris: Set<ResourceURI>
        var done: CheckedContinuation<Void, Never>?
    }

    static let metaKey = "io.modelcontextprotocol/subscriptionId"
    /// The most URIs one stream honours; the acknowledgement names those it took.
    static let maxURIs = 1000

    private let send: @Sendable (Data) -> Void
    private let interestChanged: @Sendable (Set<String>) -> Void
    // Guarded by `lock`.
    private let lock = NSLock()
    private var subscribed: Set<ResourceURI> = []
    private var streams: [String: Stream] = [:]

    /// Sends each notification (as JSON) with `send`, in order; tells `interestChanged` the
    /// processes whose logs someone listens to.
    init(send: @escaping @Sendable (Data) -> Void, interestChanged: @escaping @Sendable (Set<String>) -> Void) {
        self.send = send
        self.interestChanged = interestChanged
    }

    func subscribe(_ uri: ResourceURI) {
        update { $0.subscribed.insert(uri) }
    }

    func unsubscribe(_ uri: ResourceURI) {
        update { $0.subscribed.remove(uri) }
    }

    /// Opens a stream for a `subscriptions/listen` request: acknowledges the part of `filter`
    /// this server honours (first, as the protocol asks), then returns when the stream ends.
    func listen(id: Value, filter: Value?, names: Set<String>) async {
        let asked = filter?.objectValue ?? [:]
        var honoured: [String: Value] = [:]
        var uris: Set<ResourceURI> = []
        for text in asked["resourceSubscriptions"]?.arrayValue?.compactMap(\.stringValue) ?? [] {
            guard uris.count < Self.maxURIs else { break }
            guard let uri = try? ResourceURI(text), uri.name.map(names.contains) ?? true else { continue }
            uris.insert(uri)
        }
        let listChanged = asked["resourcesListChanged"]?.boolValue == true
        if listChanged { honoured["resourcesListChanged"] = true }
        if !uris.isEmpty { honoured["resourceSubscriptions"] = .array(uris.map(\.text).sorted().map { .string($0) }) }
        let key = PendingReplies.key(id) ?? "\(id)"
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                lock.lock()
                send(Self.message("notifications/subscriptions/acknowledged", ["notifications": .object(honoured)], stream: id))
                // Cancelled before this point: the cancel handler found nothing to end.
                let cancelled = Task.isCancelled
                if !cancelled { streams[key] = Stream(id: id, listChanged: listChanged, uris: uris, done: continuation) }
                let interest = logInterest
                lock.unlock()
                interestChanged(interest)
                if cancelled { continuation.resume() }
            }
        } onCancel: {
            end(key)
        }
    }

    /// Ends every stream (the client closed its input): each gets its result.
    func endAll() {
        lock.lock()
        let keys = Array(streams.keys)
        lock.unlock()
        for key in keys { end(key) }
    }

    private func end(_ key: String) {
        lock.lock()
        let done = streams.removeValue(forKey: key)?.done
        let interest = logInterest
        lock.unlock()
        interestChanged(interest)
        done?.resume()
    }

    /// Sends what follows from `change` to whoever listens for it.
    func deliver(_ change: ResourceWatcher.Change) {
        lock.lock()
        defer { lock.unlock() }
        switch change {
        case .listChanged:
            send(Self.message("notifications/resources/list_changed", [:], stream: nil))
            for stream in streams.values where stream.listChanged {
                send(Self.message("notifications/resources/list_changed", [:], stream: stream.id))
            }
        case .updated(let uri):
            let params: [String: Value] = ["uri": .string(uri.text)]
            if subscribed.contains(uri) { send(Self.message("notifications/resources/updated", params, stream: nil)) }
            for stream in streams.values where stream.uris.contains(uri) {
                send(Self.message("notifications/resources/updated", params, stream: stream.id))
            }
        }
    }

    /// The processes whose logs someone listens to. Call with `lock` held.
    private var logInterest: Set<String> {
        var names: Set<String> = []
        for uri in subscribed.union(streams.values.flatMap(\.uris)) {
            if case .logs(let name) = uri { names.insert(name) }
        }
        return names
    }

    private func update(_ change: (Subscriptions) -> Void) {
        lock.lock()
        change(self)
        let interest = logInterest
        lock.unlock()
        interestChanged(interest)
    }

    static func message(_ method: String, _ params: [String: Value], stream: Value?) -> Data {
        var params = params
        if let stream { params["_meta"] = [metaKey: stream] }
        let object: [String: Value] = ["jsonrpc": "2.0", "method": .string(method), "params": .object(params)]
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(object)) ?? Data()
    }
}
