import Foundation
import Testing

/// The ports column of `list`, read through `$RUNIT_HOME/cache/ports.cache` (`PortOwners`).
@Suite("Ports in list: remembered between listings, never trusted blindly")
struct PortsCacheTests {
    /// The PORTS cell of `name` in `runit list`.
    static func listed(_ fixture: CLIFixture, _ name: String) throws -> String? {
        let lines = try fixture.run("list").stdout.split(separator: "\n").map {
            $0.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        }
        guard let header = lines.first, let column = header.firstIndex(of: "PORTS") else { return nil }
        return lines.first { $0.first == name }.map { $0[column] }
    }

    @Test("a restarted server's new port replaces the old one; a second server's port is its own")
    func restartAndNewcomer() throws {
        let fixture = try CLIFixture()
        defer { fixture.cleanUp() }
        #expect(try fixture.run(["start", "srv", "--"] + pythonServer()).status == 0)
        let first = fixture.listeningPort("srv")
        try #require(first > 0, "the server printed no port")
        #expect(fixture.eventually { try Self.listed(fixture, "srv") == "\(first)" })
        #expect(FileManager.default.fileExists(atPath: fixture.home + "/cache/ports.cache"))
        #expect(try Self.listed(fixture, "srv") == "\(first)", "read from the cache, the same answer")

        #expect(try fixture.run("restart", "srv").status == 0)
        var second = 0
        #expect(
            fixture.eventually {
                let logs = try fixture.run("logs", "srv").stdout.split(separator: "\n").filter { $0.contains("listening on") }
                second = logs.count == 2 ? Int(logs[1].split(separator: " ").last ?? "") ?? 0 : 0
                return second > 0
            })
        try #require(second > 0 && second != first, "the restarted server printed no new port")
        #expect(fixture.eventually { try Self.listed(fixture, "srv") == "\(second)" })

