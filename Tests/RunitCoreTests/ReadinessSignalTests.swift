import Foundation
import Testing

@testable import RunitKit
@testable import RunitSupervisor

#if canImport(Glibc)
    import Glibc
#endif

/// The readiness signals that come from the process itself: a line of its output matching a
/// pattern, and `READY=1` sent to its notify socket.
@Suite struct ReadinessSignalTests {
    @Test func lineMatcherMatchesExtendedExpressionsOnTheLineOnly() throws {
        let matcher = try LineMatcher(pattern: "listening on (port )?[0-9]+$")
        let lines = ["Server listening on port 8080", "listening on 5173", "starting, will be listening on port 80 soon", ""]
        let matched = lines.map { line in Array(line.utf8).withUnsafeBytes { matcher.matches($0) } }
        #expect(matched == [true, true, false, false])
        // Only the bytes given are the line: what follows them in memory is not matched.
        let anchored = try LineMatcher(pattern: "^ready$")
        let other = try LineMatcher(pattern: "not")
        let inLine = Array("ready\nnot yet".utf8).withUnsafeBytes { bytes in
            let line = UnsafeRawBufferPointer(rebasing: bytes[0..<5])
            return [anchored.matches(line), other.matches(line)]
        }
        #expect(inLine == [true, false])
        let folded = try LineMatcher(pattern: "READY", ignoringCase: true)
        let foldedMatch = Array("server is ready".utf8).withUnsafeBytes { folded.matches($0) }
        #expect(foldedMatch)
    }

    @Test func aLineCutAtTheLimitOrAPieceOfOneDoesNotEndThere() throws {
        let whole = try LineMatcher(pattern: "^(a+)+$")
        let long = Array(repeating: UInt8(ascii: "a"), count: 100_000) + Array("b".utf8)
        // Matched on its first 4 KiB, all a's: the cut is not the line's end, so `$` fails there.
        #expect(long.withUnsafeBytes { whole.matches($0) } == false)
        #expect(Array("aaaa".utf8).withUnsafeBytes { whole.matches($0) })
        #expect(Array("aaaa".utf8).withUnsafeBytes { whole.matches($0, lineEnds: false) } == false)
        let unanchored = try LineMatcher(pattern: "a+b?")
        #expect(long.withUnsafeBytes { unanchored.matches($0) })
    }

    @Test func backreferencesAreRefused() {
        #expect {
            _ = try LineMatcher(pattern: "(ab)\\1")
        } throws: { error in
            (error as? ProbeError)?.message.contains("backreference") == true
        }
    }

    @Test func badPatternsAreRefusedWithTheReason() {
        #expect {
            _ = try LineMatcher(pattern: "(unclosed")
        } throws: { error in
            let message = (error as? ProbeError)?.message ?? ""
            return message
                == "the log pattern '(unclosed' is not a valid regular expression: the group opened at 1 has no closing ')'"
        }
        #expect(throws: ProbeError(message: "the log pattern is empty")) { _ = try LineMatcher(pattern: "") }
    }

    #if os(Linux)
        /// Sends each datagram to `$NOTIFY_SOCKET` as `sd_notify` does (a leading `@` is the abstract
        /// namespace); the sender's pid.
        static func sendNotify(_ address: String, _ datagrams: [String]) throws -> Int32 {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments =
                [
                    "python3", "-c",
                    """
                    import os, socket, sys
                    address = os.environ["NOTIFY_SOCKET"]
                    if address.startswith("@"):
                        address = "\\0" + address[1:]
                    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
                    for datagram in sys.argv[1:]:
                        sock.sendto(datagram.encode(), address)
                    """,
                ] + datagrams
            process.environment = ProcessInfo.processInfo.environment.merging(["NOTIFY_SOCKET": address]) { $1 }
            try process.run()
            process.waitUntilExit()
            #expect(process.terminationStatus == 0)
            return process.processIdentifier
        }

        @Test func notifySocketReadsReadyFromAnSdNotifyDatagram() throws {
            var socket = try NotifySocket()
            #expect(socket.address.hasPrefix("@runit-notify/\(getpid())-"))
            let sender = try Self.sendNotify(socket.address, ["READY=1\nSTATUS=listening on 8080\n"])
            var entry = pollfd(fd: socket.fd, events: Int16(POLLIN), revents: 0)
            #expect(poll(&entry, 1, 10_000) == 1)
            #expect(socket.receive() == [NotifyMessage(pid: sender, lines: ["READY=1", "STATUS=listening on 8080"])])
            #expect(socket.receive().isEmpty)
        }

        @Test func notifySocketDropsDatagramsOverSystemdsLimit() throws {
            var socket = try NotifySocket()
            _ = try Self.sendNotify(socket.address, [String(repeating: "X", count: 5000), "READY=1", "MAINPID=42"])
            var entry = pollfd(fd: socket.fd, events: Int16(POLLIN), revents: 0)
            #expect(poll(&entry, 1, 10_000) == 1)
            #expect(socket.receive().flatMap(\.lines) == ["READY=1", "MAINPID=42"])
            #expect(socket.ignored == 1)
        }

        @Test func notifySocketNamesAreOwnedByOneSocket() throws {
            let first = try NotifySocket(unique: "probe-test-\(getpid())")
            #expect(throws: ProbeError.self) { _ = try NotifySocket(unique: "probe-test-\(getpid())") }
            _ = first
        }
    #endif
}
