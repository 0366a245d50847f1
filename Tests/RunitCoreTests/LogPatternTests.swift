import Foundation
import PropertyBased
import Testing

@testable import RunitCore
@testable import RunitKit
@testable import RunitState

@Suite("Log patterns: the literal prefilter never changes what matches")
struct LogPatternTests {
    @Test("with or without the prefilter, a record matches the same")
    func prefilterAgreesWithTheExpression() async {
        let patternCharacter = Gen.element(of: Array("ab .?*+()|[]\\^$x"))
        let textCharacter = Gen.element(of: Array("ab x.\u{1B}[31m"))
        await propertyCheck(input: patternCharacter.array(of: 1...8), textCharacter.array(of: 0...20)) { pattern, text in
            let source = String(pattern.compactMap { $0 })
            guard let compiled = try? LogPattern("abc" + source + "ab") else { return }
            let line = "xx abc" + String(text.compactMap { $0 }) + "ab"
            let record = LogRecord(micros: 1, stream: .out, text: Array(line.utf8))
            #expect(compiled.matches(record) == compiled.matches(line), "\(compiled.source) on \(line)")
        }
    }
}
