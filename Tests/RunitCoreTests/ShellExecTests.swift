import Foundation
import Testing

@testable import RunitKit

@Suite("A simple --command runs as the program itself (exec), anything else as written")
struct ShellExecTests {
    @Test("simple commands get exec; compound ones, assignments first and the shell's own words do not")
    func whichCommandsAreSimple() {
        for command in [
            "sleep 300", "npm run dev", "vite --port $PORT", "python3 -m http.server 8080", "./worker.sh",
            "node server.js > out.txt", "echo2 'a b'", "grep \"x y\" file",
        ] {
            #expect(ShellExec.isSimple(command), "\(command)")
            #expect(ShellExec.direct(["/bin/sh", "-c", command]) == ["/bin/sh", "-c", "exec " + command])
        }
        for command in [
            "echo a; sleep 1", "a && b", "a || b", "a | b", "sleep 1 &", "a\nb", "(cd x; y)", "{ a; }",
            "echo `date`", "echo $(date)", "exit 3", "cd /tmp", "FOO=1 node x", "export A=1", "# nothing", "", "   ",
            "if true; then x; fi", "while :; do :; done", "echo hi", "a \\\n b", "<in cat", "$CMD arg", "true", "exec x",
            "'exit' 3", "-x arg", "2>/dev/null exit 3", "exit>/dev/null 3", "\"cd\" /",
        ] {
            #expect(!ShellExec.isSimple(command), "\(command)")
            #expect(ShellExec.direct(["/bin/sh", "-c", command]) == ["/bin/sh", "-c", command])
        }
        // An argv given as such is never touched.
        #expect(ShellExec.direct(["sleep", "300"]) == ["sleep", "300"])
        #expect(ShellExec.direct(["/bin/bash", "-c", "sleep 1"]) == ["/bin/bash", "-c", "sleep 1"])
    }

    @Test("with exec or without, the shell prints the same and exits with the same code")
    func sameBehaviour() throws {
        let commands = [
            "/usr/bin/printf '%s-' one \"two three\" four", "sh -c 'exit 7'", "ls /nonexistent-runit-path", "cat /dev/null",
            "env -i A=1 printenv A", "/usr/bin/printf x > /dev/null", "nosuchprogram-runit arg", "expr 2 + 3",
        ]
        for command in commands {
            #expect(ShellExec.isSimple(command), "\(command)")
            let plain = try Self.run(["/bin/sh", "-c", command])
            let direct = try Self.run(ShellExec.direct(["/bin/sh", "-c", command]))
            #expect(plain.status == direct.status, "\(command): \(plain.status) against \(direct.status)")
            #expect(plain.output == direct.output, "\(command)")
        }
    }

    /// Exit status and stdout of `argv`.
    static func run(_ argv: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: argv[0])
        process.arguments = Array(argv.dropFirst())
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}
