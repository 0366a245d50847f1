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

    @Test("a supervisor killed with SIGKILL shows as lost, and stop then succeeds")
    func lostSupervisor() throws {
        let fixture = try CLIFixture()
        defer { fixture.cleanUp() }
        #expect(try fixture.run("start", "victim", "--", "sleep", "300").status == 0)
        let status = try fixture.status("victim")
        let supervisor = try #require(status["supervisor_pid"] as? Int)
        let pid = try #require(status["pid"] as? Int)
        defer { kill(Int32(pid), SIGKILL) }
        kill(Int32(supervisor), SIGKILL)
        #expect(fixture.eventually { try fixture.status("victim")["state"] as? String == "lost" })
        let list = try fixture.run("list")
        #expect(list.stdout.contains("lost"))
        #expect(try fixture.run("stop", "victim").stdout.contains("was not running (lost)"))
    }
}
