import Foundation
import MCP
import RunitCore
import RunitKit
import Testing

@testable import RunitMCP

@Suite("Waiting for log lines, ports and exits")
struct WaitTests {
    @Test("a wait finds a line the current run already printed; after a cursor, only later lines count")
    func logLinesAndCursors() async {
        let fixture = ToolFixture()
        defer { fixture.cleanUp() }
        let script = "echo ready; while read l; do echo \"got $l\"; done"
        #expect(await fixture.call("start_process", ["name": "repl", "command": .string(script)]).isError != true)
        let ready = await fixture.call("wait_for_process", ["name": "repl", "log_regex": "^ready$", "timeout_s": 10])
        #expect(ready.object["outcome"] == "log_match")
        #expect(ready.object["line"] == "ready")

        let mark = await fixture.call("get_process_logs", ["name": "repl"])
        let cursor = mark.object["cursor"] ?? .null
        #expect(await fixture.call("send_process_input", ["name": "repl", "text": "one"]).isError != true)
        let answer = await fixture.call(
            "wait_for_process", ["name": "repl", "log_regex": "^got", "cursor": cursor, "timeout_s": 10])
        #expect(answer.object["line"] == "got one")

        let end = await fixture.call("get_process_logs", ["name": "repl", "cursor": cursor])
        #expect(end.object["lines"]?.arrayValue?.count == 1)
        let nothing = await fixture.call(
            "wait_for_process", ["name": "repl", "log_regex": "^got", "cursor": end.object["cursor"] ?? .null, "timeout_s": 1])
        #expect(nothing.object["outcome"] == "timeout", "'got one' came before the cursor")
        #expect(nothing.object["last_lines"] == ["ready", "got one"])
    }

    @Test("start_process wait_for sees what this run printed at once, never a line of an earlier run")
    func startWaitsOnThisRunOnly() async {
        let fixture = ToolFixture()
        defer { fixture.cleanUp() }
        let first = await fixture.call(
            "start_process",
            ["name": "app", "command": "echo ready; exec sleep 300", "wait_for": ["log_regex": "^ready$", "timeout_s": 10]])
        #expect(first.object["ready"] == true)
        #expect(first.object["ready_line"] == "ready")

        let second = await fixture.call(
            "start_process",
            [
                "name": "app", "command": "echo booting; exec sleep 300", "replace": true,
                "wait_for": ["log_regex": "^ready$", "timeout_s": 1.5],
            ])
        #expect(second.isError != true, "\(second.text)")
        #expect(second.object["ready"] == false)
        #expect(second.text.contains("not ready after 1.5s"))
        #expect(second.object["process"]?.objectValue?["command"] == "echo booting; exec sleep 300")
    }

