import Foundation
import Testing

/// A python server that listens on `host` (port 0: the kernel chooses, or `$PORT` when
/// `fromEnvironment`), prints `listening on PORT` and runs until stopped.
func pythonServer(host: String = "127.0.0.1", fromEnvironment: Bool = false) -> [String] {
    let port = fromEnvironment ? "int(os.environ['PORT'])" : "0"
    let family = host.contains(":") ? "socket.AF_INET6" : "socket.AF_INET"
    let script = """
        import os, socket, time
        s = socket.socket(\(family)); s.bind(("\(host)", \(port))); s.listen()
        print("listening on", s.getsockname()[1], flush=True)
        time.sleep(300)
        """
    return ["python3", "-c", script]
}

extension CLIFixture {
    /// The port a `pythonServer` started as `name` printed, once it printed it (0 if it did not).
    func listeningPort(_ name: String) -> Int {
        var port = 0
        _ = eventually {
            let logs = try run("logs", name).stdout
            guard let range = logs.range(of: #"listening on (\d+)"#, options: .regularExpression) else { return false }
            port = Int(logs[range].split(separator: " ").last ?? "") ?? 0
            return port > 0
        }
        return port
    }

    /// The `ports` of `runit status NAME --json`.
    func ports(_ name: String) throws -> [Int] {
        try status(name)["ports"] as? [Int] ?? [-1]
    }
}

@Suite("Ports: what a process listens on, and warnings before a start")
struct PortsTests {
    @Test("a server on a port the kernel chose shows that port in status, list and list --json")
    func portZeroShown() throws {
        let fixture = try CLIFixture()
        defer { fixture.cleanUp() }
        let start = try fixture.run(["start", "srv", "--"] + pythonServer())
        #expect(start.status == 0, "\(start.stderr)")
        let port = fixture.listeningPort("srv")
        try #require(port > 0, "the server printed no port")

        #expect(try fixture.ports("srv") == [port])
        let status = try fixture.run("status", "srv")
        #expect(status.stdout.contains("\nports:      \(port)\n"), "\(status.stdout)")

        let list = try fixture.run("list")
        let lines = list.stdout.split(separator: "\n").map { $0.split(separator: " ", omittingEmptySubsequences: true) }
        let header = try #require(lines.first)
        let column = try #require(header.firstIndex(of: "PORTS"))
        #expect(header.last == "COMMAND")
        #expect(lines.dropFirst().first?[column] == "\(port)"[...], "\(list.stdout)")

        let json = try fixture.run("list", "--json")
        let entries = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]])
        #expect(entries.first?["ports"] as? [Int] == [port])

        #expect(try fixture.run("stop", "srv").status == 0)
        #expect(try fixture.ports("srv") == [], "a stopped process listens on nothing")
        #expect(try fixture.run("status", "srv").stdout.contains("\nports:      -\n"))
        #expect(try fixture.run("list").stdout.contains(" - "))
    }

    @Test("a port a grandchild listens on counts for its process; another process's (on IPv6) does not")
    func grandchildAndBothFamilies() throws {
        let fixture = try CLIFixture()
        defer { fixture.cleanUp() }
        // A shell that starts the server in the background: the listener is not the main process.
        let server = pythonServer().map(shellQuoted).joined(separator: " ")
        #expect(try fixture.run("start", "--name", "tree", "--command", server + " & wait").status == 0)
        let port = fixture.listeningPort("tree")
        try #require(port > 0, "the server printed no port")
        #expect(fixture.eventually { try fixture.ports("tree") == [port] })
        let other = try fixture.run(["start", "other", "--"] + pythonServer(host: "::1"))
        #expect(other.status == 0, "\(other.stderr)")
        let otherPort = fixture.listeningPort("other")
        #expect(try fixture.ports("other") == [otherPort])
        #expect(try fixture.ports("tree") == [port], "another process's port is not this one's")
    }
}

/// `word` quoted for /bin/sh.
func shellQuoted(_ word: String) -> String {
    "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'"
}
