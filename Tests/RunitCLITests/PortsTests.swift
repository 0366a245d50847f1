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

    @Test("a PORT another process listens on gets a warning naming it, and the start goes on")
    func takenPortWarns() throws {
        let fixture = try CLIFixture()
        defer { fixture.cleanUp() }
        #expect(try fixture.run(["start", "holder", "--"] + pythonServer()).status == 0)
        let port = fixture.listeningPort("holder")
        try #require(port > 0, "the server printed no port")
        let holder = try #require(try fixture.status("holder")["pid"] as? Int)

        let start = try fixture.run("start", "web", "--env", "PORT=\(port)", "--", "sleep", "300")
        #expect(start.status == 0, "\(start.stderr)")
        #expect(start.stdout.contains("started web (pid "))
        let warning = "runit: warning: 'web' gets PORT=\(port), but port \(port) is already in use by pid \(holder) ("
        #expect(start.stderr.contains(warning), "\(start.stderr)")
        #expect(start.stderr.contains("python3 -c import os, socket, time"), "\(start.stderr)")
        #expect(fixture.state("web") == "running")

        // The stored spec's PORT is checked again at each start, --port N likewise, and --json says it too.
        #expect(try fixture.run("stop", "web").status == 0)
        #expect(try fixture.run("start", "web").stderr.contains(warning))
        #expect(try fixture.run("restart", "web").stderr.contains(warning))
        let json = try fixture.run("start", "other", "--port", "\(port)", "--json", "--", "sleep", "300")
        #expect(json.status == 0, "\(json.stderr)")
        #expect(json.stderr.contains("is already in use by pid \(holder) ("))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        let warnings = try #require(object["warnings"] as? [String])
        #expect(warnings.count == 1 && warnings[0].contains("pid \(holder)"), "\(warnings)")
        #expect(object["port"] as? Int == port)

        // A port nobody listens on: no warning.
        #expect(try fixture.run("stop", "holder").status == 0)
        let free = try fixture.run("start", "web2", "--env", "PORT=\(port)", "--", "sleep", "300")
        #expect(free.status == 0 && !free.stderr.contains("warning"), "\(free.stderr)")
    }

    @Test("--port auto gives the process a free PORT that it can listen on")
    func portAuto() throws {
        let fixture = try CLIFixture()
        defer { fixture.cleanUp() }
        let start = try fixture.run(["start", "auto", "--port", "auto", "--"] + pythonServer(fromEnvironment: true))
        #expect(start.status == 0, "\(start.stderr)")
        #expect(!start.stderr.contains("warning"), "\(start.stderr)")
        let given = try #require(
            start.stdout.range(of: #"PORT=\d+"#, options: .regularExpression).map { Int(start.stdout[$0].dropFirst(5)) ?? 0 },
            "\(start.stdout)")
        #expect(fixture.listeningPort("auto") == given, "the process listens on the port it was given")
        #expect(try fixture.ports("auto") == [given])
        let env = try #require(try fixture.status("auto")["env"] as? [String: String])
        #expect(env["PORT"] == "\(given)")
    }

    @Test("--port refuses what is not a port, and a PORT given twice")
    func badPorts() throws {
        let fixture = try CLIFixture()
        defer { fixture.cleanUp() }
        for value in ["0", "65536", "-1", "abc", ""] {
            let result = try fixture.run("start", "bad", "--port", value, "--", "sleep", "300")
            #expect(result.status == 2, "--port '\(value)': \(result.stderr)")
        }
        let twice = try fixture.run("start", "bad", "--port", "8080", "--env", "PORT=8081", "--", "sleep", "300")
        #expect(twice.status == 2)
        #expect(twice.stderr.contains("given a port twice"), "\(twice.stderr)")
        #expect(try fixture.run("list").stdout.contains("no processes"), "a refused start leaves no entry")
    }
}

/// `word` quoted for /bin/sh.
func shellQuoted(_ word: String) -> String {
    "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'"
}
