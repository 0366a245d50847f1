import Foundation
import Testing

@Suite("What a person sees: hints after failures, cut matches, lines per process")
struct PolishTests {
    @Test("a failed start says how to run another command; a failed restart shows its last output too")
    func failureHints() throws {
        let fixture = try CLIFixture()
        defer { fixture.cleanUp() }
        let failed = try fixture.run("start", "bad", "--", "sh", "-c", "echo no-such-config >&2; exit 3")
        #expect(failed.status == 1)
        #expect(failed.stderr.contains("no-such-config"))
        #expect(failed.stderr.contains("'runit start bad -- PROGRAM ARGS…'"), "\(failed.stderr)")
        #expect(failed.stderr.contains("'runit start bad' alone runs the same one again"))
        let restarted = try fixture.run("restart", "bad")
        #expect(restarted.status == 1)
        #expect(
            restarted.stderr.contains("its last output:") && restarted.stderr.contains("no-such-config"), "\(restarted.stderr)")
        #expect(try fixture.run("start", "up", "--", "sleep", "300").status == 0)
        let again = try fixture.run("start", "up", "--", "sleep", "301")
        #expect(again.status != 0 && again.stderr.contains("--replace"), "\(again.stderr)")
    }

    @Test("--grep says when --lines cut the matches; --lines 0 shows them all; --lines counts per process")
    func linesAndMatches() throws {
        let fixture = try CLIFixture()
        defer { fixture.cleanUp() }
        #expect(
            try fixture.run("start", "many", "--", "sh", "-c", "for i in $(seq 1 30); do echo match-$i; done; sleep 300").status
                == 0)
        #expect(try fixture.run("start", "few", "--", "sh", "-c", "echo few-1; echo few-2; sleep 300").status == 0)
        #expect(fixture.eventually { try fixture.run("logs", "many").stdout.contains("match-30") })
        #expect(fixture.eventually { try fixture.run("logs", "few").stdout.contains("few-2") })
        let cut = try fixture.run("logs", "many", "--grep", "match", "--lines", "5")
        #expect(cut.stdout.split(separator: "\n").map(String.init) == (26...30).map { "match-\($0)" })
        #expect(cut.stderr.contains("more lines match than the 5 shown"), "\(cut.stderr)")
        let whole = try fixture.run("logs", "many", "--grep", "match", "--lines", "30")
        #expect(whole.stderr.isEmpty, "nothing was cut: \(whole.stderr)")
        let all = try fixture.run("logs", "many", "--grep", "match", "--lines", "0")
        #expect(all.stdout.split(separator: "\n").count == 30 && all.stderr.isEmpty)
        // Two processes, --lines 2: the last two of each, not the last two of both.
        let both = try fixture.run("logs", "many", "few", "--lines", "2").stdout
        #expect(both.contains("match-30") && both.contains("match-29") && both.contains("few-2"), "\(both)")
        #expect(!both.contains("match-28"))
    }
}

extension PolishTests {
    @Test("a name with control characters is echoed in errors with them visible, never sent raw to the terminal")
    func controlCharactersInNames() throws {
        let fixture = try CLIFixture()
        defer { fixture.cleanUp() }
        let name = "a\u{1B}[31mred\nb\rc"
        let folder = try fixture.project("processes:\n  web:\n    command: sleep 300\n")
        for (arguments, cwd) in [
            (["start", name, "--", "true"], nil), (["logs", name], nil), (["status", name], nil),
            (["up", name], folder), (["stop", name], nil),
        ] as [([String], String?)] {
            let result = try fixture.run(arguments, cwd: cwd)
            #expect(result.status != 0, "\(arguments[0])")
            #expect(!result.stderr.contains("\u{1B}") && !result.stderr.contains("\r"), "\(arguments[0]): \(result.stderr)")
            #expect(result.stderr.contains("a\\e[31mred\\nb\\rc"), "\(arguments[0]): \(result.stderr)")
            #expect(result.stderr.split(separator: "\n").count == 1, "\(arguments[0]) broke the line: \(result.stderr)")
        }
    }
}
