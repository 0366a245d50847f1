import Foundation
import MCP
import RunitCore
import RunitKit
import Testing

@testable import RunitMCP

/// Tools over a temporary RUNIT_HOME; `cleanUp()` stops every process and deletes the home.
struct ToolFixture {
    let tools: RunitTools
    let base: String

    init() {
        base = FileManager.default.temporaryDirectory.appendingPathComponent("runit-mcp-\(UUID().uuidString.prefix(8))").path
        try? FileManager.default.createDirectory(atPath: base + "/work", withIntermediateDirectories: true)
        let build = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent(".build/debug").path
        let directory = ProcessInfo.processInfo.environment["RUNIT_BIN_DIR"] ?? build
        let context = RunitContext(
            home: base + "/home", supervisorPath: directory + "/runit-supervise", workingDirectory: base + "/work")
        tools = RunitTools(registry: Registry(context: context))
    }

    func call(_ name: String, _ arguments: [String: Value] = [:], progress: ProgressSink? = nil) async -> CallTool.Result {
        await tools.call(name, arguments: arguments, progress: progress)
    }

    func cleanUp() {
        for name in (try? tools.registry.names()) ?? [] { _ = try? tools.registry.stop(name, graceMillis: 1000) }
        try? FileManager.default.removeItem(atPath: base)
    }
}

extension CallTool.Result {
    var text: String {
        if case .text(let text, _, _) = content.first { return text }
        return ""
    }

    var object: [String: Value] { structuredContent?.objectValue ?? [:] }
}

