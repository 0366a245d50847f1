import Foundation
import RunitCore
import Testing

@Suite("What the CLI prints, and what it leaves on disk")
struct OutputTests {
    @Test("list shows control characters in a command as escapes, so each row stays one line")
    func controlCharactersEscaped() throws {
        let fixture = try CLIFixture()
        defer { fixture.cleanUp() }
        let command = "exec sleep 300 # a\tb\n\u{1B}[31m"
        #expect(try fixture.run("start", "--name", "ctl", "--command", command).status == 0)
        let list = try fixture.run("list")
        #expect(list.status == 0)
        #expect(!list.stdout.contains("\u{1B}"))
        let lines = list.stdout.split(separator: "\n")
        #expect(lines.count == 2, "header and one row: \(lines)")
        #expect(lines.last?.contains(#"exec sleep 300 # a\tb\n\e[31m"#) == true, "\(lines)")
    }

    @Test("status shows control characters in every value as escapes, so a value cannot fake a field")
    func statusValuesEscaped() throws {
        let fixture = try CLIFixture()
        defer { fixture.cleanUp() }
        let value = "x\npid:       1\n\u{1B}[31mred"
        #expect(try fixture.run("start", "fake", "--env", "NOTE=" + value, "--", "sleep", "300").status == 0)
        let status = try fixture.run("status", "fake")
        #expect(status.status == 0)
        let lines = status.stdout.split(separator: "\n")
        #expect(lines.filter { $0.hasPrefix("pid:") }.count == 1, "\(lines)")
        #expect(status.stdout.contains(#"NOTE=x\npid:       1\n\e[31mred"#), "\(status.stdout)")
        #expect(!status.stdout.contains("\u{1B}"))
    }

    @Test("every state that list and status can show is documented in docs/cli.md")
    func statesDocumented() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let text = try String(contentsOf: root.appendingPathComponent("docs/cli.md"), encoding: .utf8)
        let states = try #require(text.components(separatedBy: "\nStates: ").last?.components(separatedBy: "\n\n").first)
        for state in DisplayState.allCases {
            #expect(states.contains("`\(state.rawValue)`"), "docs/cli.md does not describe the state \(state.rawValue)")
        }
    }

    @Test(
        "NO_COLOR turns colours off only when it is set to a non-empty value",
        .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/script")))
    func noColor() throws {
        let fixture = try CLIFixture()
        defer { fixture.cleanUp() }
        #expect(try fixture.run("start", "painted", "--", "sleep", "300").status == 0)
        let empty = try fixture.onTerminal("list", noColor: "")
        #expect(empty.contains("\u{1B}[32m"), "an empty NO_COLOR keeps colours: \(empty)")
        let set = try fixture.onTerminal("list", noColor: "1")
        #expect(set.contains("running"))
        #expect(!set.contains("\u{1B}["), "NO_COLOR=1 turns them off: \(set)")
    }

    @Test(
        "an atomic write syncs the directory after the rename, so the new file survives a crash",
        .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/strace")))
    func directorySynced() throws {
        let fixture = try CLIFixture()
        defer { fixture.cleanUp() }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/strace")
        let trace = fixture.scratch + "/trace.txt"
        process.arguments = ["-f", "-y", "-e", "trace=fsync", "-o", trace, CLIFixture.binary, "start", "synced", "--", "true"]
        var env = ProcessInfo.processInfo.environment
        env["RUNIT_HOME"] = fixture.home
        process.environment = env
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        let text = try String(contentsOfFile: trace, encoding: .utf8)
        try #require(text.contains("fsync("), "strace could not trace here: \(text.prefix(500))")
        #expect(text.contains("fsync(") && text.contains("<\(fixture.home)/procs/synced>)"), "\(text)")
    }
}
