import Foundation
import Testing

@Suite("Process life cycle through the CLI")
struct LifecycleTests {
    @Test("start, list, status, logs and stop: the process outlives the CLI and stops cleanly")
    func roundTrip() throws {
        let fixture = try CLIFixture()
        defer { fixture.cleanUp() }
        let start = try fixture.run("start", "--name", "web", "--command", "echo hello from web; echo oops >&2; exec sleep 300")
        #expect(start.status == 0, "\(start.stderr)")
        #expect(start.stdout.contains("started web (pid "))

        let status = try fixture.status("web")
        let pid = try #require(status["pid"] as? Int)
        #expect(status["state"] as? String == "running")
        #expect(isAlive(Int32(pid)), "the process lives on after the CLI exited")

        let list = try fixture.run("list")
        #expect(list.stdout.contains("NAME"))
        #expect(list.stdout.contains("web"))
        #expect(list.stdout.contains("running"))
        #expect(list.stdout.contains("\(pid)"))

        #expect(fixture.eventually { try fixture.run("logs", "web").stdout.contains("oops") })
        let logs = try fixture.run("logs", "web")
        #expect(logs.stdout.contains("hello from web"))
        #expect(logs.stdout.contains("── started pid \(pid)"))

        let stop = try fixture.run("stop", "web")
        #expect(stop.status == 0)
        #expect(stop.stdout.contains("stopped web"))
        #expect(!isAlive(Int32(pid)))
        #expect(try fixture.status("web")["state"] as? String == "stopped")

        let again = try fixture.run("stop", "web")
        #expect(again.status == 0)
        #expect(again.stdout.contains("was not running"))
    }

    @Test("the argv form passes arguments with spaces and quotes unchanged")
    func argvForm() throws {
        let fixture = try CLIFixture()
        defer { fixture.cleanUp() }
        let words = ["a b", "it's", "say \"hi\"", "$HOME", "*"]
        let script = "for w in \"$@\"; do printf '[%s]\\n' \"$w\"; done; exec sleep 300"
        let result = try fixture.run(["start", "args", "--", "/bin/sh", "-c", script, "sh"] + words)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(fixture.eventually { try fixture.run("logs", "args").stdout.contains("[*]") })
        let lines = try fixture.run("logs", "args").stdout.split(separator: "\n").filter { $0.hasPrefix("[") }
        #expect(lines == words.map { "[\($0)]"[...] })
    }

    @Test("a process that ignores SIGTERM is killed after the timeout")
    func ignoresTerm() throws {
        let fixture = try CLIFixture()
        defer { fixture.cleanUp() }
        let start = try fixture.run(
            "start", "--name", "stubborn", "--command", "trap '' TERM; echo ready; while :; do sleep 0.1; done")
        #expect(start.status == 0, "\(start.stderr)")
        #expect(fixture.eventually { try fixture.run("logs", "stubborn").stdout.contains("ready") })
        let pid = try #require(try fixture.status("stubborn")["pid"] as? Int)
        let stop = try fixture.run("stop", "stubborn", "--timeout", "1")
        #expect(stop.status == 0)
        #expect(!isAlive(Int32(pid)))
        let status = try fixture.status("stubborn")
        #expect(status["state"] as? String == "stopped")
        #expect(status["exit_signal"] as? Int == 9)
        #expect(try fixture.run("logs", "stubborn").stdout.contains("grace period over"))
    }

