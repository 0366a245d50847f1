import Foundation
import PropertyBased
import Testing

@testable import RunitCore
@testable import RunitKit
@testable import RunitState

@Suite("The small JSON parser")
struct JSONValueTests {
    static let character = Gen.element(of: Array("az09 \"\\/\n\t\u{1}é😀{}[],:"))

    @Test("strings that Foundation writes are read back identically")
    func stringsRoundTrip() async {
        await propertyCheck(input: Self.character.array(of: 0...40)) { characters in
            let text = String(characters.compactMap { $0 })
            let data = try? JSONSerialization.data(withJSONObject: ["k": text, "n": [1, 2.5, -3], "b": true, "z": NSNull()])
            let value = data.flatMap { JSONValue(parsing: Array($0)) }
            #expect(value?["k"]?.string == text)
            #expect(value?["n"]?.array == [.number(1), .number(2.5), .number(-3)])
            #expect(value?["b"] == .bool(true))
            #expect(value?["z"]?.isNull == true)
        }
    }

    @Test("an object's members by key: any keys Foundation writes; a key given twice is its last value")
    func members() async {
        await propertyCheck(input: Self.character.array(of: 0...8).array(of: 0...12)) { words in
            let keys = words.map { String($0.compactMap { $0 }) }
            let table = Dictionary(keys.enumerated().map { ($1, $0) }, uniquingKeysWith: { _, last in last })
            let data = try? JSONSerialization.data(withJSONObject: table)
            let value = data.flatMap { JSONValue(parsing: Array($0)) }
            #expect(value?.isObject == true)
            #expect(value?.object?.mapValues { $0.integer } == table.mapValues { Int64($0) })
            for (key, index) in table { #expect(value?[key]?.integer == Int64(index)) }
            #expect(value?["\u{0}absent"] == nil)
        }
        let twice = JSONValue(parsing: Array(#"{"a": 1, "b": 2, "a": 3}"#.utf8))
        #expect(twice?["a"]?.integer == 3)
        #expect(twice?.object == ["a": .number(3), "b": .number(2)])
        #expect(JSONValue(parsing: Array("[1]".utf8))?.isObject == false)
        #expect(JSONValue(parsing: Array("[1]".utf8))?["a"] == nil)
    }

    @Test("numbers read back as the value written, integers exactly")
    func numbers() async {
        await propertyCheck(input: Gen.int64(in: -8_999_999_999_999_999...8_999_999_999_999_999), Gen.int(in: -300...300)) {
            whole, exponent in
            // Below 2^53 every integer is exact in a Double, and `integer` gives it back.
            #expect(JSONValue(parsing: Array("\(whole)".utf8))?.integer == (abs(whole) < 9_000_000_000_000_000 ? whole : nil))
            let double = Double(whole) * 1.5
            #expect(JSONValue(parsing: Array("\(double)".utf8)) == .number(double))
            #expect(JSONValue(parsing: Array("1e\(exponent)".utf8)) == .number(Double("1e\(exponent)")!))
        }
        for bad in ["-", "+", "--1", "1-"] { #expect(JSONValue(parsing: Array(bad.utf8)) == nil, "\(bad)") }
    }

    @Test("a spec written by JSONEncoder is read back identically")
    func specRoundTrip() async {
        let word = Self.character.array(of: 1...12).map { String($0.compactMap { $0 }) }
        await propertyCheck(input: word.array(of: 1...4), word, word, Gen.element(of: RestartPolicy.allCases)) {
            argv, key, value, policy in
            let spec = ProcessSpec(
                name: "svc", argv: argv, command: argv.count == 1 ? argv[0] : nil, cwd: "/tmp/\(key)",
                env: [EnvironmentEntry(key: key, value: value)], restart: policy!, logMaxSize: 1234, logKeep: 3)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            let data = (try? encoder.encode(spec)) ?? Data()
            #expect(ProcessSpec(json: Array(data)) == spec)
        }
    }

    @Test("every cut of a document is refused, and any byte changed anywhere is parsed or refused, never read past")
    func cutsAndMutations() async {
        let document =
            Array(
                #"{"name":"shop/web","argv":["sh","-c","echo \"hi\" \\ \u00e9\ud83d\ude00"],"n":-12.5e3,"ok":true,"z":null,"#.utf8
            )
            + Array(#""nested":{"a":[1,2,{"b":[]}],"s":"\/\b\f\n\r\t"},"e":{}}"#.utf8)
        #expect(JSONValue(parsing: document)?["name"]?.string == "shop/web")
        for end in 0..<document.count {
            #expect(JSONValue(parsing: Array(document[0..<end])) == nil, "cut at \(end)")
        }
        let replacements: [UInt8] = [0x00, 0x22, 0x5C, 0x7B, 0x7D, 0x5B, 0x5D, 0x2C, 0x3A, 0x75, 0x30, 0x65, 0x2D, 0xF4, 0xFF]
        await propertyCheck(input: Gen.int(in: 0...(document.count - 1)), Gen.element(of: replacements)) { at, byte in
            var changed = document
            changed[at] = byte!
            _ = JSONValue(parsing: changed)
            _ = JSONValue(parsing: Array(changed[..<at]))
        }
    }

    @Test("numbers and \\u escapes only as JSON spells them; a pair spelling an escape's scalar is that scalar")
    func strictNumbersAndEscapes() {
        for text in [
            "+1", "01", "-01", ".5", "1.", "-.5", "1e", "1e+", "-", "--1", "1.5.2", "0x10", "\"\\u+041\"", "\"\\u-00B\"",
            "\"\\u 041\"",
        ] {
            #expect(JSONValue(parsing: Array(text.utf8)) == nil, "\(text)")
        }
        let numbers: [(String, Double)] = [
            ("0", 0), ("-0", 0), ("7", 7), ("-12", -12), ("1.5", 1.5), ("1e5", 100_000), ("1E-2", 0.01), ("-12.5e3", -12_500),
            ("123456789012345678", 123_456_789_012_345_678), ("0.25", 0.25),
        ]
        for (text, value) in numbers { #expect(JSONValue(parsing: Array(text.utf8)) == .number(value), "\(text)") }
        #expect(JSONValue(parsing: Array("\"\\u00e9\\u00C9\"".utf8))?.string == "éÉ")
        // U+10FF80 escaped as a surrogate pair, and written as raw UTF-8: the same bytes either way.
        let escaped = JSONValue(parsing: Array("\"\\udbff\\udf80\"".utf8))?.string
        let raw = JSONValue(parsing: [0x22, 0xF4, 0x8F, 0xBE, 0x80, 0x22])?.string
        #expect(escaped == raw)
        #expect(escaped.map(ByteText.bytes) == [0xF4, 0x8F, 0xBE, 0x80])
    }

    @Test("invalid JSON and deep nesting are refused, never a crash")
    func invalid() {
        let bad = [
            "", "{", "[1,]", "{\"a\" 1}", "\"unterminated", "tru", "{\"a\":1}x", "\"\\u12\"", "\"\\ud800\"", "[\"\u{1}\"]",
            String(repeating: "[", count: 100) + String(repeating: "]", count: 100),
        ]
        for text in bad { #expect(JSONValue(parsing: Array(text.utf8)) == nil, "\(text)") }
        #expect(
            JSONValue(parsing: Array("  {\"a\": [true, false, null, \"\\u00e9\\ud83d\\ude00\"]} ".utf8))?["a"]?.array?.last?
                .string == "é😀")
    }

    @Test("a status record missing a field or with a wrong type is refused")
    func statusRecordFields() {
        let record = StatusRecord(name: "a", state: .running, pid: 5, supervisorPID: 4)
        #expect(StatusRecord(json: Array(record.json.utf8)) == record)
        for broken in [
            record.json.replacingOccurrences(of: "\"pid\":5,", with: ""),
            record.json.replacingOccurrences(of: "\"running\"", with: "\"sleeping\""),
            record.json.replacingOccurrences(of: "\"restarts\":0", with: "\"restarts\":\"0\""),
        ] {
            #expect(StatusRecord(json: Array(broken.utf8)) == nil, "\(broken)")
        }
    }
}
