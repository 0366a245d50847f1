import Foundation
import Testing

@Suite("Stop reaches the whole tree, gently first")
struct StopTreeTests {
    @Test("a setsid grandchild gets SIGTERM while the main process still runs, and can shut down cleanly")
    func setsidGrandchildGetsTerm() throws {
        let fixture = try CLIFixture()
        defer { fixture.cleanUp() }
        let file = fixture.scratch + "/grandchild.txt"
        let grandchild = "trap \"echo got TERM >> \(file); exit 0\" TERM; echo ready >> \(file); while :; do sleep 0.1; done"
        // The main process ignores SIGTERM, so it lives until the grace period is over.
        let command = "setsid sh -c '\(grandchild)' & trap '' TERM; while :; do sleep 0.1; done"
        #expect(try fixture.run("start", "--name", "gentle", "--command", command).status == 0)
        #expect(
            fixture.eventually { (try? String(contentsOfFile: file, encoding: .utf8))?.contains("ready") == true })
        let stop = try fixture.run("stop", "gentle", "--timeout", "2s")
        #expect(stop.status == 0)
        let text = try String(contentsOfFile: file, encoding: .utf8)
        #expect(text.contains("got TERM"), "the grandchild was killed without a SIGTERM: \(text)")
        #expect(try fixture.status("gentle")["state"] as? String == "stopped")
    }

    @Test("each process of the group gets SIGTERM once: a second one means 'exit now' to many servers")
    func termOncePerProcess() throws {
        let fixture = try CLIFixture()
        defer { fixture.cleanUp() }
        let file = fixture.scratch + "/terms.txt"
        // Counts its SIGTERMs and keeps running, so the stop ends it with SIGKILL after the grace.
        let command = "trap 'echo TERM >> \(file)' TERM; echo ready >> \(file); while :; do sleep 0.1; done"
        #expect(try fixture.run("start", "--name", "counted", "--command", command).status == 0)
        #expect(
            fixture.eventually { (try? String(contentsOfFile: file, encoding: .utf8))?.contains("ready") == true })
        #expect(try fixture.run("stop", "counted", "--timeout", "2s").status == 0)
        let lines = try String(contentsOfFile: file, encoding: .utf8).split(separator: "\n")
        #expect(lines.filter { $0 == "TERM" }.count == 1, "\(lines)")
    }

    @Test("a simple --command runs as the program itself: its pid is the program's and the tree is one process")
    func simpleCommandIsTheProgram() throws {
        let fixture = try CLIFixture()
        defer { fixture.cleanUp() }
        #expect(try fixture.run("start", "plain", "--command", "sleep 300").status == 0)
        let status = try fixture.status("plain")
        let pid = try #require(status["pid"] as? Int)
        let comm = try String(contentsOfFile: "/proc/\(pid)/comm", encoding: .utf8)
        #expect(comm == "sleep\n", "the process is \(comm), not the program")
        #expect(status["process_count"] as? Int ?? 1 == 1, "\(status)")
        // A compound command keeps its shell, and the shell's own exit code is the process's.
        #expect(try fixture.run("start", "both", "--command", "sleep 300; echo after").status == 0)
        let shell = try #require(try fixture.status("both")["pid"] as? Int)
        #expect(try String(contentsOfFile: "/proc/\(shell)/comm", encoding: .utf8) == "sh\n")
        let quits = try fixture.run("start", "quits", "--command", "exit 3")
        #expect(quits.status == 1 && quits.stderr.contains("code 3"), "\(quits.stderr)")
        let stop = try fixture.run("stop", "plain")
        let stopped = try fixture.status("plain")["state"] as? String
        #expect(stop.status == 0 && stopped == "stopped", "\(stop.stderr)")
    }
}