    @Test("a grandchild that called setsid is gone after stop")
    func setsidGrandchild() throws {
        let fixture = try CLIFixture()
        defer { fixture.cleanUp() }
        let pidFile = fixture.scratch + "/grandchild.pid"
        let command = "setsid sh -c 'echo $$ > \(pidFile); exec sleep 300' & sleep 300"
        #expect(try fixture.run("start", "--name", "tree", "--command", command).status == 0)
        #expect(fixture.eventually { FileManager.default.fileExists(atPath: pidFile) })
        var grandchild: Int32 = 0
        #expect(
            fixture.eventually {
                grandchild =
                    Int32(
                        (try? String(contentsOfFile: pidFile, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
                            ?? "") ?? 0
                return grandchild > 0
            })
        #expect(isAlive(grandchild))
        #expect(try fixture.run("stop", "tree").status == 0)
        #expect(!isAlive(grandchild), "the setsid grandchild \(grandchild) survived the stop")
    }

    @Test("a grandchild that double-forked and ignores SIGTERM is killed too")
    func doubleForkIgnoringTerm() throws {
        let fixture = try CLIFixture()
        defer { fixture.cleanUp() }
        let pidFile = fixture.scratch + "/orphan.pid"
        let command = "(sh -c 'trap \"\" TERM; echo $$ > \(pidFile); while :; do sleep 0.1; done' &) ; exec sleep 300"
        #expect(try fixture.run("start", "--name", "orphan", "--command", command).status == 0)
        var orphan: Int32 = 0
        #expect(
            fixture.eventually {
                orphan =
                    Int32(
                        (try? String(contentsOfFile: pidFile, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
                            ?? "") ?? 0
                return orphan > 0
            })
        #expect(try fixture.run("stop", "orphan", "--timeout", "500ms").status == 0)
        #expect(!isAlive(orphan))
    }

    @Test("restart stops and starts again with the same spec, and counts it")
    func restart() throws {
        let fixture = try CLIFixture()
        defer { fixture.cleanUp() }
        #expect(try fixture.run("start", "svc", "--", "sleep", "300").status == 0)
        let first = try #require(try fixture.status("svc")["pid"] as? Int)
        let result = try fixture.run("restart", "svc")
        #expect(result.status == 0, "\(result.stderr)")
        let status = try fixture.status("svc")
        #expect(status["restarts"] as? Int == 1)
        #expect(status["state"] as? String == "running")
        #expect(status["pid"] as? Int != first)
        #expect(!isAlive(Int32(first)))
        #expect(status["command"] as? String == "sleep 300")
    }

    @Test("remove stops the process and deletes its state and logs")
    func remove() throws {
        let fixture = try CLIFixture()
        defer { fixture.cleanUp() }
        #expect(try fixture.run("start", "gone", "--", "sleep", "300").status == 0)
        let pid = try #require(try fixture.status("gone")["pid"] as? Int)
        let result = try fixture.run("remove", "gone")
        #expect(result.status == 0)
        #expect(result.stdout.contains("removed gone"))
        #expect(!isAlive(Int32(pid)))
        #expect(!FileManager.default.fileExists(atPath: fixture.home + "/procs/gone"))
        #expect(try fixture.run("status", "gone").status == 1)
    }

    @Test("send writes a line to the process's stdin, which stays open between sends")
    func sendInput() throws {
        let fixture = try CLIFixture()
        defer { fixture.cleanUp() }
        #expect(
            try fixture.run("start", "echoer", "--", "/bin/sh", "-c", "while read line; do echo \"got: $line\"; done; echo eof")
                .status == 0)
        #expect(try fixture.run("send", "echoer", "first").status == 0)
        #expect(try fixture.run("send", "echoer", "second").status == 0)
        #expect(fixture.eventually { try fixture.run("logs", "echoer").stdout.contains("got: second") })
        let logs = try fixture.run("logs", "echoer").stdout
        #expect(logs.contains("got: first"))
        #expect(!logs.contains("eof"), "stdin must not reach end-of-file while the supervisor holds it")
    }

    @Test("send to a process that does not read says how much arrived, exit 1; a reader that is late gets it all")
    func sendPartialDelivery() throws {
        let fixture = try CLIFixture()
        defer { fixture.cleanUp() }
        let text = String(repeating: "x", count: 102_399)
        #expect(try fixture.run("start", "deaf", "--", "sleep", "300").status == 0)
        let partial = try fixture.run("send", "deaf", text)
        #expect(partial.status == 1)
        let match = partial.stderr.firstMatch(of: #/delivered (\d+) of 102400 bytes; 'deaf' is not reading its input/#)
        #expect(match != nil, "\(partial.stderr)")
        #expect(match.flatMap { Int($0.1) }.map { $0 > 0 && $0 < 102_400 } == true, "the pipe took a part")
        #expect(!partial.stderr.contains("Resource temporarily unavailable"))
        #expect(try fixture.run("start", "late", "--", "/bin/sh", "-c", "sleep 0.3; exec cat >/dev/null").status == 0)
        let whole = try fixture.run("send", "late", text)
        #expect(whole.status == 0, "\(whole.stderr)")
        #expect(whole.stdout.contains("sent 102400 bytes to late"))
    }

    @Test("secrets are masked in status, other values shown")
    func secretsMasked() throws {
        let fixture = try CLIFixture()
        defer { fixture.cleanUp() }
        let start = try fixture.run(
            "start", "env", "--env", "API_TOKEN=hunter2", "--env", "DB_PASSWORD=pw1", "--env", "PORT=8080",
            "--", "/bin/sh", "-c", "echo token=$API_TOKEN; exec sleep 300")
        #expect(start.status == 0)
        let text = try fixture.run("status", "env").stdout
        #expect(text.contains("PORT=8080"))
        #expect(text.contains("API_TOKEN=****"))
        #expect(!text.contains("hunter2"))
        #expect(!text.contains("pw1"))
        let json = try fixture.run("status", "env", "--json").stdout
        #expect(!json.contains("hunter2"))
        #expect(
            fixture.eventually { try fixture.run("logs", "env").stdout.contains("token=hunter2") },
            "the process itself gets the real value")
    }

    @Test("status reports memory and CPU of the whole tree")
    func statusMetrics() throws {
        let fixture = try CLIFixture()
        defer { fixture.cleanUp() }
        #expect(try fixture.run("start", "--name", "m", "--command", "sleep 300 & sleep 300").status == 0)
        let status = try fixture.status("m")
        #expect((status["memory_bytes"] as? Int ?? 0) > 0)
        #expect((status["process_count"] as? Int ?? 0) >= 2, "the shell and its two sleeps")
        #expect(status["cpu_seconds"] != nil)
    }

    @Test("a process that exits by itself is recorded with its exit code")
    func exitCodeRecorded() throws {
        let fixture = try CLIFixture()
        defer { fixture.cleanUp() }
        #expect(try fixture.run("start", "--name", "brief", "--command", "sleep 0.5; exit 3").status == 0)
        #expect(fixture.eventually { try fixture.status("brief")["state"] as? String == "exited" })
        #expect(try fixture.status("brief")["exit_code"] as? Int == 3)
        #expect(try fixture.run("status", "brief").stdout.contains("exited with code 3"))
    }

    @Test("the on-failure policy starts a crashing process again and counts restarts")
    func restartPolicy() throws {
        let fixture = try CLIFixture()
        defer { fixture.cleanUp() }
        #expect(
            try fixture.run("start", "--name", "crashy", "--restart", "on-failure", "--command", "sleep 0.3; exit 1").status == 0)
        #expect(fixture.eventually(timeout: 15) { (try fixture.status("crashy")["restarts"] as? Int ?? 0) >= 2 })
        #expect(try fixture.run("stop", "crashy").status == 0)
        #expect(try fixture.status("crashy")["state"] as? String == "stopped")
    }
}
