import Foundation
import MCP
import RunitCore
import RunitKit
import Testing

@testable import RunitMCP

extension CallTool.Result {
    /// The `text` of each line of a get_process_logs answer.
    var lineTexts: [String] {
        object["lines"]?.arrayValue?.compactMap { $0.objectValue?["text"]?.stringValue } ?? []
    }

    /// The `output` lines of a start or restart answer.
    var output: [String] { object["output"]?.arrayValue?.compactMap(\.stringValue) ?? [] }
}

/// A shell loop printing `count` lines of `width` characters, each starting with `prefix` and its number.
func wideLines(_ count: Int, width: Int, prefix: String = "w") -> String {
    "i=0; while [ $i -lt \(count) ]; do printf '\(prefix)%0\(width)d\\n' $i; i=$((i+1)); done"
}

@Suite("Answers: bounded lines, this run's output, exits seen")
struct AnswerTests {
    @Test("one 100,000-character line is cut with a marker and hides no other line")
    func hugeLine() async {
        let fixture = ToolFixture()
        defer { fixture.cleanUp() }
        let script = "echo before; head -c 100000 /dev/zero | tr '\\0' x; echo; echo after; exec sleep 300"
        #expect(await fixture.call("start_process", ["name": "big", "command": .string(script)]).isError != true)
        _ = await fixture.call("wait_for_process", ["name": "big", "log_regex": "^after$", "timeout_s": 10])
        let logs = await fixture.call("get_process_logs", ["name": "big", "lines": 1000])
        // The supervisor records a line this long in parts; each part comes back cut.
        let texts = logs.lineTexts
        let cut = texts.filter { $0.hasPrefix("xxx") }
        #expect(texts.contains("before") && texts.last == "after")
        #expect(!cut.isEmpty && cut.allSatisfy { $0.count < 2_100 && $0.contains(" more characters)") })
        #expect(logs.text.count < 25_000)
        #expect(logs.object["truncated"] == false)
    }

    @Test("a cursor before a huge line moves past it; truncated only when lines are really left")
    func cursorPastHugeLine() async {
        let fixture = ToolFixture()
        defer { fixture.cleanUp() }
        let script = "echo ready; read l; head -c 100000 /dev/zero | tr '\\0' x; echo; echo after; exec sleep 300"
        #expect(await fixture.call("start_process", ["name": "big", "command": .string(script)]).isError != true)
        _ = await fixture.call("wait_for_process", ["name": "big", "log_regex": "^ready$", "timeout_s": 10])
        let mark = await fixture.call("get_process_logs", ["name": "big", "lines": 1])
        _ = await fixture.call("send_process_input", ["name": "big", "text": "go"])
        _ = await fixture.call("wait_for_process", ["name": "big", "log_regex": "^after$", "timeout_s": 10])
        var cursor = mark.object["cursor"] ?? .null
        var pages: [CallTool.Result] = []
        for _ in 0..<10 {
            let page = await fixture.call("get_process_logs", ["name": "big", "cursor": cursor, "lines": 1])
            pages.append(page)
            cursor = page.object["cursor"] ?? .null
            if page.lineTexts == ["after"] { break }
        }
        #expect(pages.first?.lineTexts.first?.hasPrefix("xxx") == true, "the first page is the start of the huge line")
        #expect(pages.first?.object["truncated"] == true)
        #expect(pages.first?.text.contains("call again with the returned cursor") == true)
        #expect(pages.last?.lineTexts == ["after"])
        #expect(pages.last?.object["truncated"] == false, "exactly one line was left, and it came back")
    }

