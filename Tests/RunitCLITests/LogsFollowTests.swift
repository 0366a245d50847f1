import Foundation
import Testing

@Suite("runit logs --follow across rotations")
struct LogsFollowTests {
    /// Starts `burst`: it prints `seq 1 COUNT` through `filter` when sent `burst`, and `got LINE` for any other line.
    func startBurster(_ fixture: CLIFixture, maxSize: String, keep: Int, count: Int, filter: String = "cat") throws {
        let script =
            "while read line; do if [ \"$line\" = burst ]; then seq 1 \(count) | \(filter); else echo \"got $line\"; fi; done"
        let start = try fixture.run(
            ["start", "--name", "burst", "--log-max-size", maxSize, "--log-keep", "\(keep)", "--", "/bin/sh", "-c", script])
        #expect(start.status == 0, "\(start.stderr)")
    }

    /// A follower of `burst` that has printed `got ping`, so it is past its first read and following.
    func readyFollower(_ fixture: CLIFixture, options: [String]) throws -> Follower {
        let follower = Follower(fixture: fixture, name: "burst", options: options)
        do {
            #expect(try fixture.run("send", "burst", "ping").status == 0)
        } catch {
            follower.stop()
            throw error
        }
        #expect(follower.waitFor("got ping"))
        return follower
    }

    @Test("--follow --grep shows only matching lines, and all of them, across many rotations")
    func followGrepAcrossRotations() throws {
        let fixture = try CLIFixture()
        defer { fixture.cleanUp() }
        let count = 20000
        try startBurster(
            fixture, maxSize: "16K", keep: 1000, count: count, filter: "awk '{ print \"match \" $1; print \"other \" $1 }'")
        let follower = try readyFollower(fixture, options: ["--grep", "^(match|got)"])
        defer { follower.stop() }
        #expect(try fixture.run("send", "burst", "burst").status == 0)
        #expect(follower.waitFor("match \(count)", timeout: 60))
        #expect(FileManager.default.fileExists(atPath: fixture.home + "/procs/burst/logs/previous.20.log"))
        let lines = follower.output.split(separator: "\n").map(String.init)
        let strays = lines.filter { !$0.hasPrefix("match ") && !$0.hasPrefix("got ") }
        #expect(strays.isEmpty, "\(strays.count) lines that do not match, such as \(strays.prefix(3))")
        #expect(difference(lines.filter { $0.hasPrefix("match ") }, (1...count).map { "match \($0)" }) == nil)
    }

    @Test("--follow after current.log is deleted by hand goes on with the new one, re-reading nothing")
    func followAfterCurrentDeleted() throws {
        let fixture = try CLIFixture()
        defer { fixture.cleanUp() }
        try startBurster(fixture, maxSize: "4K", keep: 5, count: 1000)
        #expect(try fixture.run("send", "burst", "burst").status == 0)
        let logs = fixture.home + "/procs/burst/logs"
        #expect(fixture.eventually { FileManager.default.fileExists(atPath: logs + "/previous.3.log") })
        let follower = try readyFollower(fixture, options: [])
        defer { follower.stop() }
        try FileManager.default.removeItem(atPath: logs + "/current.log")
        #expect(try fixture.run("send", "burst", "after").status == 0)
        #expect(follower.waitFor("got after"))
        #expect(try fixture.run("send", "burst", "again").status == 0)
        #expect(follower.waitFor("got again"))
        let lines = follower.output.split(separator: "\n").map(String.init)
        let afterPing = lines.drop { $0 != "got ping" }
        #expect(Array(afterPing) == ["got ping", "got after", "got again"], "\(afterPing.prefix(10))")
        let numbers = lines.filter { Int($0) != nil }
        #expect(Set(numbers).count == numbers.count, "no file was read twice")
    }

