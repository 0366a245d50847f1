import Foundation
import Testing

/// One readiness kind: its options, and a command that meets it after a second or never does.
private struct ReadinessKind: CustomStringConvertible {
    var description: String
    var options: [String]
    var meets: [String]
    var never: [String]

    /// Every kind, in a fixture's scratch (the cmd check's flag file lives there).
    static func all(scratch: String, port: Int) -> [ReadinessKind] {
        let flag = scratch + "/ready-flag"
        return [
            ReadinessKind(
                description: "log", options: ["--ready-log", #"listening on \d+"#],
                meets: ["--command", "echo warming up; sleep 1; echo listening on 8080; sleep 300"],
                never: ["--command", "echo warming up; echo still warming up; sleep 300"]),
            ReadinessKind(
                description: "port", options: ["--ready-port", "\(port)"],
                meets: ["--command", httpServer(port: port, delay: 1)],
                never: ["--command", "echo warming up; echo still warming up; sleep 300"]),
            ReadinessKind(
                description: "http", options: ["--ready-http", "http://127.0.0.1:\(port)/"],
                meets: ["--command", httpServer(port: port, delay: 1)],
                never: ["--command", "echo warming up; echo still warming up; sleep 300"]),
            ReadinessKind(
                description: "cmd", options: ["--ready-cmd", "test -f \(shellQuoted(flag))"],
                meets: ["--command", "echo warming up; sleep 1; touch \(shellQuoted(flag)); sleep 300"],
                never: ["--command", "echo warming up; echo still warming up; sleep 300"]),
            ReadinessKind(
                description: "notify", options: ["--ready-notify"],
                meets: ["--command", notifyingProgram(after: 1).map(shellQuoted).joined(separator: " ")],
                never: ["--command", "echo warming up; echo still warming up; sleep 300"]),
        ]
    }
}

@Suite("Readiness: starting, then ready; start --wait and its timeout")
struct ReadinessTests {
    @Test(
        "each readiness kind (log, port, http, cmd, notify) takes the process from starting to ready, and start --wait returns then"
    )
    func eachKindBecomesReady() throws {
        for index in 0..<5 {
            let fixture = try CLIFixture()
            defer { fixture.cleanUp() }
            let kind = ReadinessKind.all(scratch: fixture.scratch, port: try freePort())[index]
            let start = try fixture.run(["start", "--name", "app"] + kind.options + kind.meets + ["--wait", "--timeout", "30s"])
            #expect(start.status == 0, "\(kind): \(start.stdout) \(start.stderr)")
            #expect(start.stdout.contains("app: ready"), "\(kind): \(start.stdout)")
            #expect(fixture.state("app") == "ready", "\(kind): start --wait returned before the process was ready")
            #expect(try fixture.run("status", "app").stdout.contains("\nstate:      ready\n"), "\(kind)")
            #expect(try fixture.run("wait", "app", "--ready", "--timeout", "5s").status == 0, "\(kind)")
            let list = try fixture.run("list", "--json")
            let entries = (try? JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [[String: Any]]) ?? []
            #expect(entries.first?["state"] as? String == "ready", "\(kind): \(list.stdout)")
        }
    }

    @Test("each readiness kind that is never met: start --wait --timeout exits 124 with the last lines, the process starting")
    func eachKindTimesOut() throws {
        for index in 0..<5 {
            let fixture = try CLIFixture()
            defer { fixture.cleanUp() }
            let kind = ReadinessKind.all(scratch: fixture.scratch, port: try freePort())[index]
            let start = try fixture.run(["start", "--name", "app"] + kind.options + kind.never + ["--wait", "--timeout", "2s"])
            #expect(start.status == 124, "\(kind): \(start.stdout) \(start.stderr)")
            #expect(start.stderr.contains("'app' did not get there in time"), "\(kind): \(start.stderr)")
            #expect(start.stderr.contains("  warming up\n  still warming up"), "\(kind): the last lines: \(start.stderr)")
            #expect(fixture.state("app") == "starting", "\(kind)")
            let wait = try fixture.run("wait", "app", "--ready", "--timeout", "1s")
            #expect(wait.status == 124, "\(kind): \(wait.stdout) \(wait.stderr)")
            #expect(wait.stderr.contains("still warming up"), "\(kind): \(wait.stderr)")
        }
    }

