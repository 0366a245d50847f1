import Foundation
import Testing

@Suite("Restart on change: --watch and --watch-ignore")
struct WatchTests {
    /// The pid `runit status` reports for `name`, or 0.
    private func pid(_ fixture: CLIFixture, _ name: String) -> Int {
        (try? fixture.status(name)["pid"] as? Int) ?? 0
    }

    /// Whether `name`'s pid stays `pid` for `seconds` (the debounce is 300 ms).
    private func stays(_ fixture: CLIFixture, _ name: String, _ pid: Int, for seconds: Double = 2) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if self.pid(fixture, name) != pid { return false }
            usleep(100_000)
        }
        return self.pid(fixture, name) == pid
    }

    @Test("--watch restarts on a change, not on one an --watch-ignore glob or node_modules covers; a new folder is watched")
    func restartsOnChange() throws {
        let fixture = try CLIFixture()
        defer { fixture.cleanUp() }
        try fixture.write("v1", to: "proj/src/app.js")
        try fixture.write("{}", to: "proj/node_modules/dep/index.js")
        let start = try fixture.run(
            "start", "--name", "dev", "--cwd", fixture.scratch + "/proj", "--watch", "src", "--watch", ".", "--watch-ignore",
            "*.log", "--command", "echo serving; sleep 300")
        #expect(start.status == 0, "\(start.stderr)")
        let first = pid(fixture, "dev")
        try #require(first > 0)
        usleep(500_000)

        try fixture.write("v2", to: "proj/src/app.js")
        #expect(fixture.eventually(timeout: 15) { pid(fixture, "dev") != first && pid(fixture, "dev") != 0 }, "no restart")
        #expect(fixture.eventually { fixture.state("dev") == "running" })
        let second = pid(fixture, "dev")
        #expect(try fixture.run("logs", "dev").stdout.components(separatedBy: "serving").count - 1 == 2)

        try fixture.write("noise", to: "proj/src/debug.log")
        #expect(stays(fixture, "dev", second), "a change to an ignored *.log restarted it")
        try fixture.write("{\"v\":2}", to: "proj/node_modules/dep/index.js")
        #expect(stays(fixture, "dev", second), "a change under node_modules restarted it")

        try fixture.write("new", to: "proj/src/components/deep/button.js")
        #expect(fixture.eventually(timeout: 15) { ![0, second].contains(pid(fixture, "dev")) }, "a new folder is not watched")
    }

    /// A fixture whose `dev` serves `proj` (holding `a.txt`), restarted on any change under it.
    private func watchedProject() throws -> CLIFixture {
        let fixture = try CLIFixture()
        try fixture.write("v0", to: "proj/a.txt")
        let start = try fixture.run(
            "start", "--name", "dev", "--cwd", fixture.scratch + "/proj", "--watch", ".", "--command", "echo serving; sleep 300")
        #expect(start.status == 0, "\(start.stderr)")
        return fixture
    }

    @Test("a burst of changes is one restart, after the debounce")
    func debounced() throws {
        let fixture = try watchedProject()
        defer { fixture.cleanUp() }
        usleep(500_000)
        for index in 1...10 { try fixture.write("v\(index)", to: "proj/a.txt") }
        #expect(
            fixture.eventually(timeout: 15) {
                try fixture.run("logs", "dev").stdout.components(separatedBy: "serving").count == 3
            })
        usleep(1_500_000)
        #expect(
            try fixture.run("logs", "dev").stdout.components(separatedBy: "serving").count - 1 == 2, "one restart for the burst")
    }

    @Test("changes that never stop restart it 2 s after the first at the latest; an editor's swap file does not")
    func endlessChangesStillRestart() throws {
        let fixture = try watchedProject()
        defer { fixture.cleanUp() }
        let first = pid(fixture, "dev")
        usleep(500_000)
        try fixture.write("swap", to: "proj/.a.txt.swp")
        try fixture.write("backup", to: "proj/a.txt~")
        #expect(stays(fixture, "dev", first), "an editor's swap or backup file restarted it")
        // A write every 100 ms, for 6 s: a debounce of 300 ms alone would never end.
        var restartedWhileWriting = false
        for index in 1...60 {
            try fixture.write("v\(index)", to: "proj/a.txt")
            usleep(100_000)
            if ![0, first].contains(pid(fixture, "dev")) {
                restartedWhileWriting = true
                break
            }
        }
        #expect(restartedWhileWriting, "a stream of changes held the restart back")
    }

    @Test("a file the process writes at each start: after 5 runs its changes no longer restart it, and the log says why")
    func selfWritesStop() throws {
        let fixture = try CLIFixture()
        defer { fixture.cleanUp() }
        try fixture.write("", to: "proj/keep")
        let start = try fixture.run(
            "start", "--name", "dev", "--cwd", fixture.scratch + "/proj", "--watch", ".", "--command",
            "echo serving; date +%s%N > stamp; sleep 300")
        #expect(start.status == 0, "\(start.stderr)")
        #expect(
            fixture.eventually(timeout: 30) {
                try fixture.run("logs", "dev").stdout.contains("seems to write it itself")
            }, "the loop never stopped")
        let settled = pid(fixture, "dev")
        #expect(stays(fixture, "dev", settled, for: 3), "it kept restarting")
        let runs = try fixture.run("logs", "dev").stdout.components(separatedBy: "serving").count - 1
        #expect(runs == 5, "\(runs) runs")
        // A change to another file still restarts it.
        try fixture.write("v2", to: "proj/keep")
        #expect(fixture.eventually(timeout: 15) { ![0, settled].contains(pid(fixture, "dev")) })
    }

    @Test("a --watch path that does not exist is said by name in the log, and the process runs")
    func missingPathSaid() throws {
        let fixture = try CLIFixture()
        defer { fixture.cleanUp() }
        let start = try fixture.run("start", "dev", "--watch", fixture.scratch + "/no-such-dir", "--", "sleep", "300")
        #expect(start.status == 0, "\(start.stderr)")
        #expect(fixture.state("dev") == "running")
        #expect(fixture.eventually { try fixture.run("logs", "dev").stdout.contains("no-such-dir") })
    }
}

