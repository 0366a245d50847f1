import Foundation
import PropertyBased
import Testing

@testable import RunitCore
@testable import RunitKit
@testable import RunitState

/// `JSONText` must write what Foundation's `JSONEncoder` writes: `runit list --json` and
/// `status --json` print with it from the Foundation-free front, the other commands too.
@Suite("JSONText: the same bytes as JSONEncoder")
struct JSONTextTests {
    struct Sample: Codable {
        var text: String
        var number: Int
        var ratio: Double?
        var flags: [Bool]
        var table: [String: String]
        var children: [Sample]
        var empty: [Int] = []
    }

    static let character = Gen.element(of: Array("aZ9_/ \\\"'é😀\n\t\r\u{0}\u{1}\u{8}\u{C}\u{1F}\u{7F}\u{2028}:{}[],"))

    static func foundation<T: Encodable>(_ value: T, pretty: Bool) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting =
            pretty ? [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes] : [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    @Test("any value of strings, numbers, optionals, arrays and maps: byte for byte, pretty and compact")
    func sameBytes() async {
        let text = Self.character.array(of: 0...12).map { String($0.compactMap { $0 }) }
        await propertyCheck(input: text.array(of: 0...6), Gen.int64(in: -1_000_000...1_000_000)) { words, seed in
            let table = Dictionary(words.map { ($0, $0 + "!") }, uniquingKeysWith: { first, _ in first })
            let ratio: Double? = seed % 3 == 0 ? nil : Double(seed) / [1, 10, 100, 1e6, 3][Int(abs(seed) % 5)]
            let child = Sample(
                text: words.last ?? "", number: Int(seed / 7), ratio: nil, flags: [seed % 2 == 0], table: [:], children: [])
            let sample = Sample(
                text: words.joined(separator: " "), number: Int(seed), ratio: ratio, flags: words.map { $0.count % 2 == 0 },
                table: table, children: seed % 4 == 0 ? [] : [child, child])
            for pretty in [true, false] {
                let ours = try? JSONText.encode(sample, pretty: pretty)
                #expect(ours == (try? Self.foundation(sample, pretty: pretty)), "\(words) \(seed)")
            }
        }
    }

    @Test("a process's spec and report: as JSONEncoder writes them; a NaN is an error, not bad JSON")
    func realTypes() throws {
        var spec = ProcessSpec(
            name: "web", argv: ["sh", "-c", "echo 'a/b'"], command: "echo 'a/b'", cwd: "/tmp",
            env: [EnvironmentEntry(key: "TOKEN", value: "x\u{1}y")], restart: .onFailure)
        spec.startedBy = "mcp:claude"
        spec.project = ProjectLink(directory: "/p", file: "/p/runit.yaml", dependsOn: [ProcessDependency(name: "db")])
        #expect(try JSONText.encode(spec, pretty: true) == Self.foundation(spec, pretty: true))
        #expect(ProcessSpec(json: Array(try JSONText.encode(spec, pretty: true).utf8)) == spec)
        struct Ratio: Codable { var value: Double }
        #expect(throws: EncodingError.self) { try JSONText.encode(Ratio(value: .nan), pretty: false) }
        #expect(throws: EncodingError.self) { try JSONText.encode([Double.infinity], pretty: false) }
        #expect(try JSONText.encode(Ratio(value: 0.25), pretty: false) == #"{"value":0.25}"#)
    }
}
