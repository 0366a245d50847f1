import CRunitSystem
import Foundation
import RunitKit
import Testing

/// A tmux server of its own (its own socket, no configuration file) with one 80x24 window.
final class TmuxSession {
    static let executable: String? = {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        let directories = path.split(separator: ":").map(String.init) + ["/usr/bin", "/usr/local/bin", "/opt/homebrew/bin"]
        return directories.map { $0 + "/tmux" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }()

    let socket = "runit-top-test-\(UUID().uuidString.prefix(8))"

    /// Starts the server with a window running `command` through the shell.
    init(command: String) throws {
        let result = try run(["new-session", "-d", "-x", "80", "-y", "24", "-s", "top", command])
        #expect(result.status == 0, "tmux new-session: \(result.output)")
    }

    /// Runs `tmux ARGS...` on this server; what it printed and its exit status.
    ///
    /// Not with Foundation's `Process`: it learns that a child ended when a socket it gives the
    /// child closes, and the server the first command forks keeps every descriptor it got, so
    /// that `waitUntilExit` would wait for the server. Here the child gets its output file and
    /// nothing else (every other descriptor closed), and `waitpid` waits for it alone.
    @discardableResult
    func run(_ arguments: [String]) throws -> (output: String, status: Int32) {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("tmux-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let argv = [Self.executable ?? "/usr/bin/tmux", "-L", socket, "-f", "/dev/null"] + arguments
        let spawned = Spawn.run(argv, detach: .newProcessGroup) { actions in
            posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
            posix_spawn_file_actions_addopen(&actions, 1, path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
            posix_spawn_file_actions_adddup2(&actions, 1, 2)
            _ = crunit_spawn_addclosefrom(&actions, 3)
        }
        let pid = try spawned.get()
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let output = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        return (output, crunit_wifexited(status) != 0 ? crunit_wexitstatus(status) : -1)
    }

    /// What the window shows now, wrapped lines joined; with `escapes`, its colours and
    /// attributes as escape sequences too.
    func screen(escapes: Bool = false) -> String {
        (try? run(["capture-pane", "-p", "-J"] + (escapes ? ["-e"] : []) + ["-t", "top"]).output) ?? ""
    }

    /// A format of the window (`#{alternate_on}`, `#{cursor_flag}`).
    func format(_ text: String) -> String {
        ((try? run(["display-message", "-p", "-t", "top", text]).output) ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func send(_ keys: String...) {
        _ = try? run(["send-keys", "-t", "top"] + keys)
    }

    /// Ends the server and everything in its window.
    func kill() {
        _ = try? run(["kill-server"])
    }
}

@Suite("runit top in a real terminal (tmux, 80x24)", .serialized)
struct TopTests {
    /// A process that prints a numbered line three times a second.
    static let printer = ["sh", "-c", "i=0; while :; do i=$((i+1)); echo \"tick-$i from the printer\"; sleep 0.3; done"]

    /// `runit top` on the fixture's home, as a shell command; `NO_COLOR` set or empty.
    static func topCommand(_ fixture: CLIFixture, noColor: Bool = false) -> String {
        "NO_COLOR=\(noColor ? "1" : "") RUNIT_HOME='\(fixture.home)' '\(CLIFixture.binary)' top"
    }

    /// The shell line that runs `runit top` in the window: the terminal's settings are saved
    /// before and after (`stty -g`), and what top exited with is printed, then `stty -a`.
    static func topLine(_ fixture: CLIFixture, exec: Bool = false, noColor: Bool = false) -> String {
        let top = topCommand(fixture, noColor: noColor)
        let run =
            exec ? "sh -c 'echo $$ > \(fixture.scratch)/top.pid; exec env \(top.replacingOccurrences(of: "'", with: ""))'" : top
        // `after` appears whole (a rename), so that it is never read half written.
        let saveAfter = "stty -g > \(fixture.scratch)/after.new; mv \(fixture.scratch)/after.new \(fixture.scratch)/after"
        return "stty -g > \(fixture.scratch)/before; \(run); echo TOP-EXITED=$?; \(saveAfter); stty -a; sleep 60"
    }

    /// Waits until the terminal is back as it was: the same settings as before top, in canonical
    /// mode with echo, the normal screen, the cursor shown.
    static func expectRestored(_ tmux: TmuxSession, _ fixture: CLIFixture, exitedWith status: String) {
        #expect(fixture.eventually(timeout: 30) { tmux.screen().contains("TOP-EXITED=\(status)") }, "\(tmux.screen())")
        #expect(fixture.eventually { FileManager.default.fileExists(atPath: fixture.scratch + "/after") })
        let before = try? String(contentsOfFile: fixture.scratch + "/before", encoding: .utf8)
        let after = try? String(contentsOfFile: fixture.scratch + "/after", encoding: .utf8)
        #expect(
            before != nil && before == after,
            "the terminal's settings are those from before top: \(before ?? "-") \(after ?? "-")\n\(tmux.screen())")
        #expect(fixture.eventually { tmux.screen().contains(" icanon") })
        let screen = tmux.screen()
        #expect(!screen.contains("-icanon") && !screen.contains("-echo ") && screen.contains(" echo "), "\(screen)")
        #expect(!screen.contains("runit top  "), "the alternate screen is gone: \(screen)")
        #expect(tmux.format("#{alternate_on}") == "0")
        #expect(tmux.format("#{cursor_flag}") == "1", "the cursor is shown again")
    }

    @Test(
        "top shows a process, its state and its output; r restarts it; q quits and the terminal is as it was",
        .enabled(if: TmuxSession.executable != nil, "tmux is not installed"))
    func restartAndQuit() throws {
        let fixture = try CLIFixture()
        defer { fixture.cleanUp() }
        let start = try fixture.run(["start", "printer", "--"] + Self.printer)
        #expect(start.status == 0, "\(start.stderr)")
        let before = try fixture.status("printer")
        let firstPID = try #require(before["pid"] as? Int)
        let tmux = try TmuxSession(command: Self.topLine(fixture))
        defer { tmux.kill() }

        let shown = fixture.eventually(timeout: 30) {
            let screen = tmux.screen()
            return screen.contains("printer") && screen.contains("running") && screen.contains("tick-")
                && screen.contains(String(firstPID))
        }
        #expect(shown, "top shows the process, its state, its pid and its output:\n\(tmux.screen())")
        #expect(tmux.format("#{alternate_on}") == "1", "top draws on the alternate screen")
        #expect(tmux.screen(escapes: true).contains("\u{1B}[7m"), "colours and attributes without NO_COLOR")
        // capture-pane ends each of the 24 rows with a newline.
        let lines = tmux.screen().split(separator: "\n", omittingEmptySubsequences: false).dropLast()
        #expect(lines.count == 24 && lines.allSatisfy { $0.count <= 80 }, "the frame fits 80x24")
        #expect(lines.first?.contains("runit top") == true && lines.last?.contains("q quit") == true, "\(lines)")
        // PgUp scrolls the log pane back and says so (once the log has more lines than the pane
        // holds: until then there is nothing above to scroll to); f follows it again.
        let scrolled = fixture.eventually(timeout: 30) {
            tmux.send("PPage")
            return tmux.screen().contains("lines back")
        }
        #expect(scrolled, "\(tmux.screen())")
        tmux.send("f")
        #expect(fixture.eventually(timeout: 30) { !tmux.screen().contains("lines back") }, "\(tmux.screen())")

        tmux.send("r")
        let restarted = fixture.eventually(timeout: 30) {
            let status = try fixture.status("printer")
            return (status["pid"] as? Int).map { $0 != firstPID } == true && (status["restarts"] as? Int ?? 0) >= 1
                && status["state"] as? String == "running"
        }
        #expect(restarted, "r restarted the process: \((try? fixture.status("printer")) ?? [:])")
        let newPID = (try fixture.status("printer")["pid"] as? Int) ?? 0
        #expect(fixture.eventually(timeout: 30) { tmux.screen().contains(String(newPID)) }, "\(tmux.screen())")
        #expect(tmux.screen().contains("restarted printer") || tmux.screen().contains("started pid"), "\(tmux.screen())")

        tmux.send("q")
        Self.expectRestored(tmux, fixture, exitedWith: "0")
        #expect(fixture.state("printer") == "running", "quitting top leaves the processes alone")
    }

    @Test(
        "s stops the selected process and starts it again; / filters; Ctrl-C quits cleanly",
        .enabled(if: TmuxSession.executable != nil, "tmux is not installed"))
    func stopStartFilterAndInterrupt() throws {
        let fixture = try CLIFixture()
        defer { fixture.cleanUp() }
        #expect(try fixture.run(["start", "alpha", "--"] + Self.printer).status == 0)
        #expect(try fixture.run(["start", "beta", "--", "sleep", "300"]).status == 0)
        let tmux = try TmuxSession(command: Self.topLine(fixture, noColor: true))
        defer { tmux.kill() }
        #expect(fixture.eventually(timeout: 30) { tmux.screen().contains("alpha") && tmux.screen().contains("beta") })
        #expect(!tmux.screen(escapes: true).contains("\u{1B}"), "NO_COLOR: no colour and no attribute")

        // The arrows arrive as escape sequences; enter focuses the log, esc (a lone ESC) leaves it.
        tmux.send("Down")
        #expect(fixture.eventually(timeout: 30) { tmux.screen().contains("> beta") }, "\(tmux.screen())")
        tmux.send("Up", "Enter")
        #expect(fixture.eventually(timeout: 30) { tmux.screen().contains("── log of alpha") }, "\(tmux.screen())")
        tmux.send("Escape")
        #expect(fixture.eventually(timeout: 30) { tmux.screen().contains("── logs ─") }, "\(tmux.screen())")

        // Filter down to beta: it is the only one shown, and so the selected one.
        tmux.send("/", "b", "e", "t", "Enter")
        #expect(fixture.eventually(timeout: 30) { !tmux.screen().contains("> alpha") && tmux.screen().contains("> beta") })
        tmux.send("s")
        #expect(fixture.eventually(timeout: 30) { fixture.state("beta") == "stopped" }, "s stopped beta")
        // Its row says so (not only the message at the bottom) before `s` is pressed again.
        let stoppedRow = { tmux.screen().split(separator: "\n").contains { $0.hasPrefix("> beta") && $0.contains(" stopped ") } }
        #expect(fixture.eventually(timeout: 30) { stoppedRow() }, "\(tmux.screen())")
        #expect(fixture.state("alpha") == "running")
        tmux.send("s")
        #expect(fixture.eventually(timeout: 30) { fixture.state("beta") == "running" }, "s started beta again")
        tmux.send("Escape")
        #expect(fixture.eventually(timeout: 30) { tmux.screen().contains("alpha") }, "esc cleared the filter")

        tmux.send("C-c")
        Self.expectRestored(tmux, fixture, exitedWith: "0")
    }

    @Test(
        "SIGTERM, and a crash (SIGSEGV), still put the terminal back",
        .enabled(if: TmuxSession.executable != nil, "tmux is not installed"),
        arguments: [("TERM", "143"), ("SEGV", "139")])
    func signals(signal: String, status: String) throws {
        let fixture = try CLIFixture()
        defer { fixture.cleanUp() }
        #expect(try fixture.run(["start", "idle", "--", "sleep", "300"]).status == 0)
        let tmux = try TmuxSession(command: Self.topLine(fixture, exec: true))
        defer { tmux.kill() }
        #expect(fixture.eventually(timeout: 30) { tmux.screen().contains("idle") && tmux.format("#{alternate_on}") == "1" })
        let pidText = try String(contentsOfFile: fixture.scratch + "/top.pid", encoding: .utf8)
        let pid = try #require(Int32(pidText.trimmingCharacters(in: .whitespacesAndNewlines)))
        kill(pid, signal == "TERM" ? SIGTERM : SIGSEGV)
        Self.expectRestored(tmux, fixture, exitedWith: status)
    }

    @Test("Without a terminal on its input and output, top says so and exits 2")
    func notATerminal() throws {
        let fixture = try CLIFixture()
        defer { fixture.cleanUp() }
        let result = try fixture.run("top")
        #expect(result.status == 2, "\(result)")
        #expect(result.stderr.contains("top needs a terminal") && result.stdout.isEmpty, "\(result.stderr)")
    }

    @Test(
        "Ctrl-Z stops top with the terminal as it was; fg brings the view back",
        .enabled(if: TmuxSession.executable != nil, "tmux is not installed"),
        .enabled(if: FileManager.default.isExecutableFile(atPath: "/bin/bash"), "bash is not installed"))
    func suspendAndResume() throws {
        let fixture = try CLIFixture()
        defer { fixture.cleanUp() }
        #expect(try fixture.run(["start", "idle", "--", "sleep", "300"]).status == 0)
        // An interactive shell, for its job control.
        let tmux = try TmuxSession(command: "PS1='$ ' /bin/bash --norc --noprofile -i")
        defer { tmux.kill() }
        #expect(fixture.eventually(timeout: 30) { tmux.screen().contains("$ ") })
        tmux.send(Self.topCommand(fixture), "Enter")
        #expect(fixture.eventually(timeout: 30) { tmux.screen().contains("idle") && tmux.format("#{alternate_on}") == "1" })
        tmux.send("C-z")
        #expect(fixture.eventually(timeout: 30) { tmux.screen().contains("Stopped") }, "\(tmux.screen())")
        #expect(tmux.format("#{alternate_on}") == "0" && tmux.format("#{cursor_flag}") == "1")
        tmux.send("stty -a | tr ' ' '\\n' | grep -x -e icanon -e echo | sort | tr '\\n' +", "Enter")
        #expect(fixture.eventually { tmux.screen().contains("echo+icanon+") }, "the shell's terminal is sane: \(tmux.screen())")
        tmux.send("fg", "Enter")
        #expect(fixture.eventually(timeout: 30) { tmux.format("#{alternate_on}") == "1" && tmux.screen().contains("> idle") })
        tmux.send("q")
        #expect(fixture.eventually(timeout: 30) { tmux.format("#{alternate_on}") == "0" })
        tmux.send("echo TOP-EXITED=$?", "Enter")
        #expect(fixture.eventually(timeout: 30) { tmux.screen().contains("TOP-EXITED=0") }, "\(tmux.screen())")
    }
}