    @Test("start --wait of a process that exits before it is ready fails with exit 1 and this run's last lines")
    func exitBeforeReady() throws {
        let fixture = try CLIFixture()
        defer { fixture.cleanUp() }
        let start = try fixture.run(
            "start", "--name", "app", "--ready-log", "never printed", "--command",
            "echo loading config; sleep 1; echo config is broken >&2; exit 4", "--wait", "--timeout", "30s")
        #expect(start.status == 1, "\(start.stdout) \(start.stderr)")
        #expect(start.stderr.contains("loading config"), "\(start.stderr)")
        #expect(start.stderr.contains("config is broken"), "\(start.stderr)")
        #expect(start.stderr.contains("code 4"), "\(start.stderr)")
        #expect(fixture.state("app") == "exited")
    }

    @Test("a log check never fires on runit's own sys records: --ready-log started waits for the process's line")
    func logCheckIgnoresSysRecords() throws {
        let fixture = try CLIFixture()
        defer { fixture.cleanUp() }
        let start = try fixture.run(
            "start", "--name", "app", "--ready-log", "started", "--command", "sleep 2; echo Server started; sleep 300")
        #expect(start.status == 0, "\(start.stderr)")
        // The log holds "started pid N" at once; the process's own line comes after 2 s.
        #expect(fixture.eventually { try fixture.run("logs", "app").stdout.contains("started pid") })
        usleep(1_000_000)
        #expect(fixture.state("app") == "starting", "a sys record met the log check")
        let wait = try fixture.run("wait", "app", "--ready", "--timeout", "30s")
        #expect(wait.status == 0, "\(wait.stderr)")
        #expect(fixture.state("app") == "ready")
        #expect(try fixture.run("logs", "app").stdout.contains("Server started"))
    }

    @Test("a ready line the process writes in pieces, a pause between them, still matches --ready-log")
    func pausedLineMatches() throws {
        let fixture = try CLIFixture()
        defer { fixture.cleanUp() }
        let start = try fixture.run(
            "start", "--name", "app", "--ready-log", "listening on 8080", "--wait", "--timeout", "30s", "--command",
            "printf 'listening '; sleep 1; echo 'on 8080'; sleep 300")
        #expect(start.status == 0, "\(start.stdout) \(start.stderr)")
        #expect(fixture.state("app") == "ready")
    }

    @Test("a prompt that never ends its line (a REPL's '>>> ') matches --ready-log once its piece is written")
    func promptMatches() throws {
        let fixture = try CLIFixture()
        defer { fixture.cleanUp() }
        let start = try fixture.run(
            "start", "--name", "repl", "--ready-log", "^>>> ", "--wait", "--timeout", "20s", "--command",
            "printf '>>> '; exec sleep 300")
        #expect(start.status == 0, "\(start.stdout) \(start.stderr)")
        #expect(fixture.state("repl") == "ready")
    }

    @Test("a pattern that backtracks on long lines neither stalls the supervisor nor matches a line cut short")
    func heavyPatternOnLongLines() throws {
        let fixture = try CLIFixture()
        defer { fixture.cleanUp() }
        let script =
            "import time\nfor i in range(100): print('a' * 100000 + 'b', flush=True)\nprint('done', flush=True)\ntime.sleep(300)"
        #expect(try fixture.run("start", "heavy", "--ready-log", "^(a+)+$", "--", "python3", "-c", script).status == 0)
        #expect(fixture.eventually(timeout: 30) { try fixture.run("logs", "heavy", "--lines", "1").stdout.contains("done") })
        #expect(fixture.state("heavy") == "starting", "a line cut at the match limit met '$'")
        let stop = try fixture.run("stop", "heavy")
        #expect(stop.status == 0, "\(stop.stderr)")
    }

    @Test("READY=1 from a program outside the process's tree is ignored, and the log says so")
    func notifyFromOutsideIgnored() throws {
        let fixture = try CLIFixture()
        defer { fixture.cleanUp() }
        #expect(try fixture.run("start", "app", "--ready-notify", "--", "sleep", "300").status == 0)
        let pid = try #require(try fixture.status("app")["pid"] as? Int)
        let environ = try String(decoding: Data(contentsOf: URL(fileURLWithPath: "/proc/\(pid)/environ")), as: UTF8.self)
        let address = try #require(
            environ.split(separator: "\0").first { $0.hasPrefix("NOTIFY_SOCKET=") }.map { String($0.dropFirst(14)) })
        // The sender stays alive while the supervisor reads its datagram, so its pid can be checked.
        let sender = Process()
        sender.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        sender.arguments = [
            "python3", "-c",
            "import socket, time; s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); "
                + "s.connect('\\0' + '\(address.dropFirst())'); s.send(b'READY=1'); time.sleep(5)",
        ]
        try sender.run()
        defer { sender.terminate() }
        #expect(fixture.eventually { try fixture.run("logs", "app").stdout.contains("ignored READY=1 from pid") })
        #expect(fixture.state("app") == "starting", "an outsider's READY=1 made it ready")
    }

