import Foundation
import Testing

@Suite("runit wait: met (0), failed first (1), timed out (124)")
struct WaitTests {
    /// A fixture whose `loop` prints a line and exits 7 after a second, restarted always.
    private func crashLoop() throws -> CLIFixture {
        let fixture = try CLIFixture()
        let start = try fixture.run(
            "start", "--name", "loop", "--restart", "always", "--backoff-max", "200ms", "--command",
            "echo run output; sleep 1; exit 7")
        #expect(start.status == 0, "\(start.stderr)")
        return fixture
    }

    @Test("wait --exit reports the code and last lines of a run that --restart always has already started again")
    func exitOfRestartedRun() throws {
        let fixture = try crashLoop()
        defer { fixture.cleanUp() }
        let wait = try fixture.run("wait", "loop", "--exit", "--timeout", "30s")
        #expect(wait.status == 0, "\(wait.stdout) \(wait.stderr)")
        #expect(wait.stdout.contains("loop: exited with code 7"), "\(wait.stdout)")
        #expect(wait.stdout.contains("  run output"), "\(wait.stdout)")
        // The policy starts the next run within the capped backoff.
        #expect(fixture.eventually(timeout: 30) { try fixture.restarts("loop") >= 1 && fixture.state("loop") == "running" })
    }

    @Test("wait --exit --json of a later run gives that run's code and only that run's last lines")
    func exitJSONLastLinesAreThisRun() throws {
        let fixture = try crashLoop()
        defer { fixture.cleanUp() }
        #expect(try fixture.run("wait", "loop", "--exit", "--timeout", "30s").status == 0)
        let wait = try fixture.run("wait", "loop", "--exit", "--timeout", "30s", "--json")
        #expect(wait.status == 0, "\(wait.stderr)")
        let answers = (try? JSONSerialization.jsonObject(with: Data(wait.stdout.utf8)) as? [[String: Any]]) ?? []
        let answer = try #require(answers.first, "\(wait.stdout)")
        #expect(answer["exit_code"] as? Int == 7)
        #expect(answer["outcome"] as? String == "exited")
        let lines = answer["last_lines"] as? [String] ?? []
        #expect(lines.count == 1, "the last lines of one run, not of the run before it too: \(lines)")
    }

