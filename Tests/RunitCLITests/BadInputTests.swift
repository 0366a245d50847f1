import Foundation
import Testing

@Suite("Bad input gets a clear error and changes nothing")
struct BadInputTests {
    @Test(
        "invalid names are refused with the rule, exit 2",
        arguments: ["../x", "", "has space", "a/b/c", "/b", "a/", String(repeating: "n", count: 65), "-dash", ".hidden"])
    func invalidName(_ name: String) throws {
        let fixture = try CLIFixture()
        defer { fixture.cleanUp() }
        let result = try fixture.run("start", "--name", name, "--command", "sleep 1")
        #expect(result.status == 2)
        #expect(result.stderr.contains("letters, digits"), "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: fixture.home + "/procs"), "nothing may be created")
    }

    @Test("a name that is already running is refused and the running one is untouched")
    func alreadyRunning() throws {
        let fixture = try CLIFixture()
        defer { fixture.cleanUp() }
        #expect(try fixture.run("start", "dup", "--", "sleep", "300").status == 0)
        let pid = try fixture.status("dup")["pid"] as? Int
        let before = fixture.diskSnapshot()
        let result = try fixture.run("start", "dup", "--", "sleep", "100")
        #expect(result.status == 1)
        #expect(result.stderr.contains("'dup' is already running"))
        #expect(result.stderr.contains("runit restart dup"))
        #expect(fixture.diskSnapshot() == before)
        #expect(try fixture.status("dup")["pid"] as? Int == pid)
    }

    @Test("an empty command is refused")
    func emptyCommand() throws {
        let fixture = try CLIFixture()
        defer { fixture.cleanUp() }
        let result = try fixture.run("start", "--name", "e", "--command", "  ")
        #expect(result.status == 2)
        #expect(result.stderr.contains("the command for 'e' is empty"))
        #expect(fixture.diskSnapshot().isEmpty)
        let noCommand = try fixture.run("start", "e")
        #expect(noCommand.status == 2)
        #expect(noCommand.stderr.contains("no command given"))
    }

    @Test("a cwd that does not exist is refused")
    func missingCwd() throws {
        let fixture = try CLIFixture()
        defer { fixture.cleanUp() }
        let result = try fixture.run("start", "--name", "c", "--cwd", "/no/such/dir", "--command", "true")
        #expect(result.status == 2)
        #expect(result.stderr.contains("'/no/such/dir'"))
        #expect(result.stderr.contains("does not exist"))
        #expect(fixture.diskSnapshot().isEmpty)
    }

    @Test("an env entry without '=' is refused")
    func badEnv() throws {
        let fixture = try CLIFixture()
        defer { fixture.cleanUp() }
        let result = try fixture.run("start", "--name", "v", "--env", "NOVALUE", "--command", "true")
        #expect(result.status == 2)
        #expect(result.stderr.contains("the environment entry 'NOVALUE' for 'v' is not KEY=VALUE"), "\(result.stderr)")
        #expect(result.stderr.contains("write it as --env KEY=VALUE"))
        #expect(fixture.diskSnapshot().isEmpty)
    }

    @Test("an unknown name suggests the closest existing one")
    func unknownName() throws {
        let fixture = try CLIFixture()
        defer { fixture.cleanUp() }
        #expect(try fixture.run("start", "web", "--", "sleep", "300").status == 0)
        let before = fixture.diskSnapshot()
        for command in ["stop", "status", "logs", "restart", "remove"] {
            let result = try fixture.run(command, "wbe")
            #expect(result.status == 1, "\(command)")
            #expect(result.stderr.contains("no process named 'wbe'; did you mean 'web'?"), "\(command): \(result.stderr)")
        }
        #expect(fixture.diskSnapshot() == before)
    }

    @Test("a command that does not exist is reported at once, non-zero")
    func commandNotFound() throws {
        let fixture = try CLIFixture()
        defer { fixture.cleanUp() }
        let shell = try fixture.run("start", "--name", "typo", "--command", "no-such-program-xyz --flag")
        #expect(shell.status == 1)
        #expect(shell.stderr.contains("exited with code 127"))
        #expect(shell.stderr.contains("not found"))
        let argv = try fixture.run("start", "typo2", "--", "no-such-program-xyz")
        #expect(argv.status == 1)
        #expect(argv.stderr.contains("could not be started"))
        #expect(argv.stderr.contains("No such file or directory"))
        #expect(try fixture.status("typo2")["state"] as? String == "failed")
    }