extension WatchTests {
    @Test("a watched folder deleted and made again (a clean build, a checkout) is watched again")
    func rootMadeAgain() throws {
        let fixture = try CLIFixture()
        defer { fixture.cleanUp() }
        try fixture.write("v1", to: "proj/dist/app.js")
        let start = try fixture.run(
            "start", "--name", "dev", "--cwd", fixture.scratch + "/proj", "--watch", "dist",
            "--command", "echo serving; sleep 300")
        #expect(start.status == 0, "\(start.stderr)")
        func servings() throws -> Int { try fixture.run("logs", "dev").stdout.components(separatedBy: "serving").count - 1 }
        #expect(fixture.eventually { try servings() == 1 })
        usleep(500_000)
        try FileManager.default.removeItem(atPath: fixture.scratch + "/proj/dist")
        #expect(fixture.eventually(timeout: 15) { try fixture.run("logs", "dev").stdout.contains("'dist' was deleted") })
        try fixture.write("v2", to: "proj/dist/app.js")
        #expect(fixture.eventually(timeout: 15) { try fixture.run("logs", "dev").stdout.contains("'dist' is back") })
        // One restart, once it is back: none at the deletion, which would run without it.
        #expect(fixture.eventually { try servings() == 2 })
        usleep(1_500_000)
        let logs = try fixture.run("logs", "dev").stdout
        #expect(try servings() == 2, "not one restart for the deletion and the return: \(logs)")
        #expect(logs.components(separatedBy: "restarting: ").count - 1 == 1, "restarted for the deletion: \(logs)")
        #expect(fixture.state("dev") == "running")
        let restarted = try servings()
        try fixture.write("v3", to: "proj/dist/app.js")
        #expect(
            fixture.eventually(timeout: 15) {
                try servings() > restarted
            }, "a change in the folder made again restarts it")
    }
}
