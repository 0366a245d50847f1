import Foundation
import MCP

/// The requests read from the client and not yet answered, so that the server sends every
/// answer before it exits, even when the client closes stdin right after its last request.
///
/// The SDK handles each request in a task of its own and ends its receive loop at end of
/// input without waiting for them; counting at the transport covers every method (tools,
/// `tools/list`, `initialize`), not only tool calls.
final class PendingReplies: @unchecked Sendable {
    // `@unchecked`: every stored property is read and written only with `lock` held; the
    // reader thread and the transport's actor both call in.
    private let lock = NSLock()
    private var ids: Set<String> = []
    private var outputBroken = false
    private var waiters: [CheckedContinuation<Void, Never>] = []
    private var ownReplies = 0

    /// Notes a message read from the client: a request waits for its answer; a cancellation
    /// notification means its request will get none.
    func received(_ message: Data) {
        for object in Self.objects(in: message) {
            guard let method = object["method"]?.stringValue else { continue }
            if let id = object["id"].flatMap(Self.key) {
                update { $0.insert(id) }
            } else if method == CancelledNotification.name,
                let id = object["params"]?.objectValue?["requestId"].flatMap(Self.key)
            {
                update { $0.remove(id) }
            }
        }
    }

    /// Notes a message written to the client: an answer settles its request.
    func sent(_ message: Data) {
        for object in Self.objects(in: message) where object["method"] == nil {
            if let id = object["id"].flatMap(Self.key) { update { $0.remove(id) } }
        }
    }

    /// Notes a reply the transport writes itself (to a line that is not JSON, or a request with a
    /// bad envelope), waited for as a request's answer is; `settle` the key once it is written.
    func expectOwnReply() -> String {
        lock.lock()
        ownReplies += 1
        let key = "own:\(ownReplies)"
        lock.unlock()
        update { $0.insert(key) }
        return key
    }

    /// Notes that the transport's own reply `key` was written (or could not be).
    func settle(_ key: String) {
        update { $0.remove(key) }
    }

    /// Notes that the output is gone: nothing more can be sent, so nothing is waited for.
    func outputFailed() {
        update { _ in outputBroken = true }
    }

    /// How many requests are still to be answered.
    var count: Int {
        lock.lock()
        defer { lock.unlock() }
        return ids.count
    }

    /// Returns once every request read so far has been answered (or the output broke).
    func drained() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            lock.lock()
            if ids.isEmpty || outputBroken {
                lock.unlock()
                continuation.resume()
            } else {
                waiters.append(continuation)
                lock.unlock()
            }
        }
    }

    private func update(_ change: (inout Set<String>) -> Void) {
        lock.lock()
        change(&ids)
        var ready: [CheckedContinuation<Void, Never>] = []
        if ids.isEmpty || outputBroken {
            ready = waiters
            waiters.removeAll()
        }
        lock.unlock()
        for waiter in ready { waiter.resume() }
    }

    /// The JSON-RPC objects in one message (a batch is an array of them).
    static func objects(in message: Data) -> [[String: Value]] {
        guard let value = try? JSONDecoder().decode(Value.self, from: message) else { return [] }
        if let object = value.objectValue { return [object] }
        return value.arrayValue?.compactMap(\.objectValue) ?? []
    }

    /// A request id as a set key: strings and numbers kept apart, `1` and `1.0` the same.
    static func key(_ id: Value) -> String? {
        switch id {
        case .string(let string): return "s:" + string
        case .int(let int): return "n:\(int)"
        case .double(let double) where double.rounded() == double && abs(double) < 1e15: return "n:\(Int(double))"
        default: return nil
        }
    }
}
