import Foundation
import Testing

@testable import RunitKit
@testable import RunitSupervisor

/// The readiness signals that come from the process itself: a line of its output matching a
/// pattern.
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

    @Test func badPatternsAreRefusedWithRegcompsText() {
        #expect {
            _ = try LineMatcher(pattern: "(unclosed")
        } throws: { error in
            let message = (error as? ProbeError)?.message ?? ""
            // glibc says "Unmatched ( or \(", macOS "parentheses not balanced": only the prefix is ours.
            let prefix = "the log pattern '(unclosed' is not a valid regular expression: "
            return message.hasPrefix(prefix) && message.count > prefix.count + 5
        }
        #expect(throws: ProbeError(message: "the log pattern is empty")) { _ = try LineMatcher(pattern: "") }
    }
}
