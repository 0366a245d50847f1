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

    @Test("start_process with a PORT another process listens on warns, naming it, and starts")
    func takenPortWarns() async throws {
        let fixture = ToolFixture()
        defer { fixture.cleanUp() }
        #expect(await fixture.call("start_process", ["name": "holder", "argv": pythonServer()]).isError != true)
        let port = await fixture.listeningPort("holder")
        try #require(port > 0, "the server printed no port")
        let holder = try #require(try fixture.tools.registry.report("holder").pid)

        let started = await fixture.call(
            "start_process", ["name": "web", "command": "exec sleep 300", "env": ["PORT": .string("\(port)")]])
        #expect(started.isError != true, "\(started.text)")
        let warnings = started.object["warnings"]?.arrayValue?.compactMap(\.stringValue) ?? []
        #expect(warnings.count == 1, "\(started.object)")
        #expect(warnings.first?.contains("port \(port) is already in use by pid \(holder) (") == true, "\(warnings)")
        #expect(warnings.first?.contains("python3 -c import os, socket, time") == true, "\(warnings)")
        #expect(started.text.contains("\nwarning: 'web' gets PORT=\(port)"), "\(started.text)")
        #expect(started.object["port"] == nil, "no port was asked for")

        let restarted = await fixture.call("restart_process", ["name": "web"])
        #expect(restarted.object["warnings"]?.arrayValue?.count == 1, "\(restarted.object)")
        let quiet = await fixture.call("start_process", ["name": "quiet", "command": "exec sleep 300"])
        #expect(quiet.object["warnings"] == [], "no PORT, no warning")
    }

    @Test("start_process with port auto gives a free PORT the process listens on; a bad port is refused")
    func portAuto() async throws {
        let fixture = ToolFixture()
        defer { fixture.cleanUp() }
        let started = await fixture.call(
            "start_process", ["name": "auto", "argv": pythonServer(fromEnvironment: true), "port": "auto"])
        #expect(started.isError != true, "\(started.text)")
        let port = try #require(started.object["port"]?.intValue)
        #expect(started.text.contains("PORT=\(port)"))
        #expect(await fixture.listeningPort("auto") == port)
        let status = await fixture.call("get_process_status", ["name": "auto"])
        #expect(status.object["process"]?.objectValue?["ports"] == [.int(port)])

        let fixed = await fixture.call("start_process", ["name": "fixed", "command": "exec sleep 300", "port": 40123])
        #expect(fixed.object["port"] == 40123, "\(fixed.text)")
        for bad: Value in [0, 65536, "any", true, 80.5] {
            let refused = await fixture.call("start_process", ["name": "bad", "command": "exec sleep 300", "port": bad])
            #expect(refused.isError == true, "\(bad)")
            #expect(refused.text.contains("port"), "\(refused.text)")
        }
        let twice = await fixture.call(
            "start_process", ["name": "bad", "command": "exec sleep 300", "port": 8080, "env": ["PORT": "8081"]])
        #expect(twice.isError == true && twice.text.contains("given a port twice"), "\(twice.text)")
    }
}
