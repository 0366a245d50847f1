import Foundation
import PropertyBased
import RunitCore
import Testing

@testable import RunitProject

@Suite("Project formats: round trips and invariants")
struct ProjectPropertyTests {
    static let keyCharacter = Gen.element(of: Array("ABCxyz_09"))
    /// With a lone combining mark, which joins the character before it (`=` among them).
    static let valueCharacter = Gen.element(of: Array("aZ9 _-=#'\"\\$\n\té😀/:") + ["\u{301}"])

    @Test("any entries written with .env quoting parse back the same, in order")
    func envRoundTrip() async {
        let entry = zip(
            Gen.element(of: Array("ABCxyz_")), Self.keyCharacter.array(of: 0...8), Self.valueCharacter.array(of: 0...20))
        await propertyCheck(input: entry.array(of: 0...6), Gen.bool) { entries, exported in
            let pairs = entries.map { first, rest, value in
                (String(first ?? "A") + String(rest.compactMap { $0 }), String(value.compactMap { $0 }))
            }
            let text = pairs.map { (exported ? "export " : "") + $0.0 + "=" + EnvFile.quoted($0.1) }.joined(separator: "\n")
            let parsed = try? EnvFile.parse("# written by a test\n\n" + text + "\n")
            #expect(parsed?.map(\.key) == pairs.map(\.0), "\(text)")
            #expect(parsed?.map(\.value) == pairs.map(\.1), "\(text)")
        }
    }

    @Test(".env: comments, spaces, CRLF, quotes and export read as Compose reads them")
    func envExamples() throws {
        let text = "A=1\r\n  B = two words  # a comment\nexport C='lit $X \\n'\nD=\"multi\nline\"\nE=\n# F=no\nG=a#b\n"
        let entries = try EnvFile.parse(text)
        #expect(entries.map(\.key) == ["A", "B", "C", "D", "E", "G"])
        #expect(entries.map(\.value) == ["1", "two words", "lit $X \\n", "multi\nline", "", "a#b"])
        #expect(
            throws: EnvFile.Problem(
                line: 2, message: "'1BAD' is not a variable name: letters, digits and '_', not starting with a digit")
        ) {
            try EnvFile.parse("OK=1\n1BAD=2\n")
        }
        #expect(throws: EnvFile.Problem.self) { try EnvFile.parse("A=\"open\n") }
        #expect(throws: EnvFile.Problem(line: 1, message: "the line beginning 'just' is not KEY=VALUE")) {
            try EnvFile.parse("just text")
        }
        // The rest of the line may be a secret, and is never said back.
        #expect(throws: EnvFile.Problem(line: 2, message: "the line beginning 'SECRET_TOKEN' is not KEY=VALUE")) {
            try EnvFile.parse("A=1\nSECRET_TOKEN abc123")
        }
        // `=` and a combining mark after it make one Character; the value is the mark and what follows.
        #expect(try EnvFile.parse("ACUTE=\u{301}x\nB=\u{301}\n").map(\.value) == ["\u{301}x", "\u{301}"])
    }

    @Test("any Procfile of valid lines reads back its names and commands")
    func procfileRoundTrip() async {
        let name = zip(Gen.letterOrNumber, Gen.element(of: Array("ab1_-.")).array(of: 0...10))
        let command = Gen.element(of: Array("abc 123-$:/=\"'")).array(of: 1...30)
        await propertyCheck(input: zip(name, command).array(of: 0...8)) { lines in
            var seen: Set<String> = []
            var expected: [(String, String)] = []
            var text = ""
            for ((first, rest), words) in lines {
                let name = String(first) + String(rest.compactMap { $0 })
                let command = String(words.compactMap { $0 }).trimmingCharacters(in: .whitespaces)
                guard !command.isEmpty, seen.insert(name).inserted else { continue }
                expected.append((name, command))
                text += "\(name): \(command)\n# a comment\n\n"
            }
            // Written on Windows too: CRLF line ends read the same.
            for text in [text, text.replacingOccurrences(of: "\n", with: "\r\n")] {
                let parsed = Procfile.entries(text)
                #expect(parsed.problems.isEmpty, "\(parsed.problems)")
                #expect(parsed.entries.map(\.name) == expected.map(\.0))
                #expect(parsed.entries.map(\.command) == expected.map(\.1))
            }
        }
    }

    @Test("levels respect every dependency, hold every process once, and a cycle is always found")
    func graphInvariants() async {
        // Edges from a process to earlier ones only: acyclic; one edge back makes a cycle.
        await propertyCheck(input: Gen.int(in: 1...12), Gen.int(in: 0...1000), Gen.bool) { count, seed, addCycle in
            var random = seed
            func next() -> Int {
                random = (random &* 1_103_515_245 &+ 12345) & 0x7fff_ffff
                return random
            }
            var processes = (0..<count).map { ProjectProcess(name: "p\($0)", cwd: "/") }
            for index in 1..<max(1, count) where count > 1 {
                for other in 0..<index where next() % 3 == 0 {
                    processes[index].dependsOn.append(ProcessDependency(name: "p\(other)", condition: .started))
                }
            }
            if addCycle && count > 1 {
                processes[0].dependsOn.append(ProcessDependency(name: "p\(count - 1)"))
                processes[count - 1].dependsOn.append(ProcessDependency(name: "p0"))
                #expect(ProjectGraph.cycle(in: processes) != nil)
                #expect(ProjectGraph.levels(processes) == nil)
                return
            }
            #expect(ProjectGraph.cycle(in: processes) == nil)
            let levels = ProjectGraph.levels(processes) ?? []
            #expect(levels.flatMap { $0 }.sorted() == processes.map(\.name).sorted())
            let level = Dictionary(
                uniqueKeysWithValues: levels.enumerated().flatMap { index, names in names.map { ($0, index) } })
            for process in processes {
                for dependency in process.dependsOn {
                    #expect(level[dependency.name]! < level[process.name]!)
                }
                // As early as its dependencies allow, and each level in the file's order.
                #expect(level[process.name]! == (process.dependsOn.map { level[$0.name]! }.max() ?? -1) + 1)
            }
            for names in levels {
                #expect(names == processes.map(\.name).filter { names.contains($0) })
            }
            // The closure of the last process holds all it depends on; dependants of the first all depend on it.
            let closure = ProjectGraph.closure(of: ["p\(count - 1)"], in: processes)
            for name in closure where name != "p\(count - 1)" {
                #expect(level[name]! < level["p\(count - 1)"]!)
            }
        }
    }

    @Test("a chain or a cycle of 20,000 processes is ordered or found, without a deep recursion")
    func longChain() {
        let count = 20_000
        var processes = (0..<count).map { ProjectProcess(name: "p\($0)", cwd: "/") }
        for index in 0..<(count - 1) {
            processes[index].dependsOn.append(ProcessDependency(name: "p\(index + 1)"))
        }
        #expect(ProjectGraph.cycle(in: processes) == nil)
        let levels = ProjectGraph.levels(processes)
        #expect(levels?.count == count)
        #expect(levels?.first == ["p\(count - 1)"] && levels?.last == ["p0"])
        processes[count - 1].dependsOn.append(ProcessDependency(name: "p0"))
        #expect(ProjectGraph.cycle(in: processes)?.count == count)
        #expect(ProjectGraph.levels(processes) == nil)
    }
}
