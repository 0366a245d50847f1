import Foundation
import RunitKit
import Testing

@Suite("Where runit keeps its state when RUNIT_HOME is not set")
struct StateDirectoryTests {
    @Test("on a fresh account the default ~/.local/state/runit is created, parents included, 0700")
    func freshHome() throws {
        let fixture = try CLIFixture()
        let account = fixture.scratch + "/account"
        try FileManager.default.createDirectory(atPath: account, withIntermediateDirectories: false)
        let state = account + "/.local/state/runit"
        defer {
            fixture.stopAll(stateDirectory: state)
            fixture.cleanUp()
        }
        let environment = ["HOME": account]
        let start = try fixture.run(
            ["start", "fresh", "--", "sleep", "300"], environment: environment, unset: ["RUNIT_HOME", "XDG_STATE_HOME"])
        #expect(start.status == 0, "\(start.stderr)")
        #expect(start.stdout.contains("started fresh"))
        let list = try fixture.run(["list"], environment: environment, unset: ["RUNIT_HOME", "XDG_STATE_HOME"])
        #expect(list.stdout.contains("fresh"))
        #expect(list.stdout.contains("running"))
        for directory in [account + "/.local", account + "/.local/state", state] {
            let attributes = try FileManager.default.attributesOfItem(atPath: directory)
            #expect((attributes[.posixPermissions] as? Int) == 0o700, "\(directory)")
        }
    }

    @Test("XDG_STATE_HOME that does not exist yet is created")
    func missingXDGStateHome() throws {
        let fixture = try CLIFixture()
        let xdg = fixture.scratch + "/no/such/state"
        defer {
            fixture.stopAll(stateDirectory: xdg + "/runit")
            fixture.cleanUp()
        }
        let environment = ["XDG_STATE_HOME": xdg, "HOME": fixture.scratch]
        let start = try fixture.run(["start", "xdg", "--", "sleep", "300"], environment: environment, unset: ["RUNIT_HOME"])
        #expect(start.status == 0, "\(start.stderr)")
        #expect(FileManager.default.fileExists(atPath: xdg + "/runit/procs/xdg/status.json"))
        let stop = try fixture.run(["stop", "xdg"], environment: environment, unset: ["RUNIT_HOME"])
        #expect(stop.stdout.contains("stopped xdg"))
    }

    @Test("an empty HOME counts as unset: the state directory is the password database's home's, as with no HOME")
    func emptyHome() throws {
        let fixture = try CLIFixture()
        defer { fixture.cleanUp() }
        let unset = ["RUNIT_HOME", "XDG_STATE_HOME", "HOME"]
        let withoutHome = try stateDirectory(fixture, environment: [:], unset: unset)
        #expect(withoutHome.hasSuffix("/.local/state/runit") && withoutHome != "/.local/state/runit", "\(withoutHome)")
        #expect(try stateDirectory(fixture, environment: ["HOME": ""], unset: ["RUNIT_HOME", "XDG_STATE_HOME"]) == withoutHome)
        // An empty RUNIT_HOME and XDG_STATE_HOME count as unset too.
        let empty = ["RUNIT_HOME": "", "XDG_STATE_HOME": "", "HOME": ""]
        #expect(try stateDirectory(fixture, environment: empty, unset: []) == withoutHome)
    }

    @Test("a relative XDG_STATE_HOME is ignored (XDG Base Directory spec), by the front and the full CLI alike")
    func relativeXDGStateHome() throws {
        let fixture = try CLIFixture()
        let account = fixture.scratch + "/account"
        try FileManager.default.createDirectory(atPath: account, withIntermediateDirectories: false)
        let state = account + "/.local/state/runit"
        let relative = fixture.scratch + "/state/runit"
        defer {
            fixture.stopAll(stateDirectory: state)
            fixture.stopAll(stateDirectory: relative)
            fixture.cleanUp()
        }
        let environment = ["XDG_STATE_HOME": "state", "HOME": account]
        #expect(try stateDirectory(fixture, environment: environment, unset: ["RUNIT_HOME"]) == state)
        let start = try fixture.run(
            ["start", "xdg", "--", "sleep", "300"], environment: environment, unset: ["RUNIT_HOME"])
        #expect(start.status == 0, "\(start.stderr)")
        #expect(FileManager.default.fileExists(atPath: state + "/procs/xdg/status.json"))
        #expect(!FileManager.default.fileExists(atPath: fixture.scratch + "/state"))
        for tool in ["runit", "runit-cli"] {
            let list = try fixture.run(["list"], environment: environment, unset: ["RUNIT_HOME"], tool: tool)
            #expect(list.stdout.contains("xdg") && list.stdout.contains("running"), "\(tool): \(list.stdout)")
        }
        // Without HOME, both executables look in the password database's home, never in ./state.
        #expect(try fixture.run(["start", "here", "--", "sleep", "300"], environment: ["RUNIT_HOME": relative]).status == 0)
        for tool in ["runit", "runit-cli"] {
            let list = try fixture.run(
                ["list"], environment: ["XDG_STATE_HOME": "state"], unset: ["RUNIT_HOME", "HOME"], tool: tool)
            #expect(!list.stdout.contains("here"), "\(tool): \(list.stdout)")
        }
    }

    /// The state directory `runit doctor --json` reports (it creates nothing).
    private func stateDirectory(_ fixture: CLIFixture, environment: [String: String], unset: [String]) throws -> String {
        let result = try fixture.run(["doctor", "--json"], environment: environment, unset: unset)
        let checks = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [[String: String]] ?? []
        return try #require(checks.first { $0["name"] == "state" }?["detail"], "\(result.stdout) \(result.stderr)")
    }

    @Test("a state directory that cannot be created is named, with the process and what to do")
    func uncreatable() throws {
        let fixture = try CLIFixture()
        defer { fixture.cleanUp() }
        let blocker = fixture.scratch + "/file"
        try Data("x".utf8).write(to: URL(fileURLWithPath: blocker))
        let result = try fixture.run(["start", "blocked", "--", "true"], environment: ["RUNIT_HOME": blocker + "/home"])
        #expect(result.status == 1)
        #expect(result.stderr.contains("cannot create \(blocker)/home/procs for 'blocked'"), "\(result.stderr)")
        #expect(result.stderr.contains("set RUNIT_HOME to a directory you can write to"))
    }
}
