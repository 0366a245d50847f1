import Foundation
import Testing

@Suite("runit logs: time windows and counts across rotated files")
struct LogsWindowTests {
    /// Starts `counter`: `early`, a pause, `late`, then 1 to 20000, in 16 KiB files; waits for its exit.
    func startCounter(_ fixture: CLIFixture) throws {
        let command = "echo early; sleep 1.2; echo late; seq 1 20000"
        let start = try fixture.run(
            "start", "--name", "counter", "--log-max-size", "16K", "--log-keep", "1000", "--command", command)
        #expect(start.status == 0, "\(start.stderr)")
        #expect(fixture.eventually(timeout: 60) { fixture.state("counter") == "exited" })
        #expect(FileManager.default.fileExists(atPath: fixture.home + "/procs/counter/logs/previous.10.log"))
    }

    @Test("--grep --lines and --since find their lines across rotated files; --until alone stops before")
    func acrossRotatedFiles() throws {
        let fixture = try CLIFixture()
        defer { fixture.cleanUp() }
        try startCounter(fixture)
        let grep = try fixture.run("logs", "counter", "--grep", "^1234.$", "--lines", "5").stdout
        #expect(grep.split(separator: "\n") == ["12345", "12346", "12347", "12348", "12349"])
        let all = try fixture.run("logs", "counter", "--grep", "^1.3$", "--lines", "100").stdout
        #expect(all.split(separator: "\n") == (0...9).map { "1\($0)3"[...] })
        // The time of `late`, from its record.
        let json = try fixture.run("logs", "counter", "--json", "--grep", "^late$").stdout
        let record = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any]
        let late = try #require(record?["time"] as? String)
        let since = try fixture.run("logs", "counter", "--since", late, "--lines", "1000000").stdout.split(separator: "\n")
        #expect(since.first == "late")
        #expect(since.compactMap { Int($0) } == Array(1...20000))
        let until = try fixture.run("logs", "counter", "--until", late).stdout.split(separator: "\n")
        #expect(until.last == "early")
        #expect(!until.contains("late"))
        // Lowercase and space-separated RFC 3339 mean the same time.
        let spaced = late.lowercased().replacingOccurrences(of: "t", with: " ")
        #expect(try fixture.run("logs", "counter", "--until", spaced).stdout.split(separator: "\n") == until)
    }

    @Test("--follow with an --until in the past ends at once; a bad --since lists the accepted forms")
    func pastUntilAndErrors() throws {
        let fixture = try CLIFixture()
        defer { fixture.cleanUp() }
        #expect(try fixture.run("start", "--name", "idle", "--command", "echo hi; exec sleep 300").status == 0)
        let follower = Follower(fixture: fixture, name: "idle", options: ["--until", "2020-01-01T00:00:00Z"])
        defer { follower.stop() }
        #expect(follower.endsBy(10), "the follow ended by itself")
        let bad = try fixture.run("logs", "idle", "--since", "yesterday")
        #expect(bad.status != 0)
        for form in ["Ns", "Nm", "Nh", "Nd", "ms", "RFC 3339"] { #expect(bad.stderr.contains(form), "\(bad.stderr)") }
    }
}
