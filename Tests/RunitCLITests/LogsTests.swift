import Foundation
import Testing

@Suite("runit logs through the real supervisor")
struct LogsTests {
    @Test("rotation under a fast writer loses no line and keeps the configured number of files")
    func rotationUnderFastWriter() throws {
        let fixture = try CLIFixture()
        defer { fixture.cleanUp() }
        let count = 200_000
        let start = try fixture.run(
            "start", "--name", "fast", "--log-max-size", "256K", "--log-keep", "100",
            "--command", "seq 1 \(count); echo done")
        #expect(start.status == 0, "\(start.stderr)")
        #expect(fixture.eventually(timeout: 60) { try fixture.status("fast")["state"] as? String == "exited" })
        let logs = fixture.home + "/procs/fast/logs"
        let files = try FileManager.default.contentsOfDirectory(atPath: logs)
        #expect(files.count > 5, "the log rotated: \(files.count) files")
        let all = try fixture.run("logs", "fast", "--lines", "1000000").stdout.split(separator: "\n")
        let numbers = all.compactMap { Int($0) }
        #expect(numbers == Array(1...count), "every line, once, in order")
        #expect(all.contains("done"))
        // All of it, streamed forward across the rotated files: the same lines.
        let streamed = try fixture.run("logs", "fast", "--lines", "0").stdout.split(separator: "\n")
        #expect(streamed == all)
        let sevens = try fixture.run("logs", "fast", "--lines", "0", "--grep", "^7+$").stdout.split(separator: "\n")
        #expect(sevens == ["7", "77", "777", "7777", "77777"])
        // --lines N shows N lines, not one more (found by a hostile review), across a rotation too.
        let last = try fixture.run("logs", "fast", "--lines", "3").stdout.split(separator: "\n")
        #expect(last.count == 3 && last.contains("done"), "\(last)")
        let lastJSON = try fixture.run("logs", "fast", "-n", "2", "--json").stdout.split(separator: "\n")
        #expect(lastJSON.count == 2, "\(lastJSON)")

        let keepFixture = try CLIFixture()
        defer { keepFixture.cleanUp() }
        #expect(
            try keepFixture.run(
                "start", "--name", "kept", "--log-max-size", "64K", "--log-keep", "2", "--command", "seq 1 100000"
            ).status == 0)
        #expect(keepFixture.eventually(timeout: 60) { try keepFixture.status("kept")["state"] as? String == "exited" })
        let kept = try FileManager.default.contentsOfDirectory(atPath: keepFixture.home + "/procs/kept/logs").sorted()
        #expect(kept == ["current.log", "previous.1.log", "previous.2.log"])
        #expect(try keepFixture.run("logs", "kept", "--lines", "1").stdout.contains("exited with code 0"))
    }

    @Test("a progress bar drawn with \\r and a prompt without a newline are shown, not held")
    func partialLines() throws {
        let fixture = try CLIFixture()
        defer { fixture.cleanUp() }
        let command = "printf 'progress 10%%\\r'; sleep 0.3; printf 'progress 100%%\\r'; printf 'Continue? '; exec sleep 300"
        #expect(try fixture.run("start", "--name", "bar", "--command", command).status == 0)
        #expect(fixture.eventually { try fixture.run("logs", "bar").stdout.contains("Continue? ") })
        let text = try fixture.run("logs", "bar").stdout
        // The pieces join into one line, shown as a terminal would finally show it: the prompt
        // written over the start of the last redraw.
        #expect(text.split(separator: "\n").last == "Continue? 00%")
        // The raw record keeps every redraw; the text view shows what a terminal would.
        let raw = try fixture.run("logs", "bar", "--json").stdout
        #expect(raw.contains("progress 100%\\r"))
        #expect(raw.contains("\"continued\":true"))
    }

    @Test("--since, --grep -i, --stream, --json and --timestamps filter and format")
    func filters() throws {
        let fixture = try CLIFixture()
        defer { fixture.cleanUp() }
        #expect(
            try fixture.run(
                "start", "--name", "mix", "--command", "echo Alpha; echo beta >&2; echo ALPHA again; echo -x-; exec sleep 300"
            )
            .status == 0)
        #expect(fixture.eventually { try fixture.run("logs", "mix").stdout.contains("-x-") })
        // A pattern that starts with '-' is the pattern, as grep's -e takes it.
        #expect(try fixture.run("logs", "mix", "--grep", "-x").stdout == "-x-\n")
        #expect(try fixture.run("logs", "mix", "-g", "-x-$").stdout == "-x-\n")
        #expect(
            try fixture.run("logs", "mix", "--grep", "alpha", "-i").stdout.split(separator: "\n") == ["Alpha", "ALPHA again"])
        #expect(try fixture.run("logs", "mix", "--grep", "alpha").stdout.isEmpty)
        // Both streams together: a line of stderr is marked; one stream alone: none is.
        let both = try fixture.run("logs", "mix").stdout.split(separator: "\n").filter { !$0.hasPrefix("──") }
        // (Two pipes: the order of stderr's line among stdout's is the kernel's.)
        #expect(both.sorted() == ["-x-", "ALPHA again", "Alpha", "[err] beta"])
        let errors = try fixture.run("logs", "mix", "--stream", "err").stdout
        #expect(errors.split(separator: "\n").contains("beta"))
        #expect(!errors.contains("Alpha") && !errors.contains("[err]"))
        #expect(try fixture.run("logs", "mix", "--grep", "beta").stdout == "[err] beta\n")
        #expect(
            try fixture.run("logs", "mix", "--since", "2026-01-01T00:00:00Z", "--until", "2026-01-02T00:00:00Z").stdout.isEmpty)
        #expect(try fixture.run("logs", "mix", "--since", "1h").stdout.contains("beta"))
        let json = try fixture.run("logs", "mix", "--json", "--stream", "err").stdout.split(separator: "\n")
        let objects = json.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        #expect(objects.contains { $0["text"] as? String == "beta" && $0["stream"] as? String == "err" })
        let stamped = try fixture.run("logs", "mix", "--timestamps", "--grep", "beta", "--utc").stdout
        #expect(stamped.range(of: #"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z \[err\] beta"#, options: .regularExpression) != nil)
        // In local time by default: the zone TZ names, with its offset.
        let local = try fixture.run(["logs", "mix", "-t", "--grep", "beta"], environment: ["TZ": "Asia/Kolkata"]).stdout
        #expect(
            local.range(of: #"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} \+05:30 \[err\] beta"#, options: .regularExpression) != nil,
            "\(local)")
        // --since takes a local time: a minute ago, as HH:MM in that zone, finds the line.
        let formatter = DateFormatter()
        formatter.timeZone = TimeZone(identifier: "Asia/Kolkata")
        formatter.dateFormat = "yyyy-MM-dd HH:mm"
        let minuteAgo = formatter.string(from: Date().addingTimeInterval(-60))
        let since = try fixture.run(["logs", "mix", "--since", minuteAgo], environment: ["TZ": "Asia/Kolkata"])
        #expect(since.status == 0 && since.stdout.contains("beta"), "\(since.stderr)")
    }

    @Test("logs without a name merges every process, each line prefixed with its name")
    func allProcesses() throws {
        let fixture = try CLIFixture()
        defer { fixture.cleanUp() }
        #expect(try fixture.run("start", "--name", "one", "--command", "echo from-one; exec sleep 300").status == 0)
        #expect(try fixture.run("start", "--name", "two", "--command", "echo from-two; exec sleep 300").status == 0)
        #expect(fixture.eventually { try fixture.run("logs").stdout.contains("from-two") })
        let lines = try fixture.run("logs").stdout.split(separator: "\n")
        #expect(lines.contains("one | from-one"))
        #expect(lines.contains("two | from-two"))
    }

    @Test("on a terminal, each process's prefix has its own color, by position: web and db differ")
    func colorsByPosition() throws {
        let fixture = try CLIFixture()
        defer { fixture.cleanUp() }
        for name in ["web", "db"] {
            #expect(
                try fixture.run("start", "--name", name, "--command", "echo from-\(name); echo oops >&2; exec sleep 300").status
                    == 0)
        }
        #expect(fixture.eventually { try fixture.run("logs").stdout.contains("from-web") })
        #expect(fixture.eventually { try fixture.run("logs", "web").stdout.contains("oops") })
        // A line of stderr: its mark in red, its text as it was.
        let single = try fixture.onTerminal("logs web", noColor: nil)
        #expect(single.contains("\u{1B}[31m[err]\u{1B}[0m oops"), "\(single.debugDescription)")
        // script(1) runs the command on a pseudo-terminal, so colors are on (NO_COLOR unset).
        let output = try fixture.onTerminal("logs", noColor: nil)
        #expect(output.contains("\u{1B}[36mdb  |\u{1B}[0m from-db"), "\(output.debugDescription)")
        #expect(output.contains("\u{1B}[33mweb |\u{1B}[0m from-web"), "\(output.debugDescription)")
    }

    @Test("logs --follow without a name streams every process, including one started later")
    func followAll() throws {
        let fixture = try CLIFixture()
        defer { fixture.cleanUp() }
        #expect(try fixture.run("start", "one", "--", "/bin/sh", "-c", "while read l; do echo \"one:$l\"; done").status == 0)
        let follower = Follower(fixture: fixture, name: nil)
        defer { follower.stop() }
        #expect(try fixture.run("send", "one", "hello").status == 0)
        #expect(follower.waitFor("one | one:hello"))
        #expect(try fixture.run("start", "--name", "two", "--command", "echo two-is-up; exec sleep 300").status == 0)
        #expect(follower.waitFor("two | two-is-up"))
    }

    @Test("--follow streams new lines across a rotation and a restart")
    func followAcrossRotationAndRestart() throws {
        let fixture = try CLIFixture()
        defer { fixture.cleanUp() }
        let script = "while read line; do echo \"got $line\"; if [ \"$line\" = big ]; then seq 1 20000; fi; done"
        #expect(
            try fixture.run("start", "--name", "chat", "--log-max-size", "64K", "--log-keep", "50", "--", "/bin/sh", "-c", script)
                .status == 0)
        let follower = Follower(fixture: fixture, name: "chat")
        defer { follower.stop() }
        #expect(try fixture.run("send", "chat", "first").status == 0)
        #expect(follower.waitFor("got first"))
        #expect(try fixture.run("send", "chat", "big").status == 0)
        #expect(follower.waitFor("20000"))
        #expect(FileManager.default.fileExists(atPath: fixture.home + "/procs/chat/logs/previous.1.log"))
        #expect(try fixture.run("restart", "chat").status == 0)
        #expect(try fixture.run("send", "chat", "after-restart").status == 0)
        #expect(follower.waitFor("got after-restart"))
        let seen = follower.output.split(separator: "\n").compactMap { Int($0) }
        #expect(seen == Array(1...20000), "every line of the burst, across the rotation")
    }

    @Test("deleting the logs folder of a running process loses only what was in it")
    func deletedLogsFolder() throws {
        let fixture = try CLIFixture()
        defer { fixture.cleanUp() }
        let script = "i=0; while true; do i=$((i+1)); echo tick $i; sleep 0.05; done"
        #expect(try fixture.run("start", "--name", "ticker", "--", "/bin/sh", "-c", script).status == 0)
        #expect(fixture.eventually { try fixture.run("logs", "ticker").stdout.contains("tick 2") })
        try FileManager.default.removeItem(atPath: fixture.home + "/procs/ticker/logs")
        #expect(fixture.eventually { try fixture.run("logs", "ticker").stdout.contains("tick ") })
        let ticks = try fixture.run("logs", "ticker").stdout.split(separator: "\n").compactMap { Int($0.dropFirst(5)) }
        #expect(ticks.count >= 1 && ticks.first ?? 0 > 2, "lines after the deletion: \(ticks.prefix(3))")
    }

    @Test("continued pieces print as one line: a 1 MiB line through the pipe, and a prompt with its answer")
    func piecesJoined() throws {
        let fixture = try CLIFixture()
        defer { fixture.cleanUp() }
        let big = "head -c 1048576 /dev/zero | tr '\\0' a; echo; printf 'Continue? '; sleep 0.4; echo yes; exec sleep 300"
        #expect(try fixture.run("start", "--name", "long", "--command", big).status == 0)
        #expect(fixture.eventually { try fixture.run("logs", "long").stdout.contains("yes") })
        let lines = try fixture.run("logs", "long").stdout.split(separator: "\n").map(String.init)
        #expect(lines.contains("Continue? yes"))
        #expect(lines.contains { $0.count == 1_048_576 && $0.allSatisfy { $0 == "a" } }, "one line of 1 MiB")
        let records = try fixture.run("logs", "long", "--json").stdout.split(separator: "\n")
        #expect(records.count > 16, "--json keeps one record per piece: \(records.count)")
    }

    @Test("pieces are not joined across a restart, nor under a grep that left out the rest of a line")
    func piecesNotJoinedAcrossRunsOrGrep() throws {
        let fixture = try CLIFixture()
        defer { fixture.cleanUp() }
        // The last words of a run have no newline; the next run's first line is not their end.
        _ = try fixture.run("start", "--name", "u", "--command", "printf unfinished")
        #expect(fixture.eventually { fixture.state("u") == "exited" })
        _ = try fixture.run("start", "u")
        #expect(fixture.eventually { try fixture.run("logs", "u").stdout.components(separatedBy: "started pid").count == 3 })
        #expect(fixture.eventually { fixture.state("u") == "exited" })
        let runs = try fixture.run("logs", "u").stdout.split(separator: "\n")
        #expect(runs.filter { $0 == "unfinished" }.count == 2, "\(runs)")

        let asks = "printf 'ask: '; sleep 1; echo answer; echo 'ask: second'; exec sleep 300"
        #expect(try fixture.run("start", "--name", "q", "--command", asks).status == 0)
        #expect(fixture.eventually { try fixture.run("logs", "q").stdout.contains("ask: second") })
        let grep = try fixture.run("logs", "q", "--grep", "^ask").stdout.split(separator: "\n").map(String.init)
        #expect(grep == ["ask: ", "ask: second"], "\(grep)")
    }
}

