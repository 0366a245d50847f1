import Foundation
import Testing

@testable import RunitMCP

@Suite("Answers still owed when stdin closes")
struct PendingRepliesTests {
    @Test("a request is owed until its answer is sent or it is cancelled; notifications owe nothing")
    func counting() async {
        let pending = PendingReplies()
        pending.received(Data(#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#.utf8))
        pending.received(Data(#"{"jsonrpc":"2.0","id":"a","method":"tools/call","params":{}}"#.utf8))
        pending.received(Data(#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#.utf8))
        pending.received(Data("not json".utf8))
        #expect(pending.count == 2)

        pending.sent(Data(#"{"jsonrpc":"2.0","method":"notifications/progress","params":{}}"#.utf8))
        pending.sent(Data(#"{"jsonrpc":"2.0","id":1,"result":{}}"#.utf8))
        #expect(pending.count == 1)

        let cancelled = #"{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":"a"}}"#
        pending.received(Data(cancelled.utf8))
        #expect(pending.count == 0)
        await pending.drained()
    }

    @Test("a batch counts each request; the drain waits for the last answer")
    func batchAndDrain() async {
        let pending = PendingReplies()
        pending.received(Data(#"[{"jsonrpc":"2.0","id":1,"method":"ping"},{"jsonrpc":"2.0","id":2,"method":"ping"}]"#.utf8))
        #expect(pending.count == 2)
        let draining = Task { await pending.drained() }
        pending.sent(Data(#"[{"jsonrpc":"2.0","id":1,"result":{}},{"jsonrpc":"2.0","id":2.0,"result":{}}]"#.utf8))
        await draining.value
        #expect(pending.count == 0)
    }

    @Test("when the output breaks, nothing more is waited for")
    func brokenOutput() async {
        let pending = PendingReplies()
        pending.received(Data(#"{"jsonrpc":"2.0","id":7,"method":"tools/call"}"#.utf8))
        let draining = Task { await pending.drained() }
        pending.outputFailed()
        await draining.value
        #expect(pending.count == 1)
    }
}
