import Foundation
import RunitKit
import Testing

@Suite("The supervisor and its lock")
struct SupervisorTests {
    @Test("a second supervisor for the same name cannot start while the first holds the lock")
    func lockTellsTheTruth() throws {
        let fixture = try CLIFixture()
        defer { fixture.cleanUp() }
        #expect(try fixture.run("start", "held", "--", "sleep", "300").status == 0)
        let supervisor = try #require(try fixture.status("held")["supervisor_pid"] as? Int)
        #expect(Platform.lockHolder(fixture.home + "/procs/held/lock") == Int32(supervisor))

        let process = Process()
        process.executableURL = URL(fileURLWithPath: CLIFixture.buildDirectory + "/runit-supervise")
        process.arguments = ["--dir", fixture.home + "/procs/held", "--name", "held", "--notify-fd", "1", "--", "sleep", "1"]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let report = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(report.contains("failed 'held' is already running under supervisor pid \(supervisor)"))
        #expect(try fixture.status("held")["supervisor_pid"] as? Int == supervisor)
    }

    @Test("killing the CLI in the middle of a start loses nothing: the process runs, supervised")
    func clientKilledMidStart() throws {
        let fixture = try CLIFixture()
        defer { fixture.cleanUp() }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CLIFixture.binary)
        process.arguments = ["start", "orphaned-client", "--settle", "30s", "--", "sleep", "300"]
        var env = ProcessInfo.processInfo.environment
        env["RUNIT_HOME"] = fixture.home
        process.environment = env
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        // The CLI is still in its settle window when the process is already running.
        #expect(fixture.eventually { fixture.state("orphaned-client") == "running" })
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        #expect(process.terminationReason == .uncaughtSignal)
        let status = try fixture.status("orphaned-client")
        #expect(status["state"] as? String == "running")
        let supervisor = try #require(status["supervisor_pid"] as? Int)
        #expect(Platform.lockHolder(fixture.home + "/procs/orphaned-client/lock") == Int32(supervisor))
        let stop = try fixture.run("stop", "orphaned-client")
        #expect(stop.stdout.contains("stopped orphaned-client"))
    }

    @Test("a supervisor command line without a program is refused with exit 2")
    func badCommandLine() throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CLIFixture.buildDirectory + "/runit-supervise")
        process.arguments = ["--dir", "/tmp/x", "--name", "x"]
        let pipe = Pipe()
        process.standardError = pipe
        try process.run()
        let message = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 2)
        #expect(message.contains("a program is required after --"))
    }

    @Test(
        "a supervisor whose poll fails keeps its process, and goes on once poll works again",
        .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/prlimit")))
    func pollFailureIsNotFatal() throws {
        let fixture = try CLIFixture()
        defer { fixture.cleanUp() }
        #expect(try fixture.run("start", "--name", "ticker", "--command", "while :; do echo tick; sleep 0.1; done").status == 0)
        let status = try fixture.status("ticker")
        let pid = Int32(try #require(status["pid"] as? Int))
        let supervisor = Int32(try #require(status["supervisor_pid"] as? Int))
        defer { kill(pid, SIGKILL) }
        // poll(2) fails with EINVAL while it is given more descriptors than RLIMIT_NOFILE allows.
        let soft = try prlimit(["--pid", "\(supervisor)", "--nofile", "--raw", "--noheadings", "--output", "SOFT"])
            .trimmingCharacters(in: .whitespacesAndNewlines)
        _ = try prlimit(["--pid", "\(supervisor)", "--nofile=3:"])
        usleep(1_000_000)
        #expect(isAlive(supervisor), "the supervisor ended on a poll error")
        #expect(isAlive(pid))
        _ = try prlimit(["--pid", "\(supervisor)", "--nofile=\(soft):"])
        let log = fixture.home + "/procs/ticker/logs/current.log"
        #expect(
            fixture.eventually {
                let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
                return text.contains(" sys poll failed")
                    && text.components(separatedBy: " sys poll failed").last?.contains(" out tick") == true
            }, "the supervisor logged the failure and went on logging")
        let stop = try fixture.run("stop", "ticker")
        #expect(stop.status == 0, "\(stop.stderr)")
        #expect(!isAlive(pid))
        #expect(fixture.state("ticker") == "stopped")
    }

    @Test("a control command split across two writes is understood; one over 512 bytes is dropped with a record")
    func controlCommandAcrossReads() throws {
        let fixture = try CLIFixture()
        defer { fixture.cleanUp() }
        #expect(try fixture.run("start", "split", "--", "sleep", "300").status == 0)
        let pid = Int32(try #require(try fixture.status("split")["pid"] as? Int))
        defer { kill(pid, SIGKILL) }
        let control = open(fixture.home + "/procs/split/control", O_WRONLY | O_NONBLOCK)
        try #require(control >= 0)
        defer { close(control) }
        func send(_ text: String) {
            let bytes = Array(text.utf8)
            #expect(write(control, bytes, bytes.count) == bytes.count)
            usleep(300_000)
        }
        send(String(repeating: "x", count: 600) + "\n")
        send("sto")
        send("p 1000\n")
        #expect(fixture.eventually { fixture.state("split") == "stopped" }, "the stop was not understood")
        #expect(!isAlive(pid))
        let log = try String(contentsOfFile: fixture.home + "/procs/split/logs/current.log", encoding: .utf8)
        #expect(log.contains("sys ignored a control command over 512 bytes"), "\(log)")
        #expect(!log.contains("unknown control command"), "\(log)")
    }

    @Test("a supervisor killed with SIGKILL shows as lost; stop then ends the process and its group")
    func lostSupervisor() throws {
        let fixture = try CLIFixture()
        defer { fixture.cleanUp() }
        #expect(try fixture.run("start", "--name", "victim", "--command", "sleep 300 & sleep 301; wait").status == 0)
        let pid = Int32(try #require(try fixture.status("victim")["pid"] as? Int))
        #expect(fixture.eventually { groupMembers(pid).count == 3 })
        let group = groupMembers(pid)
        defer { for member in group { kill(member, SIGKILL) } }
        try fixture.loseSupervisor("victim")
        #expect(try fixture.run("list").stdout.contains("lost"))
        let stop = try fixture.run("stop", "victim")
        #expect(stop.status == 0)
        #expect(stop.stdout.contains("stopped victim"), "\(stop.stdout)")
        #expect(group.allSatisfy { !isAlive($0) }, "the process and its group are gone")
        let after = try fixture.status("victim")
        #expect(after["state"] as? String == "stopped")
        #expect((after["message"] as? String)?.contains("was gone") == true)
    }

    @Test("a supervisor killed during a stop: the stop ends what it left, or fails saying so; never 'stopped' over a live tree")
    func supervisorKilledMidStop() throws {
        let fixture = try CLIFixture()
        defer { fixture.cleanUp() }
        // Ignores SIGTERM (and so do its sleeps) and runs on for about 5 seconds, writing nothing.
        let script = "trap '' TERM; i=0; while [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done"
        #expect(try fixture.run("start", "--name", "stubborn", "--command", script).status == 0)
        let status = try fixture.status("stubborn")
        let pid = Int32(try #require(status["pid"] as? Int))
        let supervisor = Int32(try #require(status["supervisor_pid"] as? Int))
        defer { kill(pid, SIGKILL) }
        let results = ConcurrentResults()
        let stopped = DispatchSemaphore(value: 0)
        DispatchQueue.global().async {
            results.append(try? fixture.run("stop", "stubborn", "--timeout", "2"))
            stopped.signal()
        }
        #expect(fixture.eventually { fixture.state("stubborn") == "stopping" })
        kill(supervisor, SIGKILL)
        #expect(stopped.wait(timeout: .now() + 30) == .success, "the stop did not end")
        let stop = try #require(results.values.first ?? nil)
        let left = ProcessTable().entries.filter { $0.session == supervisor && !$0.isZombie }.map(\.pid)
        if stop.status == 0 {
            #expect(left.isEmpty, "the stop said \(stop.stdout) while pids \(left) still ran")
            #expect(!isAlive(pid))
            #expect(fixture.state("stubborn") == "stopped")
        } else {
            #expect(stop.status == 1)
            #expect(stop.stderr.contains("runit: "), "\(stop.stderr)")
            #expect(!stop.stdout.contains("stopped"))
        }
    }

    @Test("start of a lost process ends the copy its dead supervisor left, so only one runs")
    func startAfterLostSupervisor() throws {
        let fixture = try CLIFixture()
        defer { fixture.cleanUp() }
        #expect(try fixture.run("start", "twice", "--", "sleep", "300").status == 0)
        let old = Int32(try #require(try fixture.status("twice")["pid"] as? Int))
        defer { kill(old, SIGKILL) }
        try fixture.loseSupervisor("twice")
        let start = try fixture.run("start", "twice")
        #expect(start.status == 0, "\(start.stderr)")
        #expect(!isAlive(old), "the old copy is gone")
        let new = try #require(try fixture.status("twice")["pid"] as? Int)
        #expect(Int32(new) != old)
        #expect(isAlive(Int32(new)))
    }

    @Test("a lost record whose supervisor pid now names other processes leaves them alone")
    func lostWithReusedPid() throws {
        let fixture = try CLIFixture()
        defer { fixture.cleanUp() }
        #expect(try fixture.run("start", "reused", "--", "sleep", "300").status == 0)
        let pid = Int32(try #require(try fixture.status("reused")["pid"] as? Int))
        defer { kill(pid, SIGKILL) }
        try fixture.loseSupervisor("reused")
        kill(pid, SIGKILL)
        // Another program's session whose leader has exited (as a daemon's double fork leaves it),
        // and another that a live process leads: neither is runit's.
        let orphaned = try newSession("sleep 300 >/dev/null 2>&1 & echo $$ $! > PIDS", fixture: fixture)
        defer { kill(orphaned[1], SIGKILL) }
        let leader = try newSession("echo $$ > PIDS; exec sleep 300 >/dev/null 2>&1", fixture: fixture)[0]
        defer { kill(leader, SIGKILL) }
        let path = fixture.home + "/procs/reused/status.json"
        let original = try String(contentsOfFile: path, encoding: .utf8)
        func record(supervisor: Int32, startedAt: String) throws {
            let edited = original.replacingOccurrences(
                of: #""supervisor_pid":\d+"#, with: "\"supervisor_pid\":\(supervisor)", options: .regularExpression
            )
            .replacingOccurrences(
                of: #""started_at_ms":\d+"#, with: "\"started_at_ms\":\(startedAt)", options: .regularExpression)
            try Data(edited.utf8).write(to: URL(fileURLWithPath: path))
        }
        // A record from before the last boot: the session with its number cannot be the one it names.
        try record(supervisor: orphaned[0], startedAt: "1000")
        let stale = try fixture.run("stop", "reused")
        #expect(stale.status == 0)
        #expect(stale.stdout.contains("reused was not running"), "\(stale.stdout)")
        #expect(isAlive(orphaned[1]), "a process of another session is never signalled")
        // A supervisor pid that a live process has now: nothing of the old session can be left.
        try record(supervisor: leader, startedAt: "\(Int(Date().timeIntervalSince1970 * 1000))")
        #expect(try fixture.run("stop", "reused").status == 0)
        #expect(isAlive(leader), "the live holder of the pid is never signalled")
    }

    @Test("env values do not show on the supervisor's command line, and the process still gets them")
    func secretsHiddenFromPs() throws {
        let fixture = try CLIFixture()
        defer { fixture.cleanUp() }
        let start = try fixture.run(
            "start", "secret", "--env", "API_TOKEN=hunter2", "--env", "MODE=a=b", "--command",
            "echo token=$API_TOKEN mode=$MODE; exec sleep 300")
        #expect(start.status == 0)
        let supervisor = try #require(try fixture.status("secret")["supervisor_pid"] as? Int)
        let cmdline = try #require(FileManager.default.contents(atPath: "/proc/\(supervisor)/cmdline"))
        let words = String(decoding: cmdline, as: UTF8.self).split(separator: "\0").map(String.init)
        #expect(!words.joined(separator: " ").contains("hunter2"), "\(words)")
        #expect(words.contains("API_TOKEN=*******"))
        #expect(words.contains("MODE=***"))
        #expect(words.contains("secret"), "the rest of the command line is intact")
        #expect(
            fixture.eventually { try fixture.run("logs", "secret").stdout.contains("token=hunter2 mode=a=b") })
    }

    @Test("the supervisor holds no directory of the client busy: its cwd is /, the process's is its own")
    func supervisorWorkingDirectory() throws {
        let fixture = try CLIFixture()
        defer { fixture.cleanUp() }
        let start = try fixture.run(["start", "cwd", "--", "sleep", "300"], cwd: fixture.scratch)
        #expect(start.status == 0)
        let status = try fixture.status("cwd")
        let supervisor = try #require(status["supervisor_pid"] as? Int)
        let pid = try #require(status["pid"] as? Int)
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(supervisor)/cwd") == "/")
        let processCwd = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/cwd")
        #expect(processCwd == URL(fileURLWithPath: fixture.scratch).resolvingSymlinksInPath().path)
    }

    @Test("the process starts with no signal blocked or ignored, whatever the client ignored (glibc's own two included)")
    func childSignals() throws {
        let fixture = try CLIFixture()
        defer { fixture.cleanUp() }
        // As under `nohup`, and more: what the shell that ran `runit start` ignores is not the process's.
        let start = try fixture.run(
            ["-c", "trap '' HUP USR1 TTOU; exec \"$0\" start sig -- sleep 300", CLIFixture.binary], tool: "/bin/sh")
        #expect(start.status == 0, "\(start.stderr)")
        let pid = try #require(try fixture.status("sig")["pid"] as? Int)
        let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
        let masks = status.split(separator: "\n").filter { $0.hasPrefix("SigBlk:") || $0.hasPrefix("SigIgn:") }
        #expect(masks == ["SigBlk:\t0000000000000000", "SigIgn:\t0000000000000000"], "\(masks)")
    }

    @Test("a supervisor started by hand with relative paths still finds its directory and runs in its cwd")
    func relativePaths() throws {
        let fixture = try CLIFixture()
        defer { fixture.cleanUp() }
        try FileManager.default.createDirectory(atPath: fixture.home + "/procs", withIntermediateDirectories: true)
        // posix_spawn, not Foundation's Process: its wait would last as long as the forked supervisor.
        let script = "cd \"$0\" && exec \"$1\" --dir procs/manual --name manual -- sh -c 'pwd; exec sleep 300'"
        let spawned = Spawn.run(
            ["/bin/sh", "-c", script, fixture.home, CLIFixture.buildDirectory + "/runit-supervise"], detach: .newSession
        ) { _ in }
        let pid = try spawned.get()
        var waitStatus: Int32 = 0
        waitpid(pid, &waitStatus, 0)
        #expect(fixture.eventually { fixture.state("manual") == "running" })
        let log = fixture.home + "/procs/manual/logs/current.log"
        #expect(
            fixture.eventually {
                (try? String(contentsOfFile: log, encoding: .utf8))?.contains("out " + fixture.home + "\n") == true
            })
    }
}

/// Runs prlimit(1) with `arguments`; what it printed.
private func prlimit(_ arguments: [String]) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/prlimit")
    process.arguments = arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    try process.run()
    let output = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    #expect(process.terminationStatus == 0, "prlimit \(arguments)")
    return String(decoding: output, as: UTF8.self)
}

/// The live members of process group `group`, from `/proc`.
func groupMembers(_ group: Int32) -> [Int32] {
    ProcessTable().entries.filter { !$0.isZombie && getpgid($0.pid) == group }.map(\.pid)
}

/// Runs a shell script in a new session that it leads; the script writes pids into the file
/// named by `PIDS` (`$$` is the session's id). Returns those pids once written.
private func newSession(_ script: String, fixture: CLIFixture) throws -> [Int32] {
    let file = fixture.scratch + "/session-\(UUID().uuidString)"
    // posix_spawn, not Foundation's Process: its wait would last as long as the script's sleep.
    let spawned = Spawn.run(["/bin/sh", "-c", script.replacingOccurrences(of: "PIDS", with: file)], detach: .newSession) {
        _ in
    }
    let pid = try spawned.get()
    if !script.contains("exec ") {
        var waitStatus: Int32 = 0
        waitpid(pid, &waitStatus, 0)
    }
    var pids: [Int32] = []
    #expect(
        fixture.eventually {
            let text = (try? String(contentsOfFile: file, encoding: .utf8)) ?? ""
            pids = text.split(whereSeparator: \.isWhitespace).compactMap { Int32($0) }
            return text.hasSuffix("\n") && !pids.isEmpty
        })
    return pids
}