/// A `runit logs NAME --follow` running in the background, its output collected.
final class Follower: @unchecked Sendable {
    // `buffer` and `errorBuffer` are guarded by `lock`; the process is only touched from the test.
    private let process = Process()
    private let lock = NSLock()
    private var buffer = Data()
    private var errorBuffer = Data()

    init(fixture: CLIFixture, name: String?, options: [String] = []) {
        process.executableURL = URL(fileURLWithPath: CLIFixture.binary)
        process.arguments = ["logs"] + (name.map { [$0] } ?? []) + ["--follow", "--lines", "1000"] + options
        var env = ProcessInfo.processInfo.environment
        env["RUNIT_HOME"] = fixture.home
        env["NO_COLOR"] = "1"
        process.environment = env
        let pipe = Pipe()
        process.standardOutput = pipe
        pipe.fileHandleForReading.readabilityHandler = { [weak self] handle in
            let data = handle.availableData
            guard let self else { return }
            self.lock.lock()
            self.buffer.append(data)
            self.lock.unlock()
        }
        let errorPipe = Pipe()
        process.standardError = errorPipe
        errorPipe.fileHandleForReading.readabilityHandler = { [weak self] handle in
            let data = handle.availableData
            guard let self else { return }
            self.lock.lock()
            self.errorBuffer.append(data)
            self.lock.unlock()
        }
        try? process.run()
    }

    var output: String {
        lock.lock()
        defer { lock.unlock() }
        return String(decoding: buffer, as: UTF8.self)
    }

    /// What it wrote to stderr so far.
    var errorOutput: String {
        lock.lock()
        defer { lock.unlock() }
        return String(decoding: errorBuffer, as: UTF8.self)
    }

    /// Its exit status, once it has ended.
    var exitStatus: Int32 { process.terminationStatus }

    func waitFor(_ text: String, timeout: Double = 15) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if output.contains(text) { return true }
            usleep(20_000)
        }
        return false
    }

    /// Whether the follow has ended by itself within `timeout` seconds.
    func endsBy(_ timeout: Double) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        return !process.isRunning
    }

    func stop() {
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
    }
}