    @Test("paging with a cursor through 400 wide lines returns each once; a tail's hint never offers the cursor")
    func paging() async {
        let fixture = ToolFixture()
        defer { fixture.cleanUp() }
        let script = "echo ready; read l; " + wideLines(400, width: 200) + "; echo done; exec sleep 300"
        #expect(await fixture.call("start_process", ["name": "pg", "command": .string(script)]).isError != true)
        _ = await fixture.call("wait_for_process", ["name": "pg", "log_regex": "^ready$", "timeout_s": 10])
        var cursor = (await fixture.call("get_process_logs", ["name": "pg", "lines": 1])).object["cursor"] ?? .null
        _ = await fixture.call("send_process_input", ["name": "pg", "text": "go"])
        _ = await fixture.call("wait_for_process", ["name": "pg", "log_regex": "^done$", "timeout_s": 10])
        var seen: [String] = []
        for _ in 0..<10 {
            let page = await fixture.call("get_process_logs", ["name": "pg", "cursor": cursor, "lines": 1000])
            #expect(page.text.count < 25_000)
            seen += page.lineTexts
            cursor = page.object["cursor"] ?? .null
            if page.object["truncated"] == false { break }
        }
        #expect(seen.count == 401)
        #expect(seen.last == "done")

        let tail = await fixture.call("get_process_logs", ["name": "pg", "lines": 1000])
        #expect(tail.object["truncated"] == true)
        #expect(tail.text.contains("narrow with fewer lines, grep or since"))
        #expect(!tail.text.contains("cursor"))
    }

    @Test("start and restart answers are bounded and show the first lines of this run only")
    func firstLinesOfThisRun() async {
        let fixture = ToolFixture()
        defer { fixture.cleanUp() }
        // Each run says goodbye when stopped: that belongs to the old run, not the new one's first lines.
        let script =
            "n=$(cat count 2>/dev/null || echo 0); n=$((n+1)); echo $n > count; trap 'echo bye$n; exit 0' TERM; "
            + "echo run$n; while :; do sleep 0.1; done"
        let started = await fixture.call("start_process", ["name": "r", "command": .string(script)])
        #expect(started.output == ["run1"], "\(started.text)")
        let restarted = await fixture.call("restart_process", ["name": "r"])
        #expect(restarted.output == ["run2"], "\(restarted.text)")
        let replaced = await fixture.call("start_process", ["name": "r", "command": .string(script), "replace": true])
        #expect(replaced.output == ["run3"], "\(replaced.text)")
        let timeout = await fixture.call("wait_for_process", ["name": "r", "log_regex": "never", "timeout_s": 1])
        #expect(timeout.object["last_lines"] == ["run3"])

        let wide = "echo ready; " + wideLines(50, width: 5_000) + "; exec sleep 300"
        let big = await fixture.call(
            "start_process", ["name": "wide", "command": .string(wide), "wait_for": ["log_regex": "^ready$", "timeout_s": 10]])
        #expect(big.output.first == "ready")
        #expect(big.output.allSatisfy { $0.count < 2_100 })
        #expect(big.text.count < 25_000)
        let again = await fixture.call("restart_process", ["name": "wide"])
        #expect(again.output.first == "ready")
        #expect(again.text.count < 25_000)
    }

    @Test("start_process with wait_for reports progress while it waits")
    func startProgress() async {
        let fixture = ToolFixture()
        defer { fixture.cleanUp() }
        let ticks = Ticks()
        let sink = ProgressSink { progress, _ in ticks.add(progress) }
        let result = await fixture.call(
            "start_process",
            ["name": "slow", "argv": ["sleep", "300"], "wait_for": ["log_regex": "never", "timeout_s": 2.5]], progress: sink)
        #expect(result.object["ready"] == false)
        #expect(ticks.count >= 1)
    }

    @Test("a clean exit says exited in text and structured content; a failure after 0.4 s is still seen")
    func exits() async {
        let fixture = ToolFixture()
        defer { fixture.cleanUp() }
        let fine = await fixture.call("start_process", ["name": "fine", "command": "echo fine"])
        #expect(fine.isError != true)
        #expect(fine.text.contains("ran and exited with code 0"))
        #expect(fine.object["process"]?.objectValue?["state"] == "exited")
        #expect(fine.object["process"]?.objectValue?["pid"] == nil || fine.object["process"]?.objectValue?["pid"] == .null)
        #expect(fine.output == ["fine"])

        let late = await fixture.call("start_process", ["name": "late", "command": "sleep 0.4; exit 4"])
        #expect(late.isError == true, "\(late.text)")
        #expect(late.text.contains("exited with code 4"))
        #expect(late.object["process"]?.objectValue?["exit_code"] == 4)
    }
}
