import Foundation
import Testing

/// `runit` is a front without Foundation: the plain `list`, `status`, `stop` and `start` run in
/// it, anything else in `runit-cli`. A user must not be able to tell which one answered.
@Suite("The front and the full CLI")
struct FrontTests {
    @Test("list and status, text and JSON, and their errors: the same bytes from the front and from runit-cli")
    func sameOutput() throws {
        let fixture = try CLIFixture()
        defer { fixture.cleanUp() }
        #expect(
            try fixture.run("start", "done", "--env", "API_TOKEN=s3cret", "--env", "URL=postgres://u:pw@h/db", "--", "true")
                .status == 0)
        #expect(try fixture.run("start", "bad", "--", "sh", "-c", "echo 'a \"quoted\" line\tand tab'; exit 3").status == 1)
        #expect(try fixture.run("start", "gone", "--", "sleep", "300").status == 0)
        #expect(try fixture.run("stop", "gone").stdout.contains("stopped gone"))
        #expect(fixture.eventually { fixture.state("done") == "exited" })
        for arguments in [
            ["list"], ["list", "--json"], ["ls"], ["status", "done"], ["status", "bad", "--json"], ["status", "gone"],
            ["status", "nosuch"], ["status", "nosuch", "--json"], ["status", "don"],
        ] {
            let front = try fixture.run(arguments)
            let full = try fixture.run(arguments, tool: "runit-cli")
            #expect(front.stdout == full.stdout, "\(arguments): \(front.stdout) | \(full.stdout)")
            #expect(front.stderr == full.stderr, "\(arguments): \(front.stderr) | \(full.stderr)")
            #expect(front.status == full.status, "\(arguments)")
        }
        let status = try fixture.run("status", "done", "--json").stdout
        #expect(status.contains(#""API_TOKEN" : "****""#) && status.contains("postgres://u:***@h/db"), "\(status)")
        #expect(
            try fixture.run("status", "nosuch").stderr
                == "runit: no process named 'nosuch'; run 'runit list' to see the processes\n")
    }

    @Test("without runit-cli beside it, the front still lists and says what is missing for the rest")
    func missingFullCLI() throws {
        let fixture = try CLIFixture()
        defer { fixture.cleanUp() }
        let missing = ["RUNIT_CLI": fixture.scratch + "/no-such-runit-cli"]
        #expect(try fixture.run(["start", "w", "--", "sleep", "300"]).status == 0)
        let list = try fixture.run(["list"], environment: missing)
        #expect(list.status == 0 && list.stdout.contains("running"), "\(list.stderr)")
        let logs = try fixture.run(["logs", "w"], environment: missing)
        #expect(logs.status == 1)
        #expect(logs.stderr.contains("cannot run the full CLI \(fixture.scratch)/no-such-runit-cli"), "\(logs.stderr)")
        #expect(logs.stderr.contains("install runit-cli beside runit"), "\(logs.stderr)")
        // A plain stop and start run in the front alone.
        #expect(try fixture.run(["stop", "w"], environment: missing).stdout.contains("stopped w"))
        #expect(try fixture.run(["start", "w", "--settle", "0"], environment: missing).stdout.contains("started w"))
        // Everything else reaches the full CLI with its arguments whole, messages naming `runit`.
        let help = try fixture.run(["stop", "--help"])
        #expect(help.status == 0 && help.stdout.contains("USAGE: runit stop"), "\(help.stdout)")
    }

    @Test("start NAME with options and a program runs in the front alone, and says what a bad value takes")
    func startWithOptions() throws {
        let fixture = try CLIFixture()
        defer { fixture.cleanUp() }
        let missing = ["RUNIT_CLI": fixture.scratch + "/no-such-runit-cli"]
        let started = try fixture.run(
            [
                "start", "web", "--restart", "on-failure", "--log-keep", "3", "-e", "GREETING=hello", "--env", "WHO=front",
                "--settle", "0", "--", "sh", "-c", "echo \"$GREETING $WHO\"; exec sleep 300",
            ], environment: missing)
        #expect(started.status == 0 && started.stdout.hasPrefix("started web (pid "), "\(started.stderr)")
        #expect(fixture.eventually { (try? fixture.run(["logs", "web"]).stdout.contains("hello front")) == true })
        let status = try fixture.run(["status", "web", "--json"], environment: missing).stdout
        #expect(status.contains(#""restart_policy" : "on-failure""#) && status.contains(#""WHO" : "front""#), "\(status)")
        let spec = try String(contentsOfFile: fixture.home + "/procs/web/spec.json", encoding: .utf8)
        #expect(spec.contains(#""log_keep" : 3"#), "\(spec)")
        let json = try fixture.run(["start", "once", "--json", "--", "true"], environment: missing)
        #expect(json.status == 0 && json.stdout.contains(#""name" : "once""#), "\(json.stdout) \(json.stderr)")
        // A bad value: the full CLI's message and exit code, from the front.
        let bad = try fixture.run(["start", "w", "--restart", "sometimes", "--", "true"], environment: missing)
        let badFull = try fixture.run(["start", "w", "--restart", "sometimes", "--", "true"], tool: "runit-cli")
        #expect(bad.status == badFull.status && bad.status != 0)
        #expect(bad.stderr == badFull.stderr && bad.stderr.contains("is not a policy; give one of: never, on-failure, always"))
        let badJSON = try fixture.run(["start", "w", "--log-max-size", "huge", "--json", "--", "true"], environment: missing)
        #expect(badJSON.status != 0 && badJSON.stdout.hasPrefix(#"{"error":{"code":"invalid_input""#), "\(badJSON.stdout)")
        // A form the front leaves alone still reaches the full CLI.
        let waited = try fixture.run(["start", "w", "--wait", "--", "sleep", "300"], environment: missing)
        #expect(waited.status == 1 && waited.stderr.contains("cannot run the full CLI"), "\(waited.stderr)")
        // A `--json` after `--` is the program's: errors stay text on stderr (found by a hostile review).
        for tool in ["runit", "runit-cli"] {
            let program = try fixture.run(["start", "j", "--restart", "bogus", "--", "echo", "--json"], tool: tool)
            #expect(program.stdout.isEmpty && program.stderr.hasPrefix("runit: --restart 'bogus'"), "\(tool): \(program)")
        }
        // With stdout closed, both say the same, and the output goes nowhere else.
        for tool in [CLIFixture.binary, CLIFixture.binary + "-cli"] {
            let closed = try fixture.run(["-c", #"exec "$0" start "c$$" -- sleep 300 >&-"#, tool], tool: "/bin/sh")
            #expect(closed.status == 1 && closed.stderr == "runit: cannot write the output: Bad file descriptor\n", "\(closed)")
        }
        // The stored command again, with new settings: those given replace the stored ones,
        // from the front and from runit-cli alike; the others stay.
        _ = try fixture.run(["stop", "web"])
        let again = try fixture.run(["start", "web", "--restart", "always", "--log-keep", "4"], environment: missing)
        #expect(again.status == 0, "\(again.stderr)")
        _ = try fixture.run(["stop", "web"])
        let full = try fixture.run(["start", "web", "--log-max-size", "64K", "--settle", "0"], tool: "runit-cli")
        #expect(full.status == 0, "\(full.stderr)")
        let stored = try String(contentsOfFile: fixture.home + "/procs/web/spec.json", encoding: .utf8)
        #expect(stored.contains(#""restart" : "always""#) && stored.contains(#""log_keep" : 4"#), "\(stored)")
        #expect(stored.contains(#""log_max_size" : 65536"#) && stored.contains("GREETING"), "\(stored)")
        _ = try fixture.run(["stop", "web"])
    }

    @Test(
        "found by review: output that cannot be written fails; a runit-cli that is the front is refused; --json errors stay JSON")
    func reviewFindings() throws {
        let fixture = try CLIFixture()
        defer { fixture.cleanUp() }
        #expect(try fixture.run(["start", "w", "--", "sleep", "300"]).status == 0)
        // A full disk under `list --json > file`: exit 1 and the reason, never a silent empty file.
        for arguments in [["list", "--json"], ["status", "w"], ["logs", "w"]] {
            let full = try fixture.run(["-c", "\"$0\" \"$@\" > /dev/full", CLIFixture.binary] + arguments, tool: "/bin/sh")
            #expect(full.status == 1, "\(arguments)")
            #expect(full.stderr.contains("cannot write the output: No space left on device"), "\(full.stderr)")
        }
        let loop = try fixture.run(["logs", "w"], environment: ["RUNIT_CLI": CLIFixture.binary])
        #expect(loop.status == 1 && loop.stderr.contains("it is this front executable, not the full CLI"), "\(loop.stderr)")
        let json = try fixture.run(["logs", "w", "--json"], environment: ["RUNIT_CLI": fixture.scratch + "/none"])
        #expect(json.status == 1 && json.stdout.hasPrefix(#"{"error":{"code":"failed","message":"cannot run the full CLI"#))
        // A command of nothing but white space of any kind is refused, and nothing is created.
        for blank in ["\u{B}", "\r\n", "\u{A0}", "\u{3000}"] {
            let start = try fixture.run(["start", "t", "--command", blank])
            #expect(start.status == 2 && start.stderr.contains("the command for 't' is empty"), "\(start.stderr)")
        }
        #expect(!(try fixture.run(["list"]).stdout.contains("t ")))
    }
}
