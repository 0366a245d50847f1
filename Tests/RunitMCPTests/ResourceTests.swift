import Foundation
import MCP
import PropertyBased
import Testing

@testable import RunitMCP

@Suite("Resources and who hears of their changes")
struct ResourceTests {
    @Test("every name round-trips through its URIs; a project's name is written with %2F")
    func roundTrip() async {
        let part = Gen.element(of: Array("abcXYZ019._-")).array(of: 0...12)
        await propertyCheck(input: part, part, Gen.bool) { project, base, inProject in
            let (project, base) = ("p" + String(project.compactMap { $0 }), "n" + String(base.compactMap { $0 }))
            let name = inProject ? "\(project)/\(base)" : base
            for uri in [ResourceURI.status(name), .logs(name)] {
                #expect((try? ResourceURI(uri.text)) == uri, "\(uri.text)")
                #expect(!uri.text.dropFirst("runit://processes/".count).contains("/") || uri.text.hasSuffix("/logs"))
            }
        }
        #expect(ResourceURI.status("shop/logs").text == "runit://processes/shop%2Flogs")
        #expect((try? ResourceURI("runit://processes/shop/logs")) == .logs("shop"))
        #expect((try? ResourceURI("runit://processes")) == .list)
    }

    @Test(
        "anything else is refused with the URIs there are",
        arguments: [
            "runit://processes/", "runit://processes/../etc", "runit://processes/a%20b", "file:///etc/passwd",
            "runit://processes/a/b/c", "runit://processes//logs", String(repeating: "x", count: 10_000),
        ])
    func refused(_ text: String) {
        #expect(throws: MCPError.self) { try ResourceURI(text) }
        do {
            _ = try ResourceURI(text)
        } catch {
            #expect("\(error)".contains("runit://processes/{name}/logs"))
            #expect("\(error)".count < 600, "the error echoes a long URI whole")
        }
    }

    @Test("an update goes to the session's subscription and to each stream that asked, tagged with its id")
    func delivery() async throws {
        let sent = Sent()
        let interest = Sent()
        let subscriptions = Subscriptions(
            send: { sent.append(String(decoding: $0, as: UTF8.self)) },
            interestChanged: { interest.append($0.sorted().joined(separator: ",")) })
        subscriptions.subscribe(.status("web"))
        subscriptions.subscribe(.logs("web"))
        #expect(interest.last == "web")
        let stream = Task {
            await subscriptions.listen(
                id: "L",
                filter: [
                    "resourcesListChanged": true, "resourceSubscriptions": ["runit://processes/web", "runit://processes/gone"],
                ],
                names: ["web"])
        }
        try await until { sent.all.contains { $0.contains("acknowledged") } }
        #expect(
            sent.all[0].contains(
                #""notifications":{"resourceSubscriptions":["runit://processes/web"],"resourcesListChanged":true}"#))
        subscriptions.deliver(.updated(.status("web")))
        subscriptions.deliver(.updated(.status("other")))
        subscriptions.deliver(.listChanged)
        let messages = sent.all.dropFirst()
        #expect(messages.filter { $0.contains("runit://processes/web\"") }.count == 2)
        #expect(messages.filter { $0.contains(#""io.modelcontextprotocol/subscriptionId":"L""#) }.count == 2)
        #expect(!messages.contains { $0.contains("other") })
        subscriptions.unsubscribe(.logs("web"))
        #expect(interest.last == "")
        subscriptions.endAll()
        await stream.value
        let before = sent.all.count
        subscriptions.deliver(.listChanged)
        #expect(sent.all.count == before + 1, "an ended stream hears nothing more")
    }

    @Test("a stream cancelled before it opened ends at once")
    func cancelledEarly() async {
        let subscriptions = Subscriptions(send: { _ in }, interestChanged: { _ in })
        let stream = Task { await subscriptions.listen(id: 1, filter: nil, names: []) }
        stream.cancel()
        await stream.value
    }

    private func until(_ condition: () -> Bool) async throws {
        for _ in 0..<500 where !condition() { try await Task.sleep(nanoseconds: 10_000_000) }
        #expect(condition())
    }
}

/// Messages collected from another thread.
private final class Sent: @unchecked Sendable {
    private let lock = NSLock()
    private var values: [String] = []

    func append(_ value: String) {
        lock.lock()
        values.append(value)
        lock.unlock()
    }

    var all: [String] {
        lock.lock()
        defer { lock.unlock() }
        return values
    }

    var last: String? { all.last }
}