    @Test("a start whose command fails at once reports the state after the exit: no pid, never running")
    func failedStartReportsExit() throws {
        let fixture = try CLIFixture()
        defer { fixture.cleanUp() }
        // The exit and its status record used to race: a few tries catch a report taken in between.
        for (index, policy) in ["never", "never", "never", "never", "on-failure"].enumerated() {
            let result = try fixture.run(
                "start", "--name", "bad\(index)", "--restart", policy, "--command", "nmp run dev", "--json")
            #expect(result.status == 1)
            let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
            #expect((object["failure"] as? String)?.contains("exited with code 127") == true, "\(object)")
            let process = try #require(object["process"] as? [String: Any])
            #expect(process["state"] as? String == (policy == "never" ? "exited" : "backoff"), "\(process)")
            #expect(process["pid"] == nil, "\(process)")
            #expect(process["exit_code"] as? Int == 127, "\(process)")
        }
    }

    @Test("a start that cannot launch its supervisor fails and leaves no entry behind")
    func supervisorMissing() throws {
        let fixture = try CLIFixture()
        defer { fixture.cleanUp() }
        let missing = ["RUNIT_SUPERVISE": fixture.scratch + "/no-such-supervise"]
        let result = try fixture.run(["start", "nosup", "--", "sleep", "300"], environment: missing)
        #expect(result.status == 1)
        #expect(result.stderr.contains("no-such-supervise is missing"), "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: fixture.home + "/procs/nosup"))
        #expect(try fixture.run("list").stdout.contains("no processes"))
        // An entry that ran before keeps its record: it shows as it was, not as a new unknown state.
        #expect(try fixture.run("start", "ran", "--", "true").status == 0)
        #expect(fixture.eventually { fixture.state("ran") == "exited" })
        #expect(try fixture.run(["start", "ran"], environment: missing).status == 1)
        #expect(fixture.state("ran") == "exited")
    }

    @Test("a RUNIT_SUPERVISE that is no supervisor and never exits fails the start; the start hung on it")
    func supervisorThatNeverExits() throws {
        let fixture = try CLIFixture()
        defer { fixture.cleanUp() }
        try fixture.write("#!/bin/sh\necho $$ > \"$0.pid\"\nexec 3>&-\nexec sleep 1000.4\n", to: "fake-supervise")
        chmod(fixture.scratch + "/fake-supervise", 0o755)
        let fake = ["RUNIT_SUPERVISE": fixture.scratch + "/fake-supervise"]
        let result = try fixture.run(["start", "nosup", "--", "sleep", "300"], environment: fake)
        #expect(result.status == 1)
        #expect(result.stderr.contains("ended before it reported a start"), "\(result.stderr)")
        #expect(result.stderr.contains("RUNIT_SUPERVISE names \(fixture.scratch)/fake-supervise"), "\(result.stderr)")
        #expect(try fixture.run("list").stdout.contains("no processes"))
        let pid = try String(contentsOfFile: fixture.scratch + "/fake-supervise.pid", encoding: .utf8)
        #expect(kill(Int32(pid.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0, 0) != 0, "the fake was left running")
    }

    @Test("help and options still reach the full parser: stop --help, start NAME --settle bad")
    func fastPathFallsBack() throws {
        let fixture = try CLIFixture()
        defer { fixture.cleanUp() }
        let help = try fixture.run("stop", "--help")
        #expect(help.status == 0)
        #expect(help.stdout.contains("--timeout"))
        #expect(try fixture.run("start", "w", "--", "sleep", "300").status == 0)
        #expect(try fixture.run("stop", "w").stdout.contains("stopped w"))
        let settle = try fixture.run("start", "w", "--settle", "soon")
        #expect(settle.status == 2)
        #expect(settle.stderr.contains("--settle 'soon' is not a duration"))
        let again = try fixture.run("start", "w", "--settle", "0")
        #expect(again.status == 0)
        #expect(again.stdout.contains("started w"))
        #expect(try fixture.run("list", "--json").stdout.contains("\"running\""))
    }

