import Foundation
import Testing

@Suite("A CLI that forgives: aliases, the nearest command, the missing --, Python's buffering")
struct ForgivingTests {
    @Test("an unknown command names the nearest one; help of one that does not exist is an error; rm and ps work")
    func nearestCommands() throws {
        let fixture = try CLIFixture()
        defer { fixture.cleanUp() }
        let stat = try fixture.run("stat", "web")
        #expect(stat.status == 2 && stat.stderr.contains("'stat' is not a command; did you mean 'status'?"), "\(stat.stderr)")
        let typo = try fixture.run("stpo", "web")
        #expect(typo.stderr.contains("did you mean 'stop'?"), "\(typo.stderr)")
        let help = try fixture.run("help", "nosuch")
        #expect(help.status == 2 && help.stderr.contains("there is no command 'nosuch'"), "\(help.stderr)")
        #expect(try fixture.run("help", "stop").status == 0)
        #expect(try fixture.run("start", "web", "--", "sleep", "300").status == 0)
        #expect(try fixture.run("ps").stdout.contains("web"))
        let removed = try fixture.run("rm", "web")
        #expect(removed.status == 0 && removed.stdout.contains("removed web"), "\(removed.stderr)")
    }

    @Test("shell completions: bash, zsh and fish scripts, and process and project names completed")
    func completions() throws {
        let fixture = try CLIFixture()
        defer { fixture.cleanUp() }
        for shell in ["bash", "zsh", "fish"] {
            let script = try fixture.run("--generate-completion-script", shell)
            #expect(script.status == 0 && script.stdout.contains("---completion"), "\(shell)")
        }
        for name in ["web-1", "worker", "db"] { #expect(try fixture.run("start", name, "--", "sleep", "300").status == 0) }
        let names = try fixture.run("---completion", "stop", "--", "positional@0", "2", "1", "runit", "stop", "w")
        #expect(names.stdout.split(separator: "\n") == ["web-1", "worker"], "\(names.stdout) \(names.stderr)")
        let logs = try fixture.run("---completion", "logs", "--", "positional@0", "2", "0", "runit", "logs", "")
        #expect(logs.stdout.split(separator: "\n") == ["db", "web-1", "worker"], "\(logs.stdout)")
    }

    @Test("with --json, an error is JSON on stdout with the same exit code; an empty list is []")
    func jsonErrors() throws {
        let fixture = try CLIFixture()
        defer { fixture.cleanUp() }
        #expect(try fixture.run("list", "--json").stdout == "[]\n")
        let missing = try fixture.run("status", "nosuch", "--json")
        #expect(missing.status == 1 && missing.stderr.isEmpty, "\(missing.stderr)")
        let object = try JSONSerialization.jsonObject(with: Data(missing.stdout.utf8)) as? [String: [String: String]]
        #expect(object?["error"]?["code"] == "not_found" && object?["error"]?["message"]?.contains("nosuch") == true)
        let usage = try fixture.run("start", "x", "--restart", "sometimes", "--json", "--", "true")
        #expect(usage.status == 2 && usage.stdout.contains("\"code\":\"invalid_input\""), "\(usage.stdout)")
    }

    @Test("doctor: ok on a sound install, a lost process named, an unsafe state directory a failure")
    func doctor() throws {
        let fixture = try CLIFixture()
        defer { fixture.cleanUp() }
        let sound = try fixture.run("doctor")
        #expect(sound.status == 0, "\(sound.stdout) \(sound.stderr)")
        for line in ["ok   runit-supervise: ", "ok   runit-cli: ", "ok   runit-mcp: ", "ok   state: "] {
            #expect(sound.stdout.contains(line), "\(sound.stdout)")
        }
        #expect(try fixture.run("start", "api", "--", "sleep", "300").status == 0)
        try fixture.loseSupervisor("api")
        let lost = try fixture.run("doctor", "--json")
        #expect(lost.status == 0 && lost.stdout.contains("'runit resurrect' starts them"), "\(lost.stdout)")
        _ = try fixture.run("stop", "api")
        #expect(chmod(fixture.home, 0o777) == 0)
        defer { chmod(fixture.home, 0o700) }
        let unsafe = try fixture.run("doctor")
        #expect(unsafe.status == 1 && unsafe.stdout.contains("fail state: "), "\(unsafe.stdout)")
    }

    @Test("start NAME PROGRAM ARGS without -- says where the program goes")
    func missingDashes() throws {
        let fixture = try CLIFixture()
        defer { fixture.cleanUp() }
        let result = try fixture.run("start", "web", "python3", "-m", "http.server")
        #expect(result.status == 2)
        #expect(result.stderr.contains("put the program after --: runit start web -- python3 -m http.server"), "\(result.stderr)")
        #expect(fixture.state("web") == nil)
    }

    @Test("a Python process started from the CLI prints line by line, unless the caller set PYTHONUNBUFFERED")
    func pythonUnbuffered() throws {
        let fixture = try CLIFixture()
        defer { fixture.cleanUp() }
        let script = "import os, time; print('value', os.environ.get('PYTHONUNBUFFERED')); time.sleep(300)"
        #expect(try fixture.run(["start", "py", "--", "python3", "-c", script], unset: ["PYTHONUNBUFFERED"]).status == 0)
        #expect(fixture.eventually { try fixture.run("logs", "py").stdout.contains("value 1") })
        #expect(
            try fixture.status("py")["env"] as? [String: String] == nil
                || (try fixture.status("py")["env"] as? [String: String])?["PYTHONUNBUFFERED"] == nil,
            "it is not stored in the spec")
        let own = try fixture.run(["start", "own", "--", "python3", "-u", "-c", script], environment: ["PYTHONUNBUFFERED": "0"])
        #expect(own.status == 0)
        #expect(fixture.eventually { try fixture.run("logs", "own").stdout.contains("value 0") })
    }
}