@Suite("MCP tools, called in process")
struct ToolTests {
    @Test("every tool has a description, an object input schema, an output schema and annotations")
    func definitions() {
        let tools = ToolCatalog.tools
        #expect(tools.count == 13)
        for tool in tools {
            #expect((tool.description ?? "").count > 80, "\(tool.name)")
            #expect(tool.inputSchema.objectValue?["type"] == "object")
            #expect(tool.outputSchema?.objectValue?["properties"]?.objectValue?["error"] != nil)
            #expect(tool.annotations.readOnlyHint != nil)
        }
        for tool in tools where tool.name != "list_processes" {
            #expect((tool.description ?? "").contains("Fails with isError"), "\(tool.name) says how it fails")
        }
        let properties = { (tool: String) in
            ToolCatalog.tools.first { $0.name == tool }?.inputSchema.objectValue?["properties"]?.objectValue ?? [:]
        }
        #expect(properties("stop_process")["timeout_s"]?.objectValue?["maximum"] == 300)
        #expect(properties("wait_for_process")["timeout_s"]?.objectValue?["maximum"] == 300)
        #expect(properties("wait_for_process")["port"]?.objectValue?["maximum"] == 65535)
        let waitFor = properties("start_process")["wait_for"]?.objectValue
        #expect(waitFor?["additionalProperties"] == false)
        #expect(waitFor?["properties"]?.objectValue?["port"]?.objectValue?["minimum"] == 1)
        let readOnly = Set(tools.filter { $0.annotations.readOnlyHint == true }.map(\.name))
        #expect(
            readOnly == [
                "list_processes", "get_process_status", "get_process_logs", "wait_for_process", "wait_for_change",
            ])
        let destructive = Set(tools.filter { $0.annotations.destructiveHint == true }.map(\.name))
        #expect(
            destructive == [
                "start_process", "restart_process", "stop_process", "remove_process", "up_project", "down_project",
                "signal_process",
            ])
    }

    @Test("start, status, logs, send, wait and stop a process")
    func lifeCycle() async throws {
        let fixture = ToolFixture()
        defer { fixture.cleanUp() }
        let script = "echo hello; while read l; do echo \"echo:$l\"; done"
        let started = await fixture.call("start_process", ["name": "svc", "command": .string(script)])
        #expect(started.isError != true, "\(started.text)")
        #expect(started.object["process"]?.objectValue?["state"] == "running")

        let sent = await fixture.call("send_process_input", ["name": "svc", "text": "ping"])
        #expect(sent.object["bytes"] == 5)
        let waited = await fixture.call("wait_for_process", ["name": "svc", "log_regex": "echo:ping", "timeout_s": 10])
        #expect(waited.object["outcome"] == "log_match")

        let logs = await fixture.call("get_process_logs", ["name": "svc", "lines": 10])
        let texts = logs.object["lines"]?.arrayValue?.compactMap { $0.objectValue?["text"]?.stringValue } ?? []
        #expect(texts.contains("hello"))
        #expect(texts.contains("echo:ping"))
        #expect(logs.object["truncated"] == false)

        let status = await fixture.call("get_process_status", ["name": "svc"])
        #expect(status.text.contains("svc: running"))
        let list = await fixture.call("list_processes")
        #expect(list.object["processes"]?.arrayValue?.count == 1)

        let stopped = await fixture.call("stop_process", ["name": "svc", "timeout_s": 2])
        #expect(stopped.object["was_running"] == true)
        let again = await fixture.call("stop_process", ["name": "svc"])
        #expect(again.text.contains("was not running"))
        let removed = await fixture.call("remove_process", ["name": "svc"])
        #expect(removed.object["removed"] == true)
    }

    @Test("start_process of a command that fails at once answers the state after the exit, never running")
    func failedStartState() async throws {
        let fixture = ToolFixture()
        defer { fixture.cleanUp() }
        for index in 0..<5 {
            let result = await fixture.call("start_process", ["name": .string("bad\(index)"), "command": "nmp run dev"])
            #expect(result.isError == true)
            #expect(result.text.contains("exited with code 127"), "\(result.text)")
            let process = result.object["process"]?.objectValue ?? [:]
            #expect(process["state"] == "exited", "\(process)")
            #expect(process["pid"] == nil || process["pid"] == .null, "\(process)")
        }
    }

    @Test("start_process with an argv over the kernel's limit fails and leaves no entry")
    func argumentsTooLong() async throws {
        let fixture = ToolFixture()
        defer { fixture.cleanUp() }
        let huge = String(repeating: "x", count: 200_000)
        let result = await fixture.call("start_process", ["name": "huge", "argv": ["echo", .string(huge)]])
        #expect(result.isError == true)
        #expect(result.text.contains("Argument list too long"), "\(result.text.prefix(300))")
        #expect(try fixture.tools.registry.names().isEmpty)
    }

    @Test("bad calls answer with isError and a message, never a crash")
    func errors() async {
        let fixture = ToolFixture()
        defer { fixture.cleanUp() }
        let cases: [(String, [String: Value], String)] = [
            ("no_such_tool", [:], "there is no tool"),
            ("get_process_status", [:], "needs 'name'"),
            ("get_process_status", ["name": 7], "must be a string"),
            ("get_process_status", ["name": "ghost"], "no process named 'ghost'"),
            ("list_processes", ["extra": true], "has no argument 'extra'"),
            ("start_process", ["name": "x"], "needs 'command'"),
            ("start_process", ["name": "x", "argv": ["a", 1]], "array of strings; item 2 is the number 1"),
            ("send_process_input", ["name": "x", "keys": [1]], "'keys' must be an array of strings; item 1 is the number 1"),
            ("start_process", ["name": "x", "command": "true", "env": ["A": 1]], "its key 'A' is the number 1"),
            (
                "start_process", ["name": "x", "command": "true", "wait_for": ["regex": "hi"]],
                "has no key 'regex'; its keys are: cmd, http, log_regex, port, timeout_s"
            ),
            ("start_process", ["name": "x", "command": "true", "wait_for": ["exit": true]], "has no key 'exit'"),
            ("get_process_logs", ["name": "x", "context": 2], "'context' needs 'grep'"),
            ("start_process", ["name": "x", "command": "true", "restart": "sometimes"], "never, on-failure, always"),
            (
                "start_process", ["name": "x", "command": "true", "wait_for": ["timeout_s": 5]],
                "takes one of 'log_regex', 'port', 'http' or 'cmd', not 0"
            ),
            (
                "start_process", ["name": "x", "command": "true", "wait_for": ["log_regex": "up", "port": 8080]],
                "takes one of 'log_regex', 'port', 'http' or 'cmd', not 2"
            ),
            (
                "start_process", ["name": "x", "command": "true", "wait_for": ["http": "https://127.0.0.1/"]],
                "https is not supported"
            ),
            ("start_process", ["name": "x", "command": "true", "wait_for": "soon"], "must be an object"),
            ("wait_for_process", ["name": "x"], "needs 'log_regex', 'port', 'ready: true', 'healthy: true' or 'exit: true'"),
            ("wait_for_process", ["name": "x", "exit": true, "timeout_s": 0], "more than 0"),
            ("wait_for_process", ["name": "x", "port": 70000], "1 to 65535"),
            ("send_process_input", ["name": "x"], "needs 'text'"),
            ("stop_process", ["name": "x", "timeout_s": 1e300], "0 to 300 seconds"),
            ("wait_for_process", ["name": "x", "exit": true, "timeout_s": 1e300], "at most 300 seconds"),
            ("wait_for_process", ["name": "x", "port": -1], "1 to 65535"),
            ("get_process_logs", ["name": "x", "stream": "both"], "out or err"),
            ("get_process_logs", ["name": "x", "lines": 5], "no process named"),
        ]
        for (tool, arguments, message) in cases {
            let result = await fixture.call(tool, arguments)
            #expect(result.isError == true, "\(tool) \(arguments)")
            #expect(result.text.contains(message), "\(tool): \(result.text)")
            #expect(result.object["error"]?.objectValue?["message"]?.stringValue == result.text)
        }
    }

    @Test("logs: stream, context, since and cursor arguments are checked and applied")
    func logArguments() async throws {
        let fixture = ToolFixture()
        defer { fixture.cleanUp() }
        let script = "for i in 1 2 3 4 5; do echo line$i; done; echo problem >&2; exec sleep 300"
        #expect(await fixture.call("start_process", ["name": "l", "command": .string(script)]).isError != true)
        _ = await fixture.call("wait_for_process", ["name": "l", "log_regex": "problem", "timeout_s": 10])
        let bad = await fixture.call("get_process_logs", ["name": "l", "stream": "both"])
        #expect(bad.text.contains("out or err"))
        let badContext = await fixture.call("get_process_logs", ["name": "l", "grep": "line", "context": 50])
        #expect(badContext.text.contains("0 to 20"))
        let errors = await fixture.call("get_process_logs", ["name": "l", "stream": "err"])
        #expect(errors.text.contains("problem"))
        #expect(!errors.text.contains("line1"))
        let context = await fixture.call("get_process_logs", ["name": "l", "grep": "line3", "context": 1])
        let texts = context.object["lines"]?.arrayValue?.compactMap { $0.objectValue?["text"]?.stringValue } ?? []
        #expect(texts == ["line2", "line3", "line4"])
        let since = await fixture.call("get_process_logs", ["name": "l", "since": "1h", "lines": 2])
        #expect(since.object["lines"]?.arrayValue?.count == 2)
        let badSince = await fixture.call("get_process_logs", ["name": "l", "since": "yesterday"])
        #expect(badSince.isError == true)
    }

    @Test("a list answer is bounded: running processes first, then a count of the rest")
    func boundedList() async {
        let fixture = ToolFixture()
        defer { fixture.cleanUp() }
        let tools = RunitTools(registry: fixture.tools.registry, maxListed: 2)
        #expect(await fixture.call("start_process", ["name": "a-done", "command": "exit 0"]).isError != true)
        #expect(await fixture.call("start_process", ["name": "b-up", "argv": ["sleep", "300"]]).isError != true)
        #expect(await fixture.call("start_process", ["name": "c-up", "argv": ["sleep", "300"]]).isError != true)
        let result = await tools.call("list_processes", arguments: [:])
        let names = result.object["processes"]?.arrayValue?.compactMap { $0.objectValue?["name"]?.stringValue }
        #expect(names == ["b-up", "c-up"])
        #expect(result.object["total"] == 3)
        #expect(result.object["truncated"] == true)
        #expect(result.text.contains("1 more not shown"))
    }

    @Test("a long log answer is cut to about 20,000 characters and says so")
    func boundedLogs() async {
        let fixture = ToolFixture()
        defer { fixture.cleanUp() }
        let script = "i=0; while [ $i -lt 400 ]; do printf '%0200d\\n' $i; i=$((i+1)); done; echo done; exec sleep 300"
        #expect(await fixture.call("start_process", ["name": "big", "command": .string(script)]).isError != true)
        _ = await fixture.call("wait_for_process", ["name": "big", "log_regex": "^done$", "timeout_s": 10])
        let logs = await fixture.call("get_process_logs", ["name": "big", "lines": 1000])
        #expect(logs.object["truncated"] == true)
        #expect(logs.text.count < 25_000)
        #expect(logs.text.contains("left out"))
    }

    @Test("a wait that times out reports the last lines, and progress is reported while waiting")
    func waitTimeoutWithProgress() async {
        let fixture = ToolFixture()
        defer { fixture.cleanUp() }
        #expect(await fixture.call("start_process", ["name": "w", "command": "echo only line; exec sleep 300"]).isError != true)
        let ticks = Ticks()
        let sink = ProgressSink { progress, _ in ticks.add(progress) }
        let result = await fixture.call(
            "wait_for_process", ["name": "w", "log_regex": "never", "timeout_s": 2.5], progress: sink)
        #expect(result.object["outcome"] == "timeout")
        #expect(result.object["last_lines"] == ["only line"])
        #expect(ticks.count >= 1)
    }
}

/// Progress values collected from another thread.
final class Ticks: @unchecked Sendable {
    // Guarded by `lock`.
    private let lock = NSLock()
    private var values: [Double] = []

    func add(_ value: Double) {
        lock.lock()
        values.append(value)
        lock.unlock()
    }

    var count: Int {
        lock.lock()
        defer { lock.unlock() }
        return values.count
    }
}