    @Test("wait --log matches the process's own line, never a sys record, and times out with 124")
    func logWait() throws {
        let fixture = try CLIFixture()
        defer { fixture.cleanUp() }
        #expect(try fixture.run("start", "--name", "app", "--command", "sleep 1; echo compiled OK; sleep 300").status == 0)
        #expect(fixture.eventually { try fixture.run("logs", "app").stdout.contains("started pid") })
        let sys = try fixture.run("wait", "app", "--log", "started pid", "--timeout", "1500ms")
        #expect(sys.status == 124, "a sys record met a log wait: \(sys.stdout)")
        let began = Date()
        let met = try fixture.run("wait", "app", "--log", #"compiled \w+"#, "--timeout", "30s")
        #expect(met.status == 0, "\(met.stderr)")
        #expect(met.stdout.contains("compiled OK"), "\(met.stdout)")
        #expect(Date().timeIntervalSince(began) < 20)
    }

    @Test("wait --port is met when the process listens on it; wait on several names needs them all")
    func portAndSeveralNames() throws {
        let fixture = try CLIFixture()
        defer { fixture.cleanUp() }
        let port = try freePort()
        #expect(try fixture.run("start", "--name", "web", "--command", httpServer(port: port, delay: 1)).status == 0)
        #expect(try fixture.run("start", "--name", "worker", "--command", "sleep 1; echo worker up; sleep 300").status == 0)
        #expect(try fixture.run("wait", "web", "--port", "\(port)", "--timeout", "30s").status == 0)
        #expect(try fixture.ports("web") == [port])
        #expect(try fixture.run("wait", "web", "worker", "--ready", "--timeout", "30s").status == 0)
        #expect(try fixture.run("wait", "web", "worker", "--log", "worker up", "--timeout", "2s").status == 124)
    }

    @Test("wait --ready of a process that exits first fails with exit 1 and its last lines; a timeout is 124")
    func failedAndTimedOut() throws {
        let fixture = try CLIFixture()
        defer { fixture.cleanUp() }
        let start = try fixture.run(
            "start", "--name", "app", "--ready-log", "never", "--command", "echo trying; sleep 1; echo giving up; exit 3")
        #expect(start.status == 0, "\(start.stderr)")
        let wait = try fixture.run("wait", "app", "--ready", "--timeout", "30s")
        #expect(wait.status == 1, "\(wait.stdout) \(wait.stderr)")
        #expect(wait.stderr.contains("giving up"), "\(wait.stderr)")
        #expect(wait.stderr.contains("code 3"), "\(wait.stderr)")

        #expect(try fixture.run("start", "--name", "idle", "--ready-log", "never", "--", "sleep", "300").status == 0)
        let began = Date()
        let timeout = try fixture.run("wait", "idle", "--ready", "--timeout", "1s")
        #expect(timeout.status == 124, "\(timeout.stderr)")
        #expect(Date().timeIntervalSince(began) < 15)
        let unknown = try fixture.run("wait", "nobody", "--ready", "--timeout", "1s")
        #expect(unknown.status == 2, "an unknown name is bad input (2), not a process that ended (1): \(unknown.stderr)")
        #expect(unknown.stderr.contains("no process named 'nobody'"), "\(unknown.stderr)")
    }

    @Test("wait --ready without a readiness check does not call a crash loop's run ready; it fails at the run's end")
    func crashLoopIsNotReady() throws {
        let fixture = try CLIFixture()
        defer { fixture.cleanUp() }
        let start = try fixture.run(
            "start", "--name", "loop", "--restart", "always", "--min-uptime", "5s", "--command", "echo booting; sleep 0.5; exit 3"
        )
        #expect(start.status == 0, "\(start.stderr)")
        #expect(
            fixture.eventually { (try? fixture.run("logs", "loop").stdout.components(separatedBy: "booting").count) ?? 0 >= 3 })
        let wait = try fixture.run("wait", "loop", "--ready", "--timeout", "20s")
        #expect(wait.status == 1, "a crash loop was called ready: \(wait.stdout) \(wait.stderr)")
        #expect(wait.stderr.contains("code 3") && wait.stderr.contains("booting"), "\(wait.stderr)")
        // One that failed once and now runs is not ready until --min-uptime: the timeout says why.
        let once = fixture.scratch + "/failed-once"
        #expect(
            try fixture.run(
                "start", "--name", "flaky", "--restart", "always", "--min-uptime", "60s", "--command",
                "if [ -e \(once) ]; then echo up; sleep 300; else touch \(once); exit 3; fi"
            ).status != 0)
        #expect(fixture.eventually { fixture.state("flaky") == "running" })
        let held = try fixture.run("wait", "flaky", "--ready", "--timeout", "1s")
        #expect(held.status == 124 && held.stderr.contains("after 1 quick failure"), "\(held.stderr)")
        // A steady process is ready at once, as before.
        #expect(try fixture.run("start", "steady", "--", "sleep", "300").status == 0)
        #expect(try fixture.run("wait", "steady", "--ready", "--timeout", "5s").status == 0)
    }

    @Test("a process whose supervisor died in backoff shows no next start: nothing will start it")
    func lostInBackoffHasNoNextStart() throws {
        let fixture = try CLIFixture()
        defer { fixture.cleanUp() }
        #expect(
            try fixture.run("start", "--name", "b", "--restart", "always", "--backoff-max", "30s", "--command", "exit 3").status
                != 0)
        #expect(fixture.eventually { fixture.state("b") == "backoff" })
        try fixture.loseSupervisor("b")
        #expect(try fixture.status("b")["next_restart_at"] == nil)
        #expect(try !fixture.run("status", "b").stdout.contains("next start"))
    }
}

extension WaitTests {
    @Test("start --wait --json prints one JSON document, nothing before it")
    func startWaitJSON() throws {
        let fixture = try CLIFixture()
        defer { fixture.cleanUp() }
        let result = try fixture.run("start", "j", "--wait", "--json", "--", "sleep", "300")
        #expect(result.status == 0, "\(result.stderr)")
        let parsed = try? JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        #expect(parsed?["met"] as? Bool == true, "stdout is not one JSON document: \(result.stdout)")
    }
}
