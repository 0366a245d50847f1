import Foundation
import Testing

@testable import RunitKit

@Suite("The process tree from /proc")
struct ProcessTableTests {
    /// A python that starts `sleep`s from a second thread (a child of that thread, not of the
    /// main one) and from its main thread, prints their pids, and waits until its stdin closes.
    static let script = """
        import subprocess, sys, threading
        found = []
        def spawn(): found.append(subprocess.Popen(["sleep", "60"]).pid)
        worker = threading.Thread(target=spawn); worker.start(); worker.join()
        holder = threading.Thread(target=sys.stdin.read); holder.start()
        found.append(subprocess.Popen(["sleep", "60"]).pid)
        print(*found, flush=True)
        holder.join()
        """

    @Test("children started by any thread are found, as a full scan of /proc finds them")
    func childrenOfEveryThread() throws {
        let python = Process()
        python.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        python.arguments = ["python3", "-c", Self.script]
        let input = Pipe()
        let output = Pipe()
        python.standardInput = input
        python.standardOutput = output
        try python.run()
        // The whole line: a pipe may hand it over in pieces.
        var bytes = Data()
        while !bytes.contains(0x0A) {
            let piece = output.fileHandleForReading.availableData
            if piece.isEmpty { break }
            bytes.append(piece)
        }
        let line = String(decoding: bytes, as: UTF8.self)
        let started = line.split(whereSeparator: \.isWhitespace).compactMap { Int32($0) }
        defer {
            for pid in started { kill(pid, SIGKILL) }
            try? input.fileHandleForWriting.close()
            python.waitUntilExit()
        }
        try #require(started.count == 2, "python printed \(line.debugDescription)")
        let root = python.processIdentifier
        #expect(threadCount(root) > 1, "the python holds a second thread while it is read")
        let found = ProcessTable.descendantPIDs(of: root)
        #expect(Set(found) == Set(started), "\(found) against \(started)")
        #expect(Set(ProcessTable().descendants(of: root).map(\.pid)) == Set(started))
        #expect(ProcessTable.descendantPIDs(of: Int32.max).isEmpty, "a pid that does not exist has no tree")
    }
}

private func threadCount(_ pid: Int32) -> Int {
    (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task").count) ?? 0
}