    @Test("a port check is not met by another program's listener on that port")
    func portCheckIgnoresOtherListeners() throws {
        let fixture = try CLIFixture()
        defer { fixture.cleanUp() }
        let listener = try TestListener()
        defer { listener.close() }
        let start = try fixture.run("start", "app", "--ready-port", "\(listener.port)", "--", "sleep", "300")
        #expect(start.status == 0, "\(start.stderr)")
        usleep(1_500_000)
        #expect(fixture.state("app") == "starting", "another program's listener made it ready")
        #expect(try fixture.run("wait", "app", "--ready", "--timeout", "1s").status == 124)
        #expect(try fixture.run("wait", "app", "--port", "\(listener.port)", "--timeout", "1s").status == 124)
        #expect(try fixture.ports("app") == [], "another program's port is not this one's")
    }

    @Test("a port check is not met by a process of another supervisor that a runit start in the tree made")
    func portCheckIgnoresAdoptedSupervisors() throws {
        let fixture = try CLIFixture()
        defer { fixture.cleanUp() }
        let port = try freePort()
        let inner = "\(CLIFixture.binary) start inner -- python3 -m http.server \(port) --bind 127.0.0.1"
        let start = try fixture.run("start", "outer", "--ready-port", "\(port)", "--command", inner + "; exec sleep 300")
        #expect(start.status == 0, "\(start.stderr)")
        let listening = try fixture.run("wait", "inner", "--port", "\(port)", "--timeout", "20s")
        #expect(listening.status == 0, "\(listening.stdout) \(listening.stderr)")
        usleep(1_500_000)
        #expect(
            fixture.state("outer") == "starting", "the port of 'inner', which a stop of 'outer' leaves running, made it ready")
    }

    @Test("a --ready-port or --health-port that another program listens on gets a warning naming it, as PORT does")
    func takenCheckPortWarns() throws {
        let fixture = try CLIFixture()
        defer { fixture.cleanUp() }
        let listener = try TestListener()
        defer { listener.close() }
        let warning = "port \(listener.port) is already in use by pid \(getpid())"
        let env = try fixture.run("start", "env", "--env", "PORT=\(listener.port)", "--", "sleep", "300")
        #expect(env.stderr.contains(warning), "PORT: \(env.stderr)")
        for option in ["--ready-port", "--health-port"] {
            let start = try fixture.run("start", "app\(option)", option, "\(listener.port)", "--", "sleep", "300")
            #expect(start.status == 0, "\(start.stderr)")
            #expect(start.stderr.contains(warning), "\(option): \(start.stderr)")
        }
    }

    @Test("--port auto with --wait returns once the process listens on that port, shown in status and list")
    func portAutoWaits() throws {
        let fixture = try CLIFixture()
        defer { fixture.cleanUp() }
        let start = try fixture.run(
            "start", "--name", "web", "--port", "auto", "--wait", "--timeout", "30s", "--command",
            "echo warming up; sleep 1; exec python3 -m http.server $PORT --bind 127.0.0.1")
        #expect(start.status == 0, "\(start.stdout) \(start.stderr)")
        let port = try #require(
            start.stdout.range(of: #"PORT=\d+"#, options: .regularExpression).map { Int(start.stdout[$0].dropFirst(5)) ?? 0 },
            "\(start.stdout)")
        // No polling here: --wait returned, so the port is already there.
        #expect(try fixture.ports("web") == [port])
        #expect(try fixture.run("status", "web").stdout.contains("\nports:      \(port)\n"))
        let list = try fixture.run("list", "--json")
        let entries = (try? JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [[String: Any]]) ?? []
        #expect(entries.first?["ports"] as? [Int] == [port], "\(list.stdout)")
    }

    @Test("a server that picks port 0 and a readiness log check: ready, and its chosen port is shown")
    func portZeroWithReadiness() throws {
        let fixture = try CLIFixture()
        defer { fixture.cleanUp() }
        let start = try fixture.run(
            ["start", "srv", "--ready-log", #"listening on \d+"#, "--wait", "--timeout", "30s", "--"] + pythonServer())
        #expect(start.status == 0, "\(start.stderr)")
        let port = fixture.listeningPort("srv")
        try #require(port > 0)
        #expect(fixture.state("srv") == "ready")
        #expect(fixture.eventually { try fixture.ports("srv") == [port] })
        #expect(try fixture.run("list").stdout.contains(" \(port) "))
    }
}
