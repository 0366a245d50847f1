import Foundation
import MCP
import RunitCore
import RunitKit
import Testing

@testable import RunitMCP

/// What `start_process` is sent is what the process gets (found by a hostile review).
@Suite("start_process passes the text it is sent, and refuses what a process cannot be given")
struct ByteToolTests {
    @Test("characters of the range that stands for raw bytes reach the process as their own UTF-8")
    func escapeRangeCharacters() async throws {
        let fixture = ToolFixture()
        defer { fixture.cleanUp() }
        let out = fixture.base + "/out"
        let script = "printf '%s|%s' \"$1\" \"$XM\" > \"$2\"; exec sleep 300"
        let started = await fixture.call(
            "start_process",
            [
                "name": "pua", "argv": ["sh", "-c", .string(script), "sh", "r\u{10FFFF}", .string(out)],
                "env": ["XM": "v\u{10FF80}"],
            ])
        #expect(started.isError != true, "\(started.text)")
        let expected: [UInt8] = [0x72, 0xF4, 0x8F, 0xBF, 0xBF, 0x7C, 0x76, 0xF4, 0x8F, 0xBE, 0x80]
        var got: [UInt8] = []
        for _ in 0..<100 where got != expected {
            try await Task.sleep(for: .milliseconds(50))
            got = FileManager.default.contents(atPath: out).map(Array.init) ?? []
        }
        #expect(got == expected)
    }

    @Test("a NUL in an argument, a variable or the working directory is refused, naming it")
    func nulRefused() async {
        let fixture = ToolFixture()
        defer { fixture.cleanUp() }
        let cases: [([String: Value], String)] = [
            (["argv": ["echo", "a\u{0}b"]], "an argument of 'n' holds a NUL byte"),
            (["command": "echo a\u{0}b"], "an argument of 'n' holds a NUL byte"),
            (["argv": ["echo"], "env": ["X": "v\u{0}w"]], "an environment entry of 'n' holds a NUL byte"),
            (["argv": ["echo"], "cwd": .string(fixture.base + "\u{0}x")], "the working directory of 'n' holds a NUL byte"),
            (["argv": ["echo"], "health": ["cmd": "false\u{0}; true"]], "the command of --health-cmd of 'n', holds a NUL byte"),
            (["argv": ["echo"], "wait_for": ["cmd": "false\u{0}; true"]], "the command of --ready-cmd of 'n', holds a NUL byte"),
            (["argv": ["echo"], "env": ["X=Y": "v"]], "the env name 'X=Y' is empty or holds '='"),
            (["argv": ["echo"], "env": ["": "v"]], "the env name '' is empty or holds '='"),
        ]
        for (arguments, message) in cases {
            var given = arguments
            given["name"] = "n"
            let result = await fixture.call("start_process", given)
            #expect(result.isError == true && result.text.contains(message), "\(arguments): \(result.text)")
        }
        #expect((try? fixture.tools.registry.names()) ?? [] == [], "a refused start left a process")
    }
}
