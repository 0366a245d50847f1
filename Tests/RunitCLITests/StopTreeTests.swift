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
}