    @Test("--follow of a current.log moved out of the folder goes on with the new one after the rotation")
    func followAfterCurrentMoved() throws {
        let fixture = try CLIFixture()
        defer { fixture.cleanUp() }
        // Enough kept files that none is deleted before the follower reaches it.
        try startBurster(fixture, maxSize: "4K", keep: 50, count: 1000)
        let logs = fixture.home + "/procs/burst/logs"
        let follower = try readyFollower(fixture, options: [])
        defer { follower.stop() }
        try FileManager.default.moveItem(atPath: logs + "/current.log", toPath: fixture.scratch + "/saved.log")
        // The supervisor writes on into the moved file until it passes the size, then starts a new one.
        #expect(try fixture.run("send", "burst", "burst").status == 0)
        #expect(try fixture.run("send", "burst", "after").status == 0)
        #expect(follower.waitFor("got after"))
        let numbers = follower.output.split(separator: "\n").filter { Int($0) != nil }.map(String.init)
        #expect(difference(numbers, (1...1000).map(String.init)) == nil)
    }

    @Test("--follow with an --until a moment ahead ends once that time has passed")
    func followUntilFuture() throws {
        let fixture = try CLIFixture()
        defer { fixture.cleanUp() }
        try startBurster(fixture, maxSize: "1M", keep: 2, count: 1)
        let until = ISO8601DateFormatter().string(from: Date().addingTimeInterval(2))
        let follower = Follower(fixture: fixture, name: "burst", options: ["--until", until])
        defer { follower.stop() }
        #expect(follower.endsBy(20), "the follow went on past --until")
    }

    @Test("--follow ends when the process is removed, and says so on stderr with exit 1")
    func followEndsOnRemove() throws {
        let fixture = try CLIFixture()
        defer { fixture.cleanUp() }
        try startBurster(fixture, maxSize: "1M", keep: 2, count: 1)
        let follower = try readyFollower(fixture, options: [])
        defer { follower.stop() }
        #expect(try fixture.run("remove", "burst").status == 0)
        try #require(follower.endsBy(10), "the follow went on after the remove")
        #expect(follower.exitStatus == 1)
        #expect(
            fixture.eventually(timeout: 2) { follower.errorOutput.contains("'burst' was removed") }, "\(follower.errorOutput)")
        // A new process of the same name is another process: a follow of the old one ends too.
        try startBurster(fixture, maxSize: "1M", keep: 2, count: 1)
        let second = try readyFollower(fixture, options: [])
        defer { second.stop() }
        #expect(try fixture.run("remove", "burst").status == 0)
        try startBurster(fixture, maxSize: "1M", keep: 2, count: 1)
        try #require(second.endsBy(10), "the follow went on with the new process")
        #expect(second.exitStatus == 1)
    }

    @Test("--follow of a fast writer with --log-keep 3 sees every line once, across many rotations")
    func followFastWriterWithFewFiles() throws {
        let fixture = try CLIFixture()
        defer { fixture.cleanUp() }
        let count = 20000
        // Bursts of 200 lines (about 7 KB): a rotation every few bursts, while a follower on a
        // loaded machine stays well within the three kept files (a file deleted before it is
        // opened is gone).
        let paced = "while read n; do seq $((n - 199)) $n; sleep 0.05; done"
        try startBurster(fixture, maxSize: "16K", keep: 3, count: count / 200, filter: "awk '{ print $1 * 200 }' | \(paced)")
        let follower = try readyFollower(fixture, options: [])
        defer { follower.stop() }
        #expect(try fixture.run("send", "burst", "burst").status == 0)
        #expect(follower.waitFor("\n\(count)\n", timeout: 60))
        let numbers = follower.output.split(separator: "\n").filter { Int($0) != nil }.map(String.init)
        #expect(difference(numbers, (1...count).map(String.init)) == nil)
    }
}

/// Nil when `seen` is `expected`; else a short account of the first difference (not both arrays).
func difference(_ seen: [String], _ expected: [String]) -> String? {
    guard seen != expected else { return nil }
    let common = min(seen.count, expected.count)
    let index = (0..<common).first { seen[$0] != expected[$0] } ?? common
    let got = index < seen.count ? seen[index] : "the end"
    let wanted = index < expected.count ? expected[index] : "the end"
    return "\(seen.count) lines, \(expected.count) expected; line \(index + 1) is '\(got)', expected '\(wanted)'"
}
