import Foundation
import Testing

@testable import RunitCore
@testable import RunitKit
@testable import RunitState

@Suite("The restart count")
struct RestartCountTests {
    @Test(
        "a restart count that cannot be written (a full disk) fails the restart, naming the file",
        .enabled(if: geteuid() == 0, "mounts a small tmpfs, which needs root"))
    func failedBumpIsReported() throws {
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("runit-bump-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: home) }
        let mount = Process()
        mount.executableURL = URL(fileURLWithPath: "/bin/mount")
        mount.arguments = ["-t", "tmpfs", "-o", "size=64k,mode=0700", "tmpfs", home]
        try mount.run()
        mount.waitUntilExit()
        try #require(mount.terminationStatus == 0, "cannot mount a tmpfs")
        defer {
            let unmount = Process()
            unmount.executableURL = URL(fileURLWithPath: "/bin/umount")
            unmount.arguments = [home]
            try? unmount.run()
            unmount.waitUntilExit()
        }
        let registry = Registry(context: RunitContext(home: home, supervisorPath: "/nonexistent", workingDirectory: "/"))
        let name = try Registry.name("counted")
        let paths = registry.context.paths(name)
        try FileManager.default.createDirectory(atPath: paths.directory, withIntermediateDirectories: true)
        let status = StatusRecord(name: "counted", state: .stopped, restarts: 2)
        #expect(Platform.writeAtomically(paths.status, Array(status.json.utf8)) == 0)
        // Fill the disk: the new status file cannot be written.
        let filler =
            FileHandle(forWritingAtPath: home + "/filler")
            ?? {
                FileManager.default.createFile(atPath: home + "/filler", contents: nil)
                return FileHandle(forWritingAtPath: home + "/filler")!
            }()
        while (try? filler.write(contentsOf: Data(count: 4096))) != nil {}
        try? filler.close()
        #expect {
            try registry.bumpRestartCount(name)
        } throws: { error in
            let message = (error as? RunitError)?.message ?? ""
            return message.contains("cannot write \(paths.status) for 'counted'") && message.contains("No space left")
                && message.contains("runit start counted")
        }
        #expect(try StateFiles.readStatus(paths)?.restarts == 2)
    }
}
