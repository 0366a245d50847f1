import Foundation
import Testing

/// A `runit start` run by a process that runit supervises: its supervisor goes to the
/// background and, orphaned, is adopted by the outer supervisor (a subreaper).
@Suite("A runit start inside a supervised process makes a process of its own")
struct NestedStartTests {
    @Test("the inner process is not in the outer's tree: not its ports, not its count, not stopped with it")
    func independent() throws {
        let fixture = try CLIFixture()
        defer { fixture.cleanUp() }
        let runit = shellQuoted(CLIFixture.buildDirectory + "/runit")
        let server = pythonServer().map(shellQuoted).joined(separator: " ")
        let command = "RUNIT_HOME=\(shellQuoted(fixture.home)) \(runit) start inner -- \(server); exec sleep 300"
        #expect(try fixture.run("start", "outer", "--command", command).status == 0)
        let port = fixture.listeningPort("inner")
        try #require(port > 0, "the inner server printed no port")
        #expect(fixture.eventually { try fixture.ports("inner") == [port] })
        #expect(try fixture.ports("outer") == [], "the outer process listens on nothing")
        var count: Int?
        #expect(
            fixture.eventually {
                count = try fixture.status("outer")["process_count"] as? Int
                return count == 1
            }, "only its own sleep, not \(String(describing: count))")
        let list = try fixture.run("list").stdout
        let outer = list.split(separator: "\n").first { $0.hasPrefix("outer ") }.map(String.init) ?? ""
        #expect(outer.split(separator: " ", omittingEmptySubsequences: true).contains("-"), "\(list)")
        #expect(!outer.contains("\(port)"), "\(list)")

        let stop = try fixture.run("stop", "outer")
        #expect(stop.status == 0, "\(stop.stderr)")
        #expect(fixture.state("outer") == "stopped")
        #expect(fixture.state("inner") == "running", "stopping outer leaves inner alone")
        #expect(try fixture.ports("inner") == [port])
    }
}
