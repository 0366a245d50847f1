import Foundation
import RunitKit
import Testing

/// What a run of the built `runit` binary printed and returned.
struct CommandResult {
    var stdout: String
    var stderr: String
    var status: Int32
}

/// Runs the built `runit` binary as a user would, against a temporary RUNIT_HOME of its own.
///
/// `cleanUp()` stops every process the test started and deletes the home; call it in a `defer`.
final class CLIFixture: @unchecked Sendable {
    // Used from one test at a time; the class exists so `defer` can clean up.
    let home: String
    let scratch: String
    static let buildDirectory: String = {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        return ProcessInfo.processInfo.environment["RUNIT_BIN_DIR"] ?? root.appendingPathComponent(".build/debug").path
    }()
    static var binary: String { buildDirectory + "/runit" }

    init() throws {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("runit-test-\(UUID().uuidString.prefix(8))")
        home = base.appendingPathComponent("home").path
        scratch = base.appendingPathComponent("scratch").path
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
    }

    /// Runs `runit ARGS...` and waits for it.
    @discardableResult
    func run(_ arguments: String..., environment: [String: String] = [:]) throws -> CommandResult {
        try run(arguments, environment: environment)
    }

    /// Runs `runit` with an argument array and waits for it.
    /// `unset` names variables removed from the environment after `RUNIT_HOME` is set (it may be one of them).
    /// `tool` names another executable of the build (`runit-cli`, the full CLI behind the front),
    /// or by an absolute path any program.
    func run(
        _ arguments: [String], environment: [String: String] = [:], unset: [String] = [], cwd: String? = nil,
        tool: String = "runit"
    ) throws -> CommandResult {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool.hasPrefix("/") ? tool : Self.buildDirectory + "/" + tool)
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        env["RUNIT_HOME"] = home
        env["NO_COLOR"] = "1"
        for (key, value) in environment { env[key] = value }
        for key in unset { env[key] = nil }
        process.environment = env
        process.currentDirectoryURL = URL(fileURLWithPath: cwd ?? scratch)
        let outPath = scratch + "/.out-\(UUID().uuidString)"
        let errPath = scratch + "/.err-\(UUID().uuidString)"
        _ = FileManager.default.createFile(atPath: outPath, contents: nil)
        _ = FileManager.default.createFile(atPath: errPath, contents: nil)
        defer {
            try? FileManager.default.removeItem(atPath: outPath)
            try? FileManager.default.removeItem(atPath: errPath)
        }
        let out = try FileHandle(forWritingTo: URL(fileURLWithPath: outPath))
        let err = try FileHandle(forWritingTo: URL(fileURLWithPath: errPath))
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        try? out.close()
        try? err.close()
        return CommandResult(
            stdout: (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? "",
            stderr: (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? "", status: process.terminationStatus)
    }

    /// The decoded `runit status NAME --json`.
    func status(_ name: String) throws -> [String: Any] {
        let result = try run(["status", name, "--json"])
        #expect(result.status == 0, "status \(name): \(result.stderr)")
        return (try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]) ?? [:]
    }

    /// The state `runit status` reports, or nil when there is no such process (no expectations).
    func state(_ name: String) -> String? {
        guard let result = try? run(["status", name, "--json"]), result.status == 0,
            let object = try? JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        else { return nil }
        return object["state"] as? String
    }

    /// Polls `condition` every 20 ms until it holds or `timeout` passes.
    func eventually(timeout: Double = 10, _ condition: () throws -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if (try? condition()) == true { return true }
            usleep(20_000)
        }
        return (try? condition()) == true
    }

    /// Every file under the home, with its contents, to prove an operation changed nothing.
    func diskSnapshot() -> [String: Data] {
        var result: [String: Data] = [:]
        guard let walker = FileManager.default.enumerator(atPath: home) else { return result }
        while let path = walker.nextObject() as? String {
            // The client locks hold the pid of the last client, whatever it did.
            if path.hasPrefix("locks/") { continue }
            let full = home + "/" + path
            result[path] = FileManager.default.contents(atPath: full) ?? Data()
        }
        return result
    }

    /// Kills the supervisor of `name` with SIGKILL, as a crash would, and waits until runit
    /// shows the process as `lost`.
    func loseSupervisor(_ name: String) throws {
        let supervisor = Int32(try #require(try status(name)["supervisor_pid"] as? Int))
        kill(supervisor, SIGKILL)
        #expect(eventually { state(name) == "lost" }, "'\(name)' did not show as lost")
    }

    /// Runs `runit WORDS` on a pseudo-terminal (by script(1)), as a person would see it, with
    /// `NO_COLOR` set to `noColor` (unset when nil); returns what it printed.
    func onTerminal(_ words: String, noColor: String?) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/script")
        process.arguments = ["-qec", Self.binary + " " + words, "/dev/null"]
        var env = ProcessInfo.processInfo.environment
        env["RUNIT_HOME"] = home
        env["NO_COLOR"] = noColor
        process.environment = env
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: output, as: UTF8.self)
    }

    /// Stops every supervisor under the home (SIGKILL to each tree if need be) and deletes it all.
    func cleanUp() {
        stopAll(stateDirectory: home)
        try? FileManager.default.removeItem(atPath: URL(fileURLWithPath: home).deletingLastPathComponent().path)
    }

    /// Stops every supervisor under `stateDirectory`, a runit home that may not be the fixture's.
    func stopAll(stateDirectory: String) {
        let procs = stateDirectory + "/procs"
        for folder in (try? FileManager.default.contentsOfDirectory(atPath: procs)) ?? [] {
            // A project's process is stored as `shop~web`, and named `shop/web`: a stop by the
            // folder's name was refused, and its process left running once its supervisor was killed.
            let name = ProcessName(storage: folder)?.rawValue ?? folder
            if let holder = Platform.lockHolder(procs + "/\(folder)/lock"), holder > 0 {
                _ = try? run(["stop", name, "--timeout", "1"], environment: ["RUNIT_HOME": stateDirectory])
                if Platform.processExists(holder) {
                    kill(holder, SIGKILL)
                    // Without its supervisor the process is lost; a stop ends what is left of it.
                    _ = waitUntilGone(holder)
                    _ = try? run(["stop", name, "--timeout", "1"], environment: ["RUNIT_HOME": stateDirectory])
                }
            } else {
                // No supervisor: a stop still ends whatever a dead one left running (a lost process).
                _ = try? run(["stop", name, "--timeout", "1"], environment: ["RUNIT_HOME": stateDirectory])
            }
        }
    }
}

/// Waits for a killed process to be gone, for at most 5 seconds; whether it is.
func waitUntilGone(_ pid: Int32) -> Bool {
    for _ in 0..<250 {
        if !isAlive(pid) { return true }
        usleep(20_000)
    }
    return false
}

/// Whether a process with `pid` is alive and not a zombie.
func isAlive(_ pid: Int32) -> Bool {
    guard pid > 0, kill(pid, 0) == 0 else { return false }
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
        let close = stat.lastIndex(of: ")")
    else { return false }
    let state = stat[stat.index(close, offsetBy: 2)]
    return state != "Z" && state != "X"
}