    @Test("usage errors exit 2 and bad durations, policies and streams say what is allowed")
    func usageErrors() throws {
        let fixture = try CLIFixture()
        defer { fixture.cleanUp() }
        #expect(try fixture.run("start", "--no-such-flag").status == 2)
        let policy = try fixture.run("start", "p", "--restart", "sometimes", "--", "true")
        #expect(policy.status == 2)
        #expect(policy.stderr.contains("--restart 'sometimes' for 'p' is not a policy; give one of: never, on-failure, always"))
        #expect(try fixture.run("start", "t", "--", "sleep", "300").status == 0)
        let timeout = try fixture.run("stop", "t", "--timeout", "soon")
        #expect(timeout.status == 2)
        #expect(timeout.stderr.contains("ms, s, m, h or d"))
        let stream = try fixture.run("logs", "t", "--stream", "both")
        #expect(stream.status == 2)
        #expect(stream.stderr.contains("use out or err"))
        let regex = try fixture.run("logs", "t", "--grep", "([")
        #expect(regex.status == 2)
        #expect(regex.stderr.contains("not a valid regular expression"))
        let negative = try fixture.run("logs", "t", "-n", "-1")
        #expect(negative.status != 0 && negative.stderr.contains("--lines must be 0 or more (0 for all), not -1"))
        let caseless = try fixture.run("logs", "t", "-i")
        #expect(caseless.status != 0 && caseless.stderr.contains("no --grep was given"), "\(caseless.stderr)")
    }

    @Test("a damaged status file is named in the error and does not break the others")
    func damagedStatus() throws {
        let fixture = try CLIFixture()
        defer { fixture.cleanUp() }
        #expect(try fixture.run("start", "--name", "ok", "--command", "exit 0").status == 0)
        #expect(try fixture.run("start", "--name", "bad", "--command", "exit 0").status == 0)
        #expect(fixture.eventually { try fixture.status("bad")["state"] as? String == "exited" })
        try Data("{not json".utf8).write(to: URL(fileURLWithPath: fixture.home + "/procs/bad/status.json"))
        let list = try fixture.run("list", "--json")
        #expect(list.status == 0)
        #expect(list.stdout.contains("\"ok\""))
        #expect(list.stdout.contains("procs/bad/status.json is damaged"))
        let status = try fixture.run("status", "bad")
        #expect(status.status == 1)
        #expect(status.stdout.contains("damaged"))
        #expect(status.stderr.contains("procs/bad/status.json is damaged"))
    }

    @Test("a damaged spec file hides nothing else: the process shows running, status and start name the file")
    func damagedSpec() throws {
        let fixture = try CLIFixture()
        defer { fixture.cleanUp() }
        #expect(try fixture.run("start", "ok", "--", "sleep", "300").status == 0)
        #expect(try fixture.run("start", "bad", "--", "sleep", "300").status == 0)
        let pid = try #require(try fixture.status("bad")["pid"] as? Int)
        try Data("{\"name\":".utf8).write(to: URL(fileURLWithPath: fixture.home + "/procs/bad/spec.json"))
        let list = try fixture.run("list", "--json")
        #expect(list.status == 0)
        let reports = try #require(try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [[String: Any]])
        #expect(reports.first { $0["name"] as? String == "ok" }?["state"] as? String == "running")
        let bad = try #require(reports.first { $0["name"] as? String == "bad" })
        #expect(bad["state"] as? String == "running")
        #expect(bad["pid"] as? Int == pid)
        #expect((bad["problem"] as? String)?.contains("procs/bad/spec.json is damaged") == true)
        let status = try fixture.run("status", "bad")
        #expect(status.status == 1)
        #expect(status.stdout.contains("running"))
        #expect(status.stdout.contains(String(pid)))
        #expect(status.stderr.contains("procs/bad/spec.json is damaged"), "\(status.stderr)")
        #expect(try fixture.run("stop", "bad").stdout.contains("stopped bad"))
        let start = try fixture.run("start", "bad")
        #expect(start.status == 1)
        #expect(start.stderr.contains("procs/bad/spec.json is damaged"), "\(start.stderr)")
        #expect(!start.stderr.contains("no command given"))
        let replaced = try fixture.run("start", "bad", "--", "sleep", "300")
        #expect(replaced.status == 0, "a start with a command replaces the damaged spec")
        #expect(try fixture.run("status", "bad").status == 0)
    }

