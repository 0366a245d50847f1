import Foundation
import Testing

@testable import RunitCore
@testable import RunitKit

@Suite("The restart count")
struct RestartCountTests {
    @Test("a restart count that cannot be written fails the restart, naming the file")
    func failedBumpIsReported() throws {
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("runit-bump-\(UUID().uuidString.prefix(8))").path
        defer { try? FileManager.default.removeItem(atPath: home) }
        let registry = Registry(context: RunitContext(home: home, supervisorPath: "/nonexistent", workingDirectory: "/"))
        let name = try Registry.name("counted")
        let paths = registry.context.paths(name)
        try FileManager.default.createDirectory(atPath: paths.directory, withIntermediateDirectories: true)
        let status = StatusRecord(name: "counted", state: .stopped, restarts: 2)
        #expect(Platform.writeAtomically(paths.status, Array(status.json.utf8)))
        // The temporary file's name holds this process's pid: a directory there makes the write fail,
        // even for root.
        try FileManager.default.createDirectory(
            atPath: paths.status + ".tmp.\(getpid())", withIntermediateDirectories: false)
        #expect {
            try registry.bumpRestartCount(name)
        } throws: { error in
            let message = (error as? RunitError)?.message ?? ""
            return message.contains("cannot write \(paths.status) for 'counted'") && message.contains("runit start counted")
        }
        #expect(try StateFiles.readStatus(paths)?.restarts == 2)
    }
}
