import Foundation
import PropertyBased
import Testing

@testable import RunitCore
@testable import RunitKit

@Suite("Log patterns: the literal prefilter never changes what matches")
struct LogPatternTests {
    @Test("the required literal is the longest run every match must hold, or none when unsure")
    func requiredLiterals() {
        let cases: [(String, String?)] = [
            ("items/976 ", "items/976 "), ("error: (boom|bang)", nil), ("^GET /api/[a-z]+ 200", "GET /api/"),
            ("timeout\\.?", "timeout"), ("a\\.b\\.c", "a.b.c"), ("(?i)error", nil), ("ab", nil), ("\\d+ms user=9", "ms user=9"),
            ("x(abc)yz", nil), ("colou?r and more", "r and more"),
        ]
        for (pattern, literal) in cases {
            #expect(LogPattern.requiredLiteral(of: pattern).map { String(decoding: $0, as: UTF8.self) } == literal, "\(pattern)")
        }
    }

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
