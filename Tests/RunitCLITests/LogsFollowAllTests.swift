import Foundation
import Testing

@Suite("runit logs of several processes, and --follow's window and open lines")
struct LogsFollowAllTests {
    @Test("--follow of every process with --log-keep 0 sees every line once, across many rotations")
    func followAllWithNoKeptFiles() throws {
        let fixture = try CLIFixture()
        defer { fixture.cleanUp() }
        let count = 20000
        // Bursts of 200 lines: a rotation every few bursts, each deleting the file it closes.
        let paced = "while read n; do seq $((n - 199)) $n; sleep 0.05; done"
        let script =
            "while read line; do if [ \"$line\" = burst ]; then seq 1 \(count / 200) | awk '{ print $1 * 200 }' | \(paced); "
            + "else echo \"got $line\"; fi; done"
        let start = try fixture.run(
            ["start", "--name", "burst", "--log-max-size", "64K", "--log-keep", "0", "--", "/bin/sh", "-c", script])
        #expect(start.status == 0, "\(start.stderr)")
        let follower = Follower(fixture: fixture, name: nil)
        defer { follower.stop() }
        #expect(try fixture.run("send", "burst", "ping").status == 0)
        #expect(follower.waitFor("burst | got ping"))
        #expect(try fixture.run("send", "burst", "burst").status == 0)
        #expect(follower.waitFor("burst | \(count)\n", timeout: 90))
        let numbers = follower.output.split(separator: "\n").map { $0.replacing("burst | ", with: "") }.filter { Int($0) != nil }
        #expect(difference(numbers.map(String.init), (1...count).map(String.init)) == nil)
        #expect(!FileManager.default.fileExists(atPath: fixture.home + "/procs/burst/logs/previous.1.log"))
    }

    @Test("--follow --since a moment ahead shows nothing written before that moment")
    func followSinceFuture() throws {
        let fixture = try CLIFixture()
        defer { fixture.cleanUp() }
        let script = "while read line; do echo \"got $line\"; done"
        #expect(try fixture.run("start", "chat", "--", "/bin/sh", "-c", script).status == 0)
        for (index, name) in [(1, "chat"), (2, nil)] as [(Int, String?)] {
            let moment = Date().addingTimeInterval(3)
            let since = ISO8601DateFormatter().string(from: moment.addingTimeInterval(1).rounded())
            let view = Follower(fixture: fixture, name: name, options: ["--since", since])
            defer { view.stop() }
            #expect(try fixture.run("send", "chat", "early \(index)").status == 0)
            #expect(fixture.eventually { try fixture.run("logs", "chat").stdout.contains("got early \(index)") })
            Thread.sleep(until: moment.addingTimeInterval(2))
            #expect(try fixture.run("send", "chat", "late \(index)").status == 0)
            #expect(view.waitFor("got late \(index)"))
            #expect(!view.output.contains("got early"), "\(view.output)")
        }
    }

    @Test("a line written in pieces shows as one: merged with other processes, and left open by a follow")
    func piecesInEveryView() throws {
        let fixture = try CLIFixture()
        defer { fixture.cleanUp() }
        let prompt = "printf 'Continue? '; read answer; echo \"answer $answer\"; exec sleep 300"
        // The other one first, so that the prompt is the last line of all, as a follow begins.
        #expect(try fixture.run("start", "other", "--", "/bin/sh", "-c", "echo other-up; exec sleep 300").status == 0)
        #expect(fixture.eventually { try fixture.run("logs", "other").stdout.contains("other-up") })
        #expect(try fixture.run("start", "ask", "--", "/bin/sh", "-c", prompt).status == 0)
        #expect(fixture.eventually { try fixture.run("logs", "ask").stdout.contains("Continue? ") })
        let single = Follower(fixture: fixture, name: "ask")
        defer { single.stop() }
        let merged = Follower(fixture: fixture, name: nil)
        defer { merged.stop() }
        #expect(single.waitFor("Continue? ") && merged.waitFor("ask   | Continue? "))
        #expect(try fixture.run("send", "ask", "yes").status == 0)
        #expect(single.waitFor("Continue? answer yes\n"), "\(single.output)")
        #expect(merged.waitFor("ask   | Continue? answer yes\n"), "\(merged.output)")
        let lines = try fixture.run("logs").stdout.split(separator: "\n")
        #expect(lines.contains("ask   | Continue? answer yes"), "\(lines)")
        #expect(lines.contains("other | other-up"))
    }

    @Test("a follow of a writer that never pauses prints as it goes and ends at --until")
    func followOfNonstopWriter() throws {
        let fixture = try CLIFixture()
        defer { fixture.cleanUp() }
        let start = try fixture.run(
            ["start", "flood", "--log-max-size", "1M", "--log-keep", "1", "--", "/bin/sh", "-c", "exec yes flooding"])
        #expect(start.status == 0, "\(start.stderr)")
        let until = ISO8601DateFormatter().string(from: Date().addingTimeInterval(3))
        let follower = Follower(fixture: fixture, name: "flood", options: ["--until", until])
        defer { follower.stop() }
        #expect(follower.endsBy(30), "the follow went on past --until")
        #expect(follower.output.components(separatedBy: "flooding\n").count > 1000, "it printed as it went")
        #expect(try fixture.run("stop", "flood").status == 0)
    }

    @Test("a redraw written in pieces is not glued together by a follow")
    func followOfRedraws() throws {
        let fixture = try CLIFixture()
        defer { fixture.cleanUp() }
        let script =
            "sleep 0.5; printf '\\rprogress 10%%'; sleep 0.3; printf '\\rprogress 99%%'; sleep 0.3; echo ' done'; exec sleep 300"
        #expect(try fixture.run("start", "bar", "--", "/bin/sh", "-c", script).status == 0)
        let follower = Follower(fixture: fixture, name: "bar")
        defer { follower.stop() }
        #expect(follower.waitFor(" done\n"))
        #expect(!follower.output.contains("10%progress"), "\(follower.output)")
        #expect(try fixture.run("logs", "bar").stdout.contains("progress 99% done"))
    }

    @Test("logs of every process with --grep says when more lines match than were shown")
    func moreMatchNoteInMergedView() throws {
        let fixture = try CLIFixture()
        defer { fixture.cleanUp() }
        #expect(try fixture.run("start", "count", "--", "/bin/sh", "-c", "seq 1 10; exec sleep 300").status == 0)
        #expect(fixture.eventually { try fixture.run("logs", "count").stdout.contains("10") })
        let cut = try fixture.run("logs", "--grep", "^[0-9]", "-n", "2")
        #expect(cut.stdout.split(separator: "\n") == ["count | 9", "count | 10"])
        #expect(cut.stderr.contains("more lines match than the 2 shown"), "\(cut.stderr)")
        let whole = try fixture.run("logs", "--grep", "^1", "-n", "2")
        #expect(whole.stdout.split(separator: "\n") == ["count | 1", "count | 10"])
        #expect(!whole.stderr.contains("more lines match"))
    }
}

extension Date {
    /// This time, to the second below.
    func rounded() -> Date { Date(timeIntervalSince1970: timeIntervalSince1970.rounded(.down)) }
}
