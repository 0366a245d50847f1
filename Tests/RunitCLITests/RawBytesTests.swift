import Foundation
import Testing

/// A variable or an argument is bytes, not always UTF-8: the process must get exactly what the
/// user gave, not U+FFFD in its place.
@Suite("Bytes that are not UTF-8 reach the process as given")
struct RawBytesTests {
    @Test(
        "an inherited variable, --env values and arguments keep their bytes, after a restart and a plain start too (found by a hostile review)"
    )
    func rawBytes() throws {
        let fixture = try CLIFixture()
        defer { fixture.cleanUp() }
        let out = fixture.scratch + "/out"
        // The shell makes the bytes: Foundation's Process takes only Strings. ACUTE's value starts
        // with a combining mark, which a `Character` search for `=` missed.
        let script = #"""
            FOO="$(printf '\377\376')" exec "$0" start raw --env "BAR=$(printf '\375a')" \
              --env "$(printf 'ACUTE=\314\201x')" -- \
              sh -c 'printf "%s|%s|%s|%s" "$FOO" "$BAR" "$ACUTE" "$1" > "$2"; exec sleep 300' sh "$(printf '\374')" "$1"
            """#
        let start = try fixture.run(["-c", script, CLIFixture.binary, out], tool: "/bin/sh")
        #expect(start.status == 0, "\(start.stderr)")
        let given: [UInt8] = [0xFD, 0x61, 0x7C, 0xCC, 0x81, 0x78, 0x7C, 0xFC]
        #expect(fixture.eventually { written(out) == [0xFF, 0xFE, 0x7C] + given }, "\(written(out) ?? [])")
        // Later starts take the spec from spec.json; FOO is no longer in the environment.
        try FileManager.default.removeItem(atPath: out)
        #expect(try fixture.run(["restart", "raw"]).status == 0)
        #expect(fixture.eventually { written(out) == [0x7C] + given }, "\(written(out) ?? [])")
        #expect(try fixture.run(["stop", "raw"]).status == 0)
        try FileManager.default.removeItem(atPath: out)
        #expect(try fixture.run(["start", "raw"]).status == 0)
        #expect(fixture.eventually { written(out) == [0x7C] + given }, "\(written(out) ?? [])")
        // Shown as escapes, and the command as one that gives the bytes back in sh.
        let status = try fixture.run(["status", "raw"]).stdout
        #expect(status.contains("env:        BAR=\\xFDa"), "\(status)")
        #expect(status.contains(#"sh ''"$(printf '\374')"'' "#), "\(status)")
    }

    @Test("an error that names a path of bytes that are not UTF-8 shows them as \\xHH, from the front and runit-cli")
    func errorsShowBytes() throws {
        let fixture = try CLIFixture()
        defer { fixture.cleanUp() }
        for tool in [CLIFixture.binary, CLIFixture.binary + "-cli"] {
            let script = #"exec "$0" start x --cwd "/nonexistent/$(printf '\377')" -- true"#
            let start = try fixture.run(["-c", script, tool], tool: "/bin/sh")
            #expect(start.status != 0)
            #expect(start.stderr.contains("'/nonexistent/\\xFF'") && start.stderr.contains("does not exist"), "\(start.stderr)")
            let json = try fixture.run(
                ["-c", script.replacingOccurrences(of: " -- true", with: " --json -- true"), tool], tool: "/bin/sh")
            #expect(json.stdout.contains(#"'/nonexistent/\\xFF'"#), "\(json.stdout)")
        }
    }

    @Test("bytes that are not UTF-8 in runit.yaml and .env reach the process as written (found by a hostile review)")
    func projectBytes() throws {
        let fixture = try CLIFixture()
        defer { fixture.cleanUp() }
        let directory = fixture.scratch + "/proj"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let out = directory + "/out"
        let script = "'printf \"%s|%s|%s\" \"$1\" \"$XY\" \"$XE\" > out; exec sleep 300'"
        var yaml = Array("processes:\n  raw:\n    argv: [sh, -c, \(script), sh, \"a".utf8)
        yaml += [0xFF] + Array("b\"]\n    env: {XY: \"v".utf8) + [0xFE] + Array("\"}\n    env_file: .env\n".utf8)
        // Both begin with a UTF-8 byte order mark, as some editors write them.
        let mark: [UInt8] = [0xEF, 0xBB, 0xBF]
        #expect(FileManager.default.createFile(atPath: directory + "/runit.yaml", contents: Data(mark + yaml)))
        let env = mark + Array("XE=d".utf8) + [0xFF, 0xFE, 0x0A]
        #expect(FileManager.default.createFile(atPath: directory + "/.env", contents: Data(env)))
        let config = try fixture.run(["config"], cwd: directory)
        #expect(config.stdout.contains("a\\xFFb") && config.stdout.contains("XY=v\\xFE"), "\(config.stdout)")
        let up = try fixture.run(["up"], cwd: directory)
        #expect(up.status == 0, "\(up.stderr)")
        let expected: [UInt8] = [0x61, 0xFF, 0x62, 0x7C, 0x76, 0xFE, 0x7C, 0x64, 0xFF, 0xFE]
        #expect(fixture.eventually { written(out) == expected }, "\(written(out) ?? [])")
        #expect(try fixture.run(["down"], cwd: directory).status == 0)
    }

    @Test("a working directory that is not UTF-8, given or current, is the process's (found by a hostile review)")
    func directoryBytes() throws {
        let fixture = try CLIFixture()
        defer { fixture.cleanUp() }
        // The shell makes the folder and the calls: Foundation's Process takes only Strings.
        let script = #"""
            d="$1/d$(printf '\377')"; mkdir "$d" && cd "$d" || exit 9
            "$0" start given --cwd "$d" -- sh -c 'pwd > "$1/given"; exec sleep 300' sh "$1" || exit 1
            exec "$0" start current -- sh -c 'pwd > "$1/current"; exec sleep 300' sh "$1"
            """#
        let start = try fixture.run(["-c", script, CLIFixture.binary, fixture.scratch], tool: "/bin/sh")
        #expect(start.status == 0, "\(start.stderr)")
        let expected = Array((fixture.scratch + "/d").utf8) + [0xFF, 0x0A]
        for name in ["given", "current"] {
            #expect(fixture.eventually { written(fixture.scratch + "/" + name) == expected }, "\(name)")
        }
        #expect(try fixture.run(["status", "given"]).stdout.contains("/d\\xFF"))
    }

    @Test("a --ready-log or --grep pattern with a byte that is not UTF-8 matches that byte (found by a hostile review)")
    func patternBytes() throws {
        let fixture = try CLIFixture()
        defer { fixture.cleanUp() }
        let script = #"""
            exec "$0" start r --ready-log "$(printf 'x\377y')" -- sh -c 'printf "x\377y\nplain\n"; exec sleep 300'
            """#
        let start = try fixture.run(["-c", script, CLIFixture.binary], tool: "/bin/sh")
        #expect(start.status == 0, "\(start.stderr)")
        #expect(fixture.eventually { fixture.state("r") == "ready" }, "\(fixture.state("r") ?? "none")")
        let grep = try fixture.run(["-c", #"exec "$0" logs r --grep "$(printf '\377')""#, CLIFixture.binary], tool: "/bin/sh")
        #expect(grep.status == 0 && grep.stdout.contains("x\u{FFFD}y") && !grep.stdout.contains("plain"), "\(grep.stdout)")
    }

    /// The bytes of `path`, nil until it holds some.
    private func written(_ path: String) -> [UInt8]? {
        guard let data = FileManager.default.contents(atPath: path), !data.isEmpty else { return nil }
        return Array(data)
    }
}