    @Test("a deleted control FIFO is made anew by the supervisor, so a stop still reaches it")
    func unreachableSupervisor() throws {
        let fixture = try CLIFixture()
        defer { fixture.cleanUp() }
        #expect(try fixture.run("start", "deaf", "--", "sleep", "300").status == 0)
        let first = Int32(try #require(try fixture.status("deaf")["pid"] as? Int))
        try FileManager.default.removeItem(atPath: fixture.home + "/procs/deaf/control")
        let stop = try fixture.run("stop", "deaf")
        #expect(stop.status == 0, "\(stop.stderr)")
        #expect(!isAlive(first))
        #expect(try fixture.run("logs", "deaf").stdout.contains("/procs/deaf/control anew"))
        #expect(try fixture.run("start", "deaf", "--", "sleep", "300").status == 0)
        // A process whose supervisor died is ended by the next stop.
        let pid = Int32(try #require(try fixture.status("deaf")["pid"] as? Int))
        defer { kill(pid, SIGKILL) }
        try fixture.loseSupervisor("deaf")
        #expect(try fixture.run("stop", "deaf").stdout.contains("stopped deaf"))
        #expect(!isAlive(pid))

        #expect(try fixture.run("start", "stuck", "--", "sleep", "300").status == 0)
        let stuck = Int32(try #require(try fixture.status("stuck")["supervisor_pid"] as? Int))
        kill(stuck, SIGSTOP)
        defer { kill(stuck, SIGCONT) }
        let timeout = try fixture.run("stop", "stuck", "--timeout", "0")
        #expect(timeout.status == 1)
        #expect(timeout.stderr.contains("'stuck' did not stop within"), "\(timeout.stderr)")
        #expect(timeout.stderr.contains("kill -9 \(stuck)"))
        #expect(timeout.stderr.contains("'runit stop stuck' again"))
    }

    @Test("two starts of the same name at the same moment: exactly one wins")
    func concurrentStarts() throws {
        let fixture = try CLIFixture()
        defer { fixture.cleanUp() }
        let results = ConcurrentResults()
        DispatchQueue.concurrentPerform(iterations: 2) { index in
            let result = try? fixture.run(["start", "race", "--", "sleep", "30\(index)"])
            results.append(result)
        }
        let all = results.values.compactMap { $0 }
        #expect(all.count == 2)
        #expect(all.filter { $0.status == 0 }.count == 1)
        let loser = try #require(all.first { $0.status != 0 })
        #expect(loser.status == 1)
        #expect(loser.stderr.contains("'race' is already running"))
        let list = try fixture.run("list", "--json").stdout
        #expect(list.components(separatedBy: "\"name\" : \"race\"").count == 2, "one process named race")
    }

    @Test("two removes at once, or a restart beside a remove: the loser says no such process, not a file error")
    func concurrentRemoves() throws {
        let fixture = try CLIFixture()
        defer { fixture.cleanUp() }
        for round in 0..<3 {
            #expect(try fixture.run(["start", "gone\(round)", "--", "sleep", "300"]).status == 0)
            let results = ConcurrentResults()
            DispatchQueue.concurrentPerform(iterations: 2) { index in
                results.append(try? fixture.run([index == 0 || round == 0 ? "remove" : "restart", "gone\(round)"]))
            }
            let all = results.values.compactMap { $0 }
            #expect(all.count == 2)
            for result in all where result.status != 0 {
                #expect(
                    result.stderr.contains("no process named") || result.stderr.contains("was removed by another client"),
                    "\(result.stderr)")
                #expect(!result.stderr.contains("cannot remove") && !result.stderr.contains("no command given"))
            }
            #expect(all.contains { $0.status == 0 }, "one of them did it")
            _ = try fixture.run(["remove", "gone\(round)"])
        }
    }

    @Test("a start that waited for the lock while a stop or remove ran records its own spec (helper-37)")
    func startAfterAStopThatHeldTheLock() throws {
        let fixture = try CLIFixture()
        defer { fixture.cleanUp() }
        let command = ["--stop-timeout", "2s", "--", "sh", "-c", "trap '' TERM; sleep 300; :"]
        for other in ["stop", "remove"] {
            #expect(try fixture.run(["start", "x"] + command).status == 0)
            let results = ConcurrentResults()
            DispatchQueue.concurrentPerform(iterations: 2) { index in
                if index == 0 {
                    results.append(try? fixture.run([other, "x"]))
                } else {
                    // Reads the spec while the other holds the lock for the 2 s of its stop.
                    usleep(500_000)
                    results.append(try? fixture.run(["start", "x"] + (other == "remove" ? command : [])))
                }
            }
            #expect(results.values.allSatisfy { $0?.status == 0 }, "\(results.values.map { $0?.stderr ?? "" })")
            let status = try fixture.status("x")
            #expect(status["state"] as? String == "running")
            #expect(status["desired"] as? String == "running", "a running process recorded as stopped: \(status)")
            #expect((status["argv"] as? [String])?.first == "sh", "its spec is on record: \(status)")
            #expect(try fixture.run("stop", "x", "--timeout", "0").status == 0)
        }
    }
}

/// Results collected from concurrent runs.
final class ConcurrentResults: @unchecked Sendable {
    // Guarded by `lock`.
    private let lock = NSLock()
    private(set) var values: [CommandResult?] = []

    func append(_ value: CommandResult?) {
        lock.lock()
        values.append(value)
        lock.unlock()
    }
}
