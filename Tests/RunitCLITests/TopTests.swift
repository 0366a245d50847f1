import Foundation
import RunitKit
import Testing

/// `runit top` in a real terminal: tmux runs it at 80×24, keys are sent with send-keys and the
/// screen is read with capture-pane, as a person would see it.
@Suite("runit top in tmux", .serialized)
struct TopTests {
    /// A tmux server of its own (its own socket), killed at the end.
    final class Tmux {
        let socket = "runit-top-\(UUID().uuidString.prefix(8))"

        /// Runs a tmux command and returns what it printed. Spawned directly and waited for with
        /// waitpid: the server the first command starts stays alive with what it inherited, which
        /// Foundation's `Process` would wait on.
        @discardableResult
        func run(_ arguments: [String]) throws -> String {
            let path = FileManager.default.temporaryDirectory.appendingPathComponent("tmux-\(UUID().uuidString)").path
            defer { try? FileManager.default.removeItem(atPath: path) }
            let spawned = Spawn.run(["tmux", "-L", socket] + arguments, detach: .newProcessGroup) { actions in
                posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
                posix_spawn_file_actions_addopen(&actions, 1, path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
                posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
            }
            guard case .success(let pid) = spawned else { throw CocoaError(.executableLoad) }
            var status: Int32 = 0
            while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
            return (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        }

        func screen() -> String {
            (try? run(["capture-pane", "-p"])) ?? ""
        }

        func keys(_ keys: String...) throws {
            try run(["send-keys"] + keys)
        }

        func kill() {
            _ = try? run(["kill-server"])
        }
    }

    static var hasTmux: Bool {
        ["/usr/bin/tmux", "/usr/local/bin/tmux", "/bin/tmux"].contains { FileManager.default.isExecutableFile(atPath: $0) }
    }

    @Test("it shows a started process and follows its log, restarts it on r, and leaves the terminal as it was on q")
    func liveView() throws {
        guard Self.hasTmux else {
            Issue.record("tmux is not installed; .ci/run installs it")
            return
        }
        let fixture = try CLIFixture()
        defer { fixture.cleanUp() }
        let tmux = Tmux()
        defer { tmux.kill() }
        let start = try fixture.run(
            "start", "ticker", "--", "sh", "-c", "i=0; while true; do i=$((i+1)); echo tick-$i; sleep 0.3; done")
        #expect(start.status == 0, "\(start.stderr)")
        let firstPid = try #require(try fixture.status("ticker")["pid"] as? Int)
        // After top: a mark, and the terminal's modes, which must be as a shell left them.
        let shell = "RUNIT_HOME='\(fixture.home)' '\(CLIFixture.binary)' top; echo TOP-EXITED=$?; stty -a; sleep 300"
        try tmux.run(["new-session", "-d", "-x", "80", "-y", "24", "sh", "-c", shell])
        #expect(fixture.eventually { tmux.screen().contains("runit top — 1 processes") }, "\(tmux.screen())")
        #expect(fixture.eventually { tmux.screen().contains("ticker") && tmux.screen().contains("running") })
        // The log pane follows: a later line shows up without a key.
        #expect(fixture.eventually { tmux.screen().contains("tick-5") }, "\(tmux.screen())")
        let rows = tmux.screen().split(separator: "\n", omittingEmptySubsequences: false).dropLast()
        #expect(rows.count == 24 && rows.allSatisfy { $0.count <= 80 }, "\(rows)")

        try tmux.keys("r")
        #expect(fixture.eventually { (try fixture.status("ticker")["restarts"] as? Int) == 1 })
        #expect(fixture.eventually { tmux.screen().contains("restarted ticker") }, "\(tmux.screen())")
        #expect((try fixture.status("ticker")["pid"] as? Int) != firstPid)

        try tmux.keys("s")
        #expect(fixture.eventually { fixture.state("ticker") == "stopped" })
        #expect(fixture.eventually { tmux.screen().contains("stopped ticker") })
        try tmux.keys("s")
        #expect(fixture.eventually { fixture.state("ticker") == "running" })

        try tmux.keys("?")
        #expect(fixture.eventually { tmux.screen().contains("filter by name") })
        try tmux.keys("q")
        #expect(fixture.eventually { tmux.screen().contains("TOP-EXITED=0") }, "\(tmux.screen())")
        let after = tmux.screen()
        #expect(after.contains(" icanon") && after.contains(" echo "), "the terminal is back in its usual modes: \(after)")
        #expect(!after.contains("runit top —"), "the alternate screen is gone")
    }

    @Test("Ctrl-C and SIGTERM end it with the terminal restored; without a terminal it says so")
    func interruptedAndNoTerminal() throws {
        let fixture = try CLIFixture()
        defer { fixture.cleanUp() }
        let plain = try fixture.run("top")
        #expect(plain.status == 2 && plain.stderr.contains("needs a terminal"))
        guard Self.hasTmux else { return }
        let tmux = Tmux()
        defer { tmux.kill() }
        let shell = "RUNIT_HOME='\(fixture.home)' '\(CLIFixture.binary)' top; echo TOP-EXITED=$?; stty -a; sleep 300"
        try tmux.run(["new-session", "-d", "-x", "80", "-y", "24", "sh", "-c", shell])
        #expect(fixture.eventually { tmux.screen().contains("no processes") }, "\(tmux.screen())")
        try tmux.keys("C-c")
        #expect(fixture.eventually { tmux.screen().contains("TOP-EXITED=0") }, "\(tmux.screen())")
        #expect(tmux.screen().contains(" icanon"))
        try tmux.run(["kill-server"])
        let again = Tmux()
        defer { again.kill() }
        try again.run(["new-session", "-d", "-x", "100", "-y", "30", "sh", "-c", shell])
        #expect(fixture.eventually { again.screen().contains("no processes") })
        try again.run(["resize-window", "-x", "60", "-y", "20"])
        #expect(fixture.eventually { again.screen().split(separator: "\n").allSatisfy { $0.count <= 60 } })
        let pid = try again.run(["display-message", "-p", "#{pane_pid}"]).trimmingCharacters(in: .whitespacesAndNewlines)
        // The shell's child is top: end it with SIGTERM.
        let children = try String(contentsOfFile: "/proc/\(pid)/task/\(pid)/children", encoding: .utf8)
        for child in children.split(separator: " ") { kill(Int32(child) ?? 0, SIGTERM) }
        #expect(fixture.eventually { again.screen().contains("TOP-EXITED=") }, "\(again.screen())")
        #expect(again.screen().contains(" icanon"))
    }
}
