import Foundation
import MCP
import RunitCore
import RunitKit
import Testing

@testable import RunitMCP

/// A python server's argv: it listens on 127.0.0.1 (port 0, or `$PORT` when `fromEnvironment`),
/// prints `listening on PORT` and runs until stopped.
private func pythonServer(fromEnvironment: Bool = false) -> Value {
    let port = fromEnvironment ? "int(os.environ['PORT'])" : "0"
    let script = """
        import os, socket, time
        s = socket.socket(); s.bind(("127.0.0.1", \(port))); s.listen()
        print("listening on", s.getsockname()[1], flush=True)
        time.sleep(300)
        """
    return ["python3", "-c", .string(script)]
}

extension ToolFixture {
    /// The port that a `pythonServer` started as `name` printed (0 if it printed none in 10 s).
    func listeningPort(_ name: String) async -> Int {
        let waited = await call("wait_for_process", ["name": .string(name), "log_regex": "listening on", "timeout_s": 10])
        return Int(waited.object["line"]?.stringValue?.split(separator: " ").last ?? "") ?? 0
    }
}

@Suite("MCP answers carry ports")
struct PortToolTests {
    @Test("the process schema declares ports, and status and list answers carry the port a server chose")
    func portsInAnswers() async throws {
        let fixture = ToolFixture()
        defer { fixture.cleanUp() }
        #expect(ToolCatalog.process.objectValue?["properties"]?.objectValue?["ports"] != nil)
        let started = await fixture.call("start_process", ["name": "srv", "argv": pythonServer()])
        #expect(started.isError != true, "\(started.text)")
        #expect(started.object["process"]?.objectValue?["ports"]?.arrayValue != nil, "a start answer has ports")
        let port = await fixture.listeningPort("srv")
        try #require(port > 0, "the server printed no port")

        let status = await fixture.call("get_process_status", ["name": "srv"])
        #expect(status.object["process"]?.objectValue?["ports"] == [.int(port)])
        #expect(status.text.contains("listening on :\(port)"), "\(status.text)")
        let list = await fixture.call("list_processes")
        #expect(list.object["processes"]?.arrayValue?.first?.objectValue?["ports"] == [.int(port)])
        #expect(list.text.contains("ports=\(port)"), "\(list.text)")

        let stopped = await fixture.call("stop_process", ["name": "srv", "timeout_s": 2])
        #expect(stopped.object["process"]?.objectValue?["ports"] == [])
    }
}