        #expect(try fixture.run(["start", "two", "--"] + pythonServer()).status == 0)
        let third = fixture.listeningPort("two")
        #expect(fixture.eventually { try Self.listed(fixture, "two") == "\(third)" })
        #expect(try Self.listed(fixture, "srv") == "\(second)")
    }

    @Test("a cache naming the wrong holder, a FIFO, a link or garbage in its place: list still answers rightly")
    func hostileCache() throws {
        let fixture = try CLIFixture()
        defer { fixture.cleanUp() }
        #expect(try fixture.run(["start", "srv", "--"] + pythonServer()).status == 0)
        let port = fixture.listeningPort("srv")
        try #require(port > 0, "the server printed no port")
        #expect(fixture.eventually { try Self.listed(fixture, "srv") == "\(port)" })
        let path = fixture.home + "/cache/ports.cache"
        let written = try String(contentsOfFile: path, encoding: .utf8)
        let line = try #require(written.split(separator: "\n").first { $0.hasSuffix(" srv") }, "\(written)")
        let inode = line.split(separator: " ")[0]

        // Another name, and a holder that is not the server's descriptor: checked, found wrong, read again.
        try written.replacingOccurrences(of: String(line), with: "\(inode) 1 1 0 other").write(
            toFile: path, atomically: true, encoding: .utf8)
        #expect(try Self.listed(fixture, "srv") == "\(port)")
        #expect(try String(contentsOfFile: path, encoding: .utf8).contains(" srv\n"), "the cache was mended")
        // The server's own descriptor, claimed for another process: checked against what runs under that name.
        let fields = line.split(separator: " ")
        try #require(fields.count == 5, "\(line)")
        #expect(try fixture.run("start", "other", "--", "sleep", "300").status == 0)
        #expect(try Self.listed(fixture, "other") == "-")
        let lie = "\(fields[0]) \(fields[1]) \(fields[2]) \(fields[3]) other"
        try String(contentsOfFile: path, encoding: .utf8).replacingOccurrences(of: String(line), with: lie).write(
            toFile: path, atomically: true, encoding: .utf8)
        #expect(try String(contentsOfFile: path, encoding: .utf8).contains(lie))
        #expect(try Self.listed(fixture, "srv") == "\(port)")
        #expect(try Self.listed(fixture, "other") == "-")

        try "runit-ports 1\nscanned 1\n\u{0}garbage".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(try Self.listed(fixture, "srv") == "\(port)")

        try FileManager.default.removeItem(atPath: path)
        #expect(mkfifo(path, 0o600) == 0)
        let fifo = try fixture.run("list")
        #expect(fifo.status == 0 && fifo.stdout.contains(" \(port) "), "\(fifo.stdout)")

        try FileManager.default.removeItem(atPath: path)
        let target = fixture.home + "-target"
        try "keep me\n".write(toFile: target, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: target) }
        try FileManager.default.createSymbolicLink(atPath: path, withDestinationPath: target)
        #expect(try Self.listed(fixture, "srv") == "\(port)")
        #expect(try String(contentsOfFile: target, encoding: .utf8) == "keep me\n", "a link is replaced, never written through")
        var info = stat()
        #expect(lstat(path, &info) == 0 && info.st_mode & S_IFMT == S_IFREG)
    }

    @Test("a process whose supervisor died shows no ports, whatever the cache holds")
    func lostShowsNone() throws {
        let fixture = try CLIFixture()
        defer { fixture.cleanUp() }
        #expect(try fixture.run(["start", "srv", "--"] + pythonServer()).status == 0)
        #expect(try fixture.run("start", "other", "--", "sleep", "300").status == 0)
        let port = fixture.listeningPort("srv")
        try #require(port > 0, "the server printed no port")
        #expect(fixture.eventually { try Self.listed(fixture, "srv") == "\(port)" })
        let supervisor = try #require(try fixture.status("srv")["supervisor_pid"] as? Int)
        let server = try #require(try fixture.status("srv")["pid"] as? Int)
        defer { kill(pid_t(server), SIGKILL) }
        #expect(kill(pid_t(supervisor), SIGKILL) == 0)
        #expect(fixture.eventually { fixture.state("srv") == "lost" })
        #expect(try Self.listed(fixture, "srv") == "-")
    }

    @Test("a listener handed over a unix socket to another process shows for both, soon")
    func sharedListener() throws {
        let fixture = try CLIFixture()
        defer { fixture.cleanUp() }
        let path = fixture.home + "/hand.sock"
        let giver = """
            import array, os, socket, time
            s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen()
            print("listening on", s.getsockname()[1], flush=True)
            u = socket.socket(socket.AF_UNIX); u.bind(os.environ["HAND"]); u.listen()
            c, _ = u.accept()
            c.sendmsg([b"x"], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", [s.fileno()]))])
            time.sleep(300)
            """
        let taker = """
            import os, socket, time
            while not os.path.exists(os.environ["HAND"] + ".go"): time.sleep(0.05)
            u = socket.socket(socket.AF_UNIX); u.connect(os.environ["HAND"])
            _, fds, _, _ = socket.recv_fds(u, 1, 1)
            print("took", fds, flush=True)
            time.sleep(300)
            """
        #expect(try fixture.run("start", "blue", "--env", "HAND=\(path)", "--", "python3", "-c", giver).status == 0)
        #expect(try fixture.run("start", "green", "--env", "HAND=\(path)", "--", "python3", "-c", taker).status == 0)
        let port = fixture.listeningPort("blue")
        try #require(port > 0, "the server printed no port")
        #expect(fixture.eventually { try Self.listed(fixture, "blue") == "\(port)" })
        #expect(try Self.listed(fixture, "green") == "-")
        #expect(FileManager.default.createFile(atPath: path + ".go", contents: nil))
        #expect(fixture.eventually { try fixture.run("logs", "green").stdout.contains("took [") })
        #expect(fixture.eventually { try Self.listed(fixture, "green") == "\(port)" }, "within the cache's age")
        #expect(try Self.listed(fixture, "blue") == "\(port)")
        #expect(try fixture.ports("green") == [port])
    }
}