    @Test("a wait for a port ends when a process of its tree listens there, never another program's listener")
    func port() async throws {
        let fixture = ToolFixture()
        defer { fixture.cleanUp() }
        // Another program holds this one: it must not count.
        let other = try #require(BoundSocket())
        other.listen()
        defer { other.close() }
        #expect(await fixture.call("start_process", ["name": "idle", "argv": ["sleep", "300"]]).isError != true)
        let ignored = await fixture.call("wait_for_process", ["name": "idle", "port": .int(other.port), "timeout_s": 1])
        #expect(ignored.object["outcome"] == "timeout", "\(ignored.text)")

        let script =
            "import socket,time; time.sleep(0.3); s=socket.socket(); s.bind(('127.0.0.1',0)); s.listen(); "
            + "print(s.getsockname()[1], flush=True); time.sleep(300)"
        #expect(
            await fixture.call("start_process", ["name": "srv", "argv": ["python3", "-c", .string(script)]]).isError != true)
        let printed = await fixture.call("wait_for_process", ["name": "srv", "log_regex": "^[0-9]+$", "timeout_s": 30])
        let port = try #require(Int(printed.object["line"]?.stringValue ?? ""))
        let result = await fixture.call("wait_for_process", ["name": "srv", "port": .int(port), "timeout_s": 30])
        #expect(result.object["outcome"] == "port_open", "\(result.text)")
        #expect(result.object["port"] == .int(port))
        #expect(result.text.contains("listens on port \(port)"))
    }

    @Test("a process that ends while waited on is reported at once, with its exit code and last words")
    func exitWhileWaiting() async {
        let fixture = ToolFixture()
        defer { fixture.cleanUp() }
        let crash = await fixture.call(
            "start_process",
            [
                "name": "crash", "command": "sleep 0.5; echo 'fatal: no config' >&2; exit 3",
                "wait_for": ["log_regex": "listening", "timeout_s": 60],
            ])
        #expect(crash.isError == true)
        #expect(crash.text.contains("exited with code 3 before it was ready"))
        #expect(crash.object["output"] == ["fatal: no config"])

        let waited = await fixture.call("wait_for_process", ["name": "crash", "log_regex": "listening", "timeout_s": 60])
        #expect(waited.object["outcome"] == "exited")
        #expect(waited.object["exit_code"] == 3)
    }

    @Test("a cancelled wait_for_process returns at once with outcome cancelled")
    func cancellation() async {
        let fixture = ToolFixture()
        defer { fixture.cleanUp() }
        #expect(await fixture.call("start_process", ["name": "idle", "argv": ["sleep", "300"]]).isError != true)
        let waiting = Task {
            await fixture.call("wait_for_process", ["name": "idle", "log_regex": "never", "timeout_s": 300])
        }
        try? await Task.sleep(for: .milliseconds(300))
        waiting.cancel()
        let result = await waiting.value
        #expect(result.object["outcome"] == "cancelled")
    }

    @Test("start failures come back with isError and the output: a bad cwd, a missing program")
    func startFailures() async {
        let fixture = ToolFixture()
        defer { fixture.cleanUp() }
        let badDirectory = await fixture.call("start_process", ["name": "b", "command": "true", "cwd": "/no/such/dir"])
        #expect(badDirectory.isError == true)
        #expect(badDirectory.text.contains("/no/such/dir"))
        #expect(badDirectory.object["error"]?.objectValue?["code"] == "invalid_input")

        let missing = await fixture.call("start_process", ["name": "m", "argv": ["no-such-program-xyz"]])
        #expect(missing.isError == true)
        #expect(missing.object["failure"] != nil)
        #expect(missing.text.contains("no-such-program-xyz"))

        let running = await fixture.call("start_process", ["name": "r", "argv": ["sleep", "300"]])
        #expect(running.isError != true)
        let duplicate = await fixture.call("start_process", ["name": "r", "argv": ["sleep", "300"]])
        #expect(duplicate.isError == true)
        #expect(duplicate.text.contains("already running"))
        #expect(duplicate.text.contains("restart_process"))
        #expect(duplicate.object["error"]?.objectValue?["code"] == "already_running")
    }
}

/// A TCP socket bound to a free port on 127.0.0.1, listening only once told to.
final class BoundSocket: Sendable {
    let fd: Int32
    let port: Int

    init?() {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        self.fd = fd
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0
            }
        }
        guard fd >= 0, bound else { return nil }
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    func listen() {
        _ = Glibc.listen(fd, 8)
    }

    func close() {
        _ = Glibc.close(fd)
    }
}

extension WaitTests {
    @Test("start_process wait_for: a supervisor that dies during the wait fails the start, and what it left is ended")
    func supervisorDiesDuringTheWait() async {
        let fixture = ToolFixture()
        defer { fixture.cleanUp() }
        let answer = await fixture.call(
            "start_process",
            [
                "name": "doomed", "command": "sleep 0.5; kill -9 $PPID; exec sleep 287",
                "wait_for": ["log_regex": "^never$", "timeout_s": 20],
            ])
        #expect(answer.isError == true)
        #expect(
            answer.text.contains("lost its supervisor") && answer.text.contains("runit ended what it left running"),
            "\(answer.text)")
        let status = await fixture.call("get_process_status", ["name": "doomed"])
        #expect(status.text.hasPrefix("doomed: stopped"), "\(status.text)")
    }
}

extension WaitTests {
    @Test("get_process_logs refuses a log file that is a FIFO, naming it, and never blocks on it")
    func unfitLogFile() async {
        let fixture = ToolFixture()
        defer { fixture.cleanUp() }
        #expect(await fixture.call("start_process", ["name": "f", "command": "echo hi"]).isError != true)
        _ = await fixture.call("wait_for_process", ["name": "f", "exit": true, "timeout_s": 10])
        let log = fixture.base + "/home/procs/f/logs/current.log"
        #expect(unlink(log) == 0 && mkfifo(log, 0o600) == 0)
        let answer = await fixture.call("get_process_logs", ["name": "f"])
        #expect(answer.isError == true)
        #expect(answer.text.contains("current.log, is a FIFO, not a log file"), "\(answer.text)")
    }
}
