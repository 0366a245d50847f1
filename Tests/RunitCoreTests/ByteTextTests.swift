import Foundation
import PropertyBased
import Testing

@testable import RunitKit
@testable import RunitState

/// Arguments and environment values are bytes: those that are not UTF-8 must reach the process
/// unchanged, through the command line, `spec.json` and the supervisor's command line.
@Suite("Text that keeps bytes that are not UTF-8")
struct ByteTextTests {
    /// Pieces of byte strings: single bytes of every kind, whole UTF-8 scalars (those of the
    /// escapes' own range too), truncated and overlong sequences, surrogates' encodings.
    static let pieces: [[UInt8]] = [
        [0x61], [0x20], [0x7F], [0x80], [0xBF], [0xC0], [0xC1], [0xC3], [0xC3, 0xA9], [0xE2, 0x82], [0xE2, 0x82, 0xAC],
        [0xED, 0xA0, 0x80], [0xF0, 0x9F, 0x98, 0x80], [0xF0, 0x9F, 0x98], [0xF4, 0x8F, 0xBE, 0x80],
        [0xF4, 0x8F, 0xBF, 0xBF], [0xF4, 0x8F, 0xBF], [0xF4, 0x90, 0x80, 0x80], [0xF5], [0xFE], [0xFF], [0xCC, 0x81],
        [0x22], [0x5C], [0x0A], [0x27],
    ]
    static let byteStrings = Gen.element(of: pieces).array(of: 0...12).map { $0.compactMap { $0 }.flatMap { $0 } }

    @Test("any bytes make a text that gives them back unchanged")
    func roundTrip() async {
        await propertyCheck(count: 500, input: Self.byteStrings) { bytes in
            #expect(ByteText.bytes(ByteText.text(bytes)) == bytes, "\(bytes)")
        }
        await propertyCheck(count: 500, input: Gen.uint8(in: 0...255).array(of: 0...40)) { bytes in
            #expect(ByteText.bytes(ByteText.text(bytes)) == bytes, "\(bytes)")
        }
    }

    @Test("every way of handing over the bytes makes the same text: an array, a slice, a buffer, any collection")
    func overloadsAgree() async {
        await propertyCheck(count: 300, input: Self.byteStrings) { bytes in
            let text = ByteText.text(bytes)
            let padded = [0x41] + bytes + [0x42]
            #expect(ByteText.text(padded[1..<(padded.count - 1)]) == text)
            #expect(bytes.withUnsafeBytes { ByteText.text($0) } == text)
            #expect(ByteText.text(bytes.lazy.map { $0 }) == text)
            #expect(ByteText.text(bytes.reversed().reversed()) == text)
        }
    }

    @Test("UTF-8 outside the escapes' range is its own text")
    func textIsItself() {
        for text in ["", "plain", "é😀\u{301}", "\u{FFFD}", "\u{10FF7F}", "a\u{0}b"] {
            #expect(Array(ByteText.text(Array(text.utf8)).utf8) == Array(text.utf8), "\(text)")
            #expect(ByteText.bytes(text) == Array(text.utf8))
        }
        #expect(ByteText.text([0x66, 0xFF]).unicodeScalars.map(\.value) == [0x66, 0x10_FFFF])
        #expect(ByteText.shown(ByteText.text([0x66, 0xFF, 0xC3])) == "f\\xFF\\xC3")
    }

    @Test("a spec whose argv, command, cwd and env hold any bytes is read back from spec.json with the same bytes")
    func specRoundTrip() async {
        await propertyCheck(input: Self.byteStrings.array(of: 1...4), Self.byteStrings, Self.byteStrings) {
            argv, key, value in
            let texts = argv.map { ByteText.text($0) }
            let entry = EnvironmentEntry(key: "K" + ByteText.text(key), value: ByteText.text(value))
            var spec = ProcessSpec(
                name: "raw", argv: texts, command: texts[0], cwd: "/" + ByteText.text(value), env: [entry])
            spec.startedBy = "cli"
            guard let json = try? JSONText.encode(spec, pretty: true) else {
                Issue.record("cannot encode")
                return
            }
            let read = ProcessSpec(json: ByteText.jsonBytes(json))
            #expect(read?.argv.map(ByteText.bytes) == argv)
            #expect(read?.command.map(ByteText.bytes) == argv[0])
            #expect(read?.env.map { ByteText.bytes($0.key) } == [[0x4B] + key])
            #expect(read?.env.map { ByteText.bytes($0.value) } == [value])
            #expect(read.map { ByteText.bytes($0.cwd) } == [0x2F] + value)
        }
    }

    @Test("a spec.json written before keeps its meaning: every string is read as the same bytes")
    func olderSpecs() throws {
        // As JSONEncoder wrote it: U+FFFD where bytes were lost, a scalar of the escapes' range as
        // such, other non-ASCII as UTF-8, escapes of control characters.
        let old = """
            {
              "argv" : [
                "printf",
                "\u{FFFD}\u{10FF80}\u{10FFFF}é\\n\\u001b😀"
              ],
              "cwd" : "/tmp",
              "env" : [
                {
                  "key" : "URL",
                  "value" : "\u{10FFFE}x"
                }
              ],
              "log_keep" : 5,
              "log_max_size" : 10485760,
              "name" : "old",
              "restart" : "never"
            }
            """
        let spec = try #require(ProcessSpec(json: Array(old.utf8)))
        #expect(ByteText.bytes(spec.argv[1]) == Array("\u{FFFD}\u{10FF80}\u{10FFFF}é\n\u{1B}😀".utf8))
        #expect(ByteText.bytes(spec.env[0].value) == Array("\u{10FFFE}x".utf8))
        // Written again and read back, the same bytes.
        let again = try #require(ProcessSpec(json: ByteText.jsonBytes(try JSONText.encode(spec, pretty: true))))
        #expect(again.argv.map(ByteText.bytes) == spec.argv.map(ByteText.bytes))
        #expect(again.env == spec.env)
    }

    @Test("a lone \\udcXX below \\udc80 is still no string, and a pair of surrogates is one scalar")
    func surrogates() {
        #expect(JSONValue(parsing: Array(#"["\udc7f"]"#.utf8)) == nil)
        #expect(JSONValue(parsing: Array(#"["\ud83d\ude00"]"#.utf8))?.array?.first?.string == "😀")
        #expect(JSONValue(parsing: Array(#"["a\udcffb"]"#.utf8))?.array?.first?.string.map(ByteText.bytes) == [0x61, 0xFF, 0x62])
    }
}
