import Foundation
import Testing

@Suite("Restart tuning and stopping: --max-restarts, --min-uptime, --backoff-max, --stop-signal, --stop-timeout")
struct RestartTuningTests {
    @Test("a crash loop reaches failed after --max-restarts, with growing delays shown as a countdown in status")
    func crashLoopGivesUp() throws {
        let fixture = try CLIFixture()
        defer { fixture.cleanUp() }
        let start = try fixture.run(
            "start", "--name", "crash", "--restart", "on-failure", "--max-restarts", "4", "--min-uptime", "5s",
            "--backoff-max", "30s", "--command", "echo boom; sleep 0.3; exit 3")
        #expect(start.status == 0, "\(start.stderr)")
        // The longest countdown seen while waiting before each restart.
        var longest: [Int: Double] = [:]
        var nextStartLine = ""
        let failed = fixture.eventually(timeout: 60) {
            let status = try fixture.status("crash")
            let restarts = status["restarts"] as? Int ?? -1
            if status["state"] as? String == "backoff", let left = status["next_restart_in_seconds"] as? Double {
                longest[restarts] = max(longest[restarts] ?? 0, left)
                #expect(status["next_restart_at"] is String)
                if nextStartLine.isEmpty, restarts >= 2 {
                    let text = try fixture.run("status", "crash").stdout
                    nextStartLine = text.split(separator: "\n").first { $0.hasPrefix("next start: in ") }.map(String.init) ?? ""
                }
            }
            return status["state"] as? String == "failed"
        }
        #expect(failed, "the crash loop never gave up")
        let status = try fixture.status("crash")
        #expect(status["restarts"] as? Int == 4, "--max-restarts 4 is kept: \(status)")
        #expect((status["message"] as? String)?.contains("gave up after 4 restarts") == true, "\(status)")
        #expect(status["next_restart_in_seconds"] == nil, "a failed process has no next start")
        // 0.5 s, 1 s, 2 s, 4 s: each countdown starts higher than the one before.
        let delays = (0...3).map { longest[$0] ?? 0 }
        #expect(delays[1] > delays[0] && delays[2] > delays[1] && delays[3] > delays[2], "\(longest)")
        #expect(delays[3] > 2 && delays[3] <= 4, "\(longest)")
        #expect(nextStartLine.range(of: #"^next start: in \ds \(.+Z\)$"#, options: .regularExpression) != nil, "\(nextStartLine)")
        let logs = try fixture.run("logs", "crash").stdout
        for delay in ["500ms", "1s", "2s", "4s"] { #expect(logs.contains("restarting in \(delay)"), "\(logs)") }
        #expect(!logs.contains("restarting in 8s"))
    }

    @Test("--backoff-max caps the delay between restarts")
    func backoffMaxCaps() throws {
        let fixture = try CLIFixture()
        defer { fixture.cleanUp() }
        let start = try fixture.run(
            "start", "--name", "crash", "--restart", "always", "--max-restarts", "4", "--backoff-max", "1s", "--command",
            "sleep 0.3; exit 0")
        #expect(start.status == 0, "\(start.stderr)")
        #expect(fixture.eventually(timeout: 60) { fixture.state("crash") == "failed" })
        let logs = try fixture.run("logs", "crash").stdout
        #expect(logs.components(separatedBy: "restarting in 1s").count - 1 == 3, "\(logs)")
        #expect(!logs.contains("restarting in 2s"), "\(logs)")
        #expect(try fixture.restarts("crash") == 4)
    }

    @Test("a run longer than --min-uptime is not a quick failure: the count never reaches --max-restarts")
    func minUptimeResets() throws {
        let fixture = try CLIFixture()
        defer { fixture.cleanUp() }
        let start = try fixture.run(
            "start", "--name", "slow", "--restart", "on-failure", "--max-restarts", "1", "--min-uptime", "300ms",
            "--backoff-max", "500ms", "--command", "sleep 0.6; exit 1")
        #expect(start.status == 0, "\(start.stderr)")
        #expect(fixture.eventually(timeout: 60) { try fixture.restarts("slow") >= 4 }, "it stopped restarting")
        #expect(fixture.state("slow") != "failed")
        #expect(!(try fixture.run("logs", "slow").stdout.contains("gave up")))
    }

    @Test("--stop-signal INT is the signal the process gets on stop, kept in the spec for the next start")
    func stopSignalIsSent() throws {
        let fixture = try CLIFixture()
        defer { fixture.cleanUp() }
        let file = fixture.scratch + "/signal"
        let script =
            "trap 'echo INT >> \(file); exit 0' INT; trap 'echo TERM >> \(file); exit 0' TERM; echo up; while :; do sleep 0.1; done"
        #expect(try fixture.run("start", "--name", "trap", "--stop-signal", "INT", "--command", script).status == 0)
        #expect(fixture.eventually { try fixture.run("logs", "trap").stdout.contains("up") })
        #expect(try fixture.run("stop", "trap").status == 0)
        #expect((try? String(contentsOfFile: file, encoding: .utf8)) == "INT\n")
        #expect(try fixture.run("start", "trap").status == 0, "the stored spec starts again")
        #expect(fixture.eventually { try fixture.run("logs", "trap").stdout.components(separatedBy: "up\n").count == 3 })
        #expect(try fixture.run("stop", "trap").status == 0)
        #expect((try? String(contentsOfFile: file, encoding: .utf8)) == "INT\nINT\n")
    }

    @Test("--stop-timeout is the grace a plain stop gives before SIGKILL")
    func stopTimeoutIsKept() throws {
        let fixture = try CLIFixture()
        defer { fixture.cleanUp() }
        let script = "trap '' TERM; echo up; while :; do sleep 0.1; done"
        #expect(try fixture.run("start", "--name", "stubborn", "--stop-timeout", "1s", "--command", script).status == 0)
        #expect(fixture.eventually { try fixture.run("logs", "stubborn").stdout.contains("up") })
        let began = Date()
        let stop = try fixture.run("stop", "stubborn")
        #expect(stop.status == 0, "\(stop.stderr)")
        // The default grace is 10 s; the spec's 1 s must be the one used.
        #expect(Date().timeIntervalSince(began) < 8, "the stop waited the default grace")
        #expect(fixture.state("stubborn") == "stopped")
    }

    @Test("--max-restarts 0: a quick failure is not restarted, said plainly; wait --exit on a stopped process says so")
    func noRestartsSaid() throws {
        let fixture = try CLIFixture()
        defer { fixture.cleanUp() }
        let start = try fixture.run(
            "start", "once", "--restart", "on-failure", "--max-restarts", "0", "--command", "echo trying; exit 3")
        #expect(start.status != 2, "\(start.stderr)")
        #expect(fixture.eventually { fixture.state("once") == "failed" })
        let message = (try fixture.status("once")["message"] as? String) ?? ""
        #expect(message.contains("not restarted: it ran under 10s and --max-restarts is 0"), "\(message)")
        #expect(try fixture.run("start", "idle", "--", "sleep", "300").status == 0)
        #expect(try fixture.run("stop", "idle").status == 0)
        let wait = try fixture.run("wait", "idle", "--exit", "--timeout", "5s")
        #expect(wait.status == 0 && wait.stdout.contains("idle: was stopped"), "\(wait.stdout) \(wait.stderr)")
    }

    @Test("a run as long as --min-uptime is no quick failure: --max-restarts 0 restarts it (helper-36)")
    func longRunIsNoQuickFailure() throws {
        let fixture = try CLIFixture()
        defer { fixture.cleanUp() }
        let start = try fixture.run(
            "start", "long", "--restart", "always", "--max-restarts", "0", "--min-uptime", "500ms", "--command",
            "echo run; sleep 1; exit 0")
        #expect(start.status == 0, "\(start.stderr)")
        #expect(fixture.eventually { (try fixture.status("long")["restarts"] as? Int ?? 0) >= 2 })
        #expect(fixture.state("long") != "failed", "\((try? fixture.status("long")) ?? [:])")
    }

    @Test("--watch: a crash loop that writes into its watched tree keeps its backoff and gives up (helper-36)")
    func watchedCrashLoopGivesUp() throws {
        let fixture = try CLIFixture()
        defer { fixture.cleanUp() }
        let watched = fixture.scratch + "/watched"
        try FileManager.default.createDirectory(atPath: watched, withIntermediateDirectories: true)
        let start = try fixture.run(
            "start", "loop", "--restart", "on-failure", "--max-restarts", "2", "--min-uptime", "5s", "--watch", watched,
            "--command", "date +%s%N > \(watched)/cache.txt; echo crashing; exit 1")
        #expect(start.status != 2, "\(start.stderr)")
        #expect(fixture.eventually(timeout: 20) { fixture.state("loop") == "failed" }, "\((try? fixture.status("loop")) ?? [:])")
        let status = try fixture.status("loop")
        #expect(status["restarts"] as? Int == 2, "\(status)")
        #expect(try fixture.run("logs", "loop").stdout.contains("the restart waits for its backoff"))
    }

    @Test("stop --timeout during a --watch restart's long grace holds, and the supervisor is not blamed (helper-36)")
    func stopDuringRestartInPlace() throws {
        let fixture = try CLIFixture()
        defer { fixture.cleanUp() }
        let watched = fixture.scratch + "/w"
        try FileManager.default.createDirectory(atPath: watched, withIntermediateDirectories: true)
        let start = try fixture.run(
            "start", "tr", "--stop-timeout", "25s", "--watch", watched, "--command",
            "trap '' TERM; echo up; while :; do sleep 0.2; done")
        #expect(start.status == 0, "\(start.stderr)")
        #expect(fixture.eventually { try fixture.run("logs", "tr").stdout.contains("up") })
        usleep(1_200_000)
        try fixture.write("x", to: "w/f")
        #expect(fixture.eventually { try fixture.run("logs", "tr").stdout.contains("restarting:") })
        let stop = try fixture.run("stop", "tr", "--timeout", "1s")
        #expect(stop.status == 0 && !stop.stderr.contains("may be stuck"), "\(stop.stderr)")
        #expect(fixture.state("tr") == "stopped")
    }

    @Test("bad values are refused with exit 2, saying what is allowed, and leave no entry")
    func badValuesRefused() throws {
        let fixture = try CLIFixture()
        defer { fixture.cleanUp() }
        let cases: [([String], String)] = [
            (["--health-cmd", "true", "--health-retries", "0"], "give 1 to 1000"),
            (["--health-retries", "5"], "needs a health check"),
            (["--ready-port", "8080", "--ready-log", "up"], "give one readiness check"),
            (["--ready-log", "(a)\\1"], "backreference"),
            (["--health-http", "http://example.com/"], "resolves no names"),
            (["--ready-port", "70000"], "give 1 to 65535"),
            (["--health-port", "0"], "give 1 to 65535"),
            (["--stop-signal", "BOGUS"], "is not a signal"),
            (["--health-cmd", "true", "--health-port", "8080"], "give one health check"),
            (["--health-cmd", "true", "--health-interval", "0"], "give 100ms to 1d"),
            (["--min-uptime", "2d"], "give 0s to 1d"),
            (["--backoff-max", "0"], "give 100ms to 1d"),
            (["--stop-timeout", "2h"], "give 0s to 1h"),
            (["--ready-log", "("], "not a valid regular expression"),
            (["--ready-http", "ftp://example.com/"], "http://"),
        ]
        for (options, says) in cases {
            let result = try fixture.run(["start", "bad"] + options + ["--", "sleep", "300"])
            #expect(result.status == 2, "\(options): exit \(result.status) \(result.stdout) \(result.stderr)")
            #expect(result.stderr.contains(says), "\(options): \(result.stderr)")
            #expect(fixture.state("bad") == nil, "\(options): a refused start left an entry")
            _ = try? fixture.run("remove", "bad")
        }
        let wait = try fixture.run("wait", "nobody", "--ready", "--exit")
        #expect(wait.status == 2, "two conditions at once: \(wait.stderr)")
        #expect(try fixture.run("wait", "nobody").status == 2, "no condition")
    }
}
