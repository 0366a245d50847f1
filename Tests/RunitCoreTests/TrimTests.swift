import Foundation
import PropertyBased
import Testing

@testable import RunitState

/// The client side trims as Foundation did: a blank `--command` or health command is refused,
/// a `PORT` with spaces around it is read, whatever kind of space it is.
@Suite("Trimming: as Foundation's whitespace sets")
struct TrimTests {
    static let character = Gen.element(
        of: Array(
            "a 1\t\n\r\u{B}\u{C}\u{A0}\u{3000}\u{85}\u{2028}\u{2029}\u{200B}\u{180E}\u{FEFF}\u{2060}\u{1680}\u{2007}\u{202F}\u{205F}é\r\nx"
        ))

    @Test("trimmedWhitespace and trimmedSpaces give what trimmingCharacters gives, on any text")
    func sameAsFoundation() async {
        await propertyCheck(input: Self.character.array(of: 0...10)) { characters in
            let text = String(characters.compactMap { $0 })
            #expect(
                text.trimmedWhitespace == text.trimmingCharacters(in: .whitespacesAndNewlines), "\(Array(text.unicodeScalars))")
            #expect(text.trimmedSpaces == text.trimmingCharacters(in: .whitespaces), "\(Array(text.unicodeScalars))")
        }
    }

    @Test("examples: a CRLF pair, NBSP and U+3000 go; a port with a line end is not a port")
    func examples() {
        #expect("\r\n".trimmedWhitespace.isEmpty && "\u{A0}\u{3000}\u{B}".trimmedWhitespace.isEmpty)
        #expect(" 3000\u{A0}".trimmedSpaces == "3000" && "3000\n".trimmedSpaces == "3000\n")
    }
}
