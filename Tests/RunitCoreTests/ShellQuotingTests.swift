import Foundation
import PropertyBased
import Testing

@testable import RunitKit
@testable import RunitState

/// The command `list` and `status` show for an argv: pasted into a shell, it must run the same
/// program with the same argument bytes.
@Suite("The displayed command gives back the argv in sh")
struct ShellQuotingTests {
    static let pieces = [
        "a", "Z", "9", " ", "'", "\"", "\\", "$", "`", "\n", "\t", "*", "!", "#", "~", "&", ";", "|", "<", ">", "(",
        ")", "{", "}", "=", "-", "é", "\u{301}", "'\u{301}", "\u{301}'", "\"\u{301}", "\\\u{301}", "😀", "\u{200D}",
        "\u{FE0F}", "e\u{301}", "ß", "\u{1F1FA}\u{1F1F8}",
        // Bytes that are not UTF-8 (ByteText), and a scalar of the range their escapes use.
        ByteText.text([0xFF]), ByteText.text([0x80]), ByteText.text([0xC3]), ByteText.text([0xF4, 0x8F, 0xBF, 0xBF]),
    ]

    @Test("an apostrophe followed by a combining mark is quoted as an apostrophe (found by a hostile review)")
    func apostropheWithCombiningMark() throws {
        let argv = ["printf", "it'\u{301}s", "'\u{301}", "\u{301}'x'"]
        let shown = ProcessSpec(name: "x", argv: argv, cwd: "/").displayCommand
        #expect(shown == "printf 'it'\\''\u{301}s' ''\\''\u{301}' '\u{301}'\\''x'\\'''", "\(shown)")
        #expect(try Self.words(shown) == argv.map { Array($0.utf8) })
    }

    @Test("in the command's place, NAME=VALUE and reserved words are quoted, so sh runs that program (found by a hostile review)")
    func commandPlace() throws {
        let bin = FileManager.default.temporaryDirectory.appendingPathComponent("runit-quote-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: bin, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: bin) }
        for program in ["A=1", "done", "if", "function", "%1", "[["] {
            let argv = [program, "x=y", "done"]
            let shown = ProcessSpec(name: "x", argv: argv, cwd: "/").displayCommand
            #expect(shown == "'\(program)' x=y done", "\(shown)")
            // A program of that name on PATH prints its name and arguments: sh must run it.
            let script = bin + "/" + program
            #expect(FileManager.default.createFile(atPath: script, contents: Data("#!/bin/sh\necho ran \"$@\"\n".utf8)))
            chmod(script, 0o755)
            // A script just written can be "busy" for a moment: a process forked meanwhile by a
            // test beside this one holds its write descriptor until it execs (ETXTBSY).
            var ran = try Self.shell(script: shown, environment: ["PATH": bin + ":/usr/bin:/bin"])
            for _ in 0..<20 where ran.output.isEmpty {
                usleep(50_000)
                ran = try Self.shell(script: shown, environment: ["PATH": bin + ":/usr/bin:/bin"])
            }
            #expect(String(decoding: ran.output, as: UTF8.self) == "ran x=y done\n", "\(shown)")
        }
    }

    @Test(
        "for any argv of quotes, combining marks, newlines, non-ASCII and bytes that are not UTF-8, sh reads the displayed command back as the argv"
    )
    func roundTripInShell() async {
        let word = Gen.element(of: Self.pieces).array(of: 0...8).map { $0.compactMap { $0 }.joined() }
        await propertyCheck(count: 60, input: word.array(of: 1...5)) { argv in
            let shown = ProcessSpec(name: "x", argv: argv, cwd: "/").displayCommand
            #expect((try? Self.words(shown)) == argv.map(ByteText.bytes), "\(shown)")
        }
    }

    /// The words `sh` makes of `command`, each as bytes.
    static func words(_ command: String, shell: String = "/bin/sh") throws -> [[UInt8]] {
        let ran = try Self.shell(shell, script: "set -- " + command + "\nprintf '%s\\0' \"$@\"")
        #expect(ran.status == 0, "\(command)")
        return Array(ran.output).split(separator: 0, omittingEmptySubsequences: false).dropLast().map(Array.init)
    }

    /// What `shell -c script` printed, and its exit status.
    static func shell(
        _ shell: String = "/bin/sh", script: String, environment: [String: String]? = nil
    ) throws -> (output: Data, status: Int32) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: shell)
        process.arguments = ["-c", script]
        if let environment { process.environment = environment }
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (data, process.terminationStatus)
    }
}
