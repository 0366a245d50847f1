import Foundation
import Testing

#if os(Linux)
    /// The supervisor hears of its directory changing through dnotify, which takes none of the
    /// user's inotify instances (128 by default, shared with every editor and file watcher).
    @Suite("A supervisor watches its directory without taking an inotify instance")
    struct DirectoryWatchTests {
        /// The inotify instances `pid` holds: its descriptors that are `anon_inode:inotify`.
        func inotifyInstances(_ pid: Int) throws -> Int {
            let folder = "/proc/\(pid)/fd"
            return try FileManager.default.contentsOfDirectory(atPath: folder).filter {
                (try? FileManager.default.destinationOfSymbolicLink(atPath: folder + "/" + $0)) == "anon_inode:inotify"
            }.count
        }

        func supervisor(_ fixture: CLIFixture, _ name: String) throws -> Int {
            try #require(try fixture.status(name)["supervisor_pid"] as? Int)
        }

        @Test("supervisors hold no inotify instance; one with --watch holds the one it watches with")
        func noInstances() throws {
            let fixture = try CLIFixture()
            defer { fixture.cleanUp() }
            for name in ["a", "b", "c"] { #expect(try fixture.run("start", name, "--", "sleep", "300").status == 0) }
            for name in ["a", "b", "c"] { #expect(try inotifyInstances(try supervisor(fixture, name)) == 0) }
            #expect(try fixture.run("start", "w", "--watch", fixture.scratch, "--", "sleep", "300").status == 0)
            #expect(try inotifyInstances(try supervisor(fixture, "w")) == 1)
        }

        /// The ways a supervisor can watch: dnotify (the default), inotify (where there is no
        /// dnotify) and a check every 2 s (where neither can be had).
        static let ways: [[String: String]] = [[:], ["RUNIT_DIRECTORY_WATCH": "inotify"], ["RUNIT_DIRECTORY_WATCH": "timer"]]

        @Test("with inotify, a supervisor holds the one instance it watches with")
        func inotifyFallback() throws {
            let fixture = try CLIFixture()
            defer { fixture.cleanUp() }
            #expect(try fixture.run(["start", "i", "--", "sleep", "300"], environment: Self.ways[1]).status == 0)
            #expect(try inotifyInstances(try supervisor(fixture, "i")) == 1)
        }

        @Test("a file moved over the control FIFO from another folder is put back, and a stop reaches it", arguments: ways)
        func movedIn(_ way: [String: String]) throws {
            let fixture = try CLIFixture()
            defer { fixture.cleanUp() }
            #expect(try fixture.run(["start", "m", "--", "sleep", "300"], environment: way).status == 0)
            // Each way is the one asked for: inotify holds its instance; the timer says so.
            #expect(try inotifyInstances(try supervisor(fixture, "m")) == (way.values.first == "inotify" ? 1 : 0))
            let timed = try fixture.run("logs", "m").stdout.contains("every 2s (RUNIT_DIRECTORY_WATCH=timer)")
            #expect(timed == (way.values.first == "timer"))
            let pid = Int32(try #require(try fixture.status("m")["pid"] as? Int))
            let control = fixture.home + "/procs/m/control"
            let planted = fixture.scratch + "/planted"
            #expect(FileManager.default.createFile(atPath: planted, contents: Data("x\n".utf8)))
            #expect(rename(planted, control) == 0)
            #expect(fixture.eventually(timeout: 5) { Self.isFIFO(control) }, "the control FIFO was not put back")
            #expect(try fixture.run("logs", "m").stdout.contains("/procs/m/control anew"))
            #expect(try fixture.run("stop", "m").status == 0)
            #expect(waitUntilGone(pid))
        }

        @Test("the process's folder moved out of runit's stops the process; a removal beside it does not", arguments: ways)
        func movedAway(_ way: [String: String]) throws {
            let fixture = try CLIFixture()
            defer { fixture.cleanUp() }
            for name in ["keep", "gone", "moved"] {
                #expect(try fixture.run(["start", name, "--", "sleep", "300"], environment: way).status == 0)
            }
            let kept = try #require(try fixture.status("keep")["pid"] as? Int)
            let moved = Int32(try #require(try fixture.status("moved")["pid"] as? Int))
            #expect(try fixture.run("remove", "gone").status == 0)
            #expect(rename(fixture.home + "/procs/moved", fixture.scratch + "/moved") == 0)
            #expect(waitUntilGone(moved), "the process of a folder moved away still runs")
            let log = (try? String(contentsOfFile: fixture.scratch + "/moved/logs/current.log", encoding: .utf8)) ?? ""
            #expect(log.contains("was deleted or moved away: stopping the process"), "\(log)")
            #expect(try fixture.status("keep")["pid"] as? Int == kept)
            #expect(try fixture.status("keep")["state"] as? String == "running")
            #expect(!(try fixture.run("logs", "keep").stdout.contains("anew")), "a removal beside it made its files anew")
        }

        @Test("status.json deleted again right after the supervisor wrote it anew is written once more")
        func statusDeletedTwice() throws {
            let fixture = try CLIFixture()
            defer { fixture.cleanUp() }
            #expect(try fixture.run("start", "twice", "--", "sleep", "300").status == 0)
            let status = fixture.home + "/procs/twice/status.json"
            // The second deletion can land between the supervisor's rename and its look at the
            // path: it then took the missing file for its own, and never wrote it again.
            for round in 0..<30 {
                // Deleted over and over for 20 ms: some deletions land just after a rename of its.
                let end = Date().addingTimeInterval(0.02)
                while Date() < end { unlink(status) }
                let back = fixture.eventually(timeout: 5) { FileManager.default.fileExists(atPath: status) }
                #expect(back, "status.json was not written again after round \(round)")
                if !back { break }
            }
            #expect(try fixture.status("twice")["state"] as? String == "running")
        }

        @Test("a directory made where status.json goes while the supervisor writes it is removed, and the file written")
        func directoryAtStatus() throws {
            let fixture = try CLIFixture()
            defer { fixture.cleanUp() }
            #expect(try fixture.run("start", "dir", "--restart", "always", "--", "sleep", "300").status == 0)
            let before = try fixture.status("dir")
            let supervisor = Int32(try #require(before["supervisor_pid"] as? Int))
            let pid = Int32(try #require(before["pid"] as? Int))
            let status = fixture.home + "/procs/dir/status.json"
            kill(supervisor, SIGSTOP)
            unlink(status)
            mkdir(status, 0o700)
            kill(pid, SIGKILL)  // the restart writes the status while the directory stands there
            kill(supervisor, SIGCONT)
            let written = fixture.eventually(timeout: 10) {
                var info = stat()
                guard lstat(status, &info) == 0, info.st_mode & S_IFMT == S_IFREG else { return false }
                return (try fixture.status("dir")["pid"] as? Int).map { $0 != Int(pid) } == true
            }
            #expect(written, "status.json is still not a file")
            #expect(try fixture.status("dir")["state"] as? String == "running")
            #expect(try fixture.run("stop", "dir").status == 0)
        }

        @Test("a FIFO made at status.json in its place, given the freed inode number, is still replaced")
        func plantedWithSameInode() throws {
            let fixture = try CLIFixture()
            defer { fixture.cleanUp() }
            #expect(try fixture.run("start", "p", "--", "sleep", "300").status == 0)
            let supervisor = Int32(try #require(try fixture.status("p")["supervisor_pid"] as? Int))
            let status = fixture.home + "/procs/p/status.json"
            for round in 0..<3 {
                // Stopped, the supervisor wakes to both changes at once; ext4 hands the number of
                // the file just deleted to the next one made, as the supervisor held it by number.
                kill(supervisor, SIGSTOP)
                unlink(status)
                mkfifo(status, 0o600)
                kill(supervisor, SIGCONT)
                let back = fixture.eventually(timeout: 5) {
                    var info = stat()
                    return lstat(status, &info) == 0 && info.st_mode & S_IFMT == S_IFREG
                }
                #expect(back, "round \(round): the planted FIFO is still at status.json")
            }
            #expect(try fixture.status("p")["state"] as? String == "running")
        }

        static func isFIFO(_ path: String) -> Bool {
            var info = stat()
            return lstat(path, &info) == 0 && info.st_mode & S_IFMT == S_IFIFO
        }
    }
#endif
