import Foundation
import MCP
import RunitCore
import RunitKit
import Testing

@testable import RunitMCP

/// Output with ANSI colour codes, as dev servers print it: patterns match what a reader sees.
@Suite("Patterns match coloured output as it reads")
struct ColourTests {
    /// A Vite-style banner and a red error, printed with escape codes.
    static let script = #"""
        printf '\033[31merror\033[0m: boom\n'; printf 'plain after\n'; \
        printf '  \033[32m➜\033[39m  \033[1mLocal\033[22m:   http://localhost:5173/\n'; exec sleep 300
        """#

    @Test("grep finds a coloured line by its visible text, with context around it")
    func grepColoured() async {
        let fixture = ToolFixture()
        defer { fixture.cleanUp() }
        let started = await fixture.call(
            "start_process",
            ["name": "vite", "command": .string(Self.script), "wait_for": ["log_regex": #"Local:\s+http"#, "timeout_s": 10]])
        #expect(started.object["ready"] == true, "\(started.text)")
        #expect(started.object["ready_line"] == "  ➜  Local:   http://localhost:5173/")

        let grep = await fixture.call("get_process_logs", ["name": "vite", "grep": "error: boom"])
        let texts = grep.object["lines"]?.arrayValue?.compactMap { $0.objectValue?["text"]?.stringValue } ?? []
        #expect(texts == ["error: boom"])

        let context = await fixture.call("get_process_logs", ["name": "vite", "grep": "^error: boom$", "context": 1])
        let around = context.object["lines"]?.arrayValue?.compactMap { $0.objectValue?["text"]?.stringValue } ?? []
        // The line before is runit's own "started" line; the one after is the process's.
        #expect(around.suffix(2) == ["error: boom", "plain after"])
    }

    @Test("wait_for_process matches a Vite banner through its colour codes")
    func waitColoured() async {
        let fixture = ToolFixture()
        defer { fixture.cleanUp() }
        #expect(await fixture.call("start_process", ["name": "vite", "command": .string(Self.script)]).isError != true)
        let waited = await fixture.call(
            "wait_for_process", ["name": "vite", "log_regex": #"Local:\s+http://localhost:\d+"#, "timeout_s": 10])
        #expect(waited.object["outcome"] == "log_match", "\(waited.text)")
        #expect(waited.object["line"] == "  ➜  Local:   http://localhost:5173/")
    }
}
