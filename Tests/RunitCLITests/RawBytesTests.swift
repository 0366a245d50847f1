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

    /// The bytes of `path`, nil until it holds some.
    private func written(_ path: String) -> [UInt8]? {
        guard let data = FileManager.default.contents(atPath: path), !data.isEmpty else { return nil }
        return Array(data)
    }
}
