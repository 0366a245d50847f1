import PropertyBased
import Testing

@testable import RunitCore
@testable import RunitState

@Suite("Log text for the terminal: no escape or control left")
struct LogTextTests {
    static let printable = Array("aZ9 .;[]()/\\\"'é😀中\t") + ["m", "B", "#"]
    static let hostile: [Character] = [
        "\u{1B}", "[", "]", "(", "#", "B", "m", "3", ";", "\u{07}", "\u{00}", "\u{08}", "\r", "\n", "\u{7F}", "\u{9B}",
        "\u{9D}", "\u{9C}", "\u{85}", "\u{90}", "\\", "x", "é",
    ]

    /// Whether `text` holds a C0 or C1 control or DEL other than `\t`.
    func hasControl(_ text: String) -> Bool {
        text.unicodeScalars.contains { $0 != "\t" && LogText.isControl($0) }
    }

    @Test("cleaned text never holds a control character but \\t, and cleaning again changes nothing")
    func noControlsAndIdempotent() async {
        await propertyCheck(input: Gen.element(of: Self.hostile + Self.printable).array(of: 0...40)) { characters in
            let text = String(characters.compactMap { $0 })
            let cleaned = LogText.clean(text)
            #expect(!hasControl(cleaned), "\(text.debugDescription) → \(cleaned.debugDescription)")
            #expect(LogText.clean(cleaned) == cleaned, "\(text.debugDescription)")
        }
    }

    @Test("redraws with \\r leave what a terminal shows: each segment written over the start of the line")
    func redrawsOverlay() async {
        let segment = Gen.element(of: Array("abcxyz ")).array(of: 0...12)
        await propertyCheck(input: segment.array(of: 1...5)) { segments in
            let parts = segments.map { String($0.compactMap { $0 }) }
            var screen: [Character] = []
            for part in parts {
                for (column, character) in part.enumerated() {
                    if column < screen.count { screen[column] = character } else { screen.append(character) }
                }
            }
            #expect(LogText.clean(parts.joined(separator: "\r")) == String(screen), "\(parts)")
        }
    }

    @Test("plain printable text is unchanged")
    func printableUnchanged() async {
        await propertyCheck(input: Gen.element(of: Self.printable).array(of: 0...60)) { characters in
            let text = String(characters.compactMap { $0 })
            #expect(LogText.clean(text) == text)
        }
    }

    @Test("escape sequences of every kind go whole; other controls become U+FFFD")
    func examples() {
        #expect(LogText.clean("\u{1B}(Bplain\u{1B}[0m") == "plain")
        #expect(LogText.clean("\u{9B}31mred\u{9B}0m") == "red")
        #expect(LogText.clean("\u{1B}]8;;http://x\u{1B}\\link\u{1B}]8;;\u{1B}\\") == "link")
        #expect(LogText.clean("\u{1B}7saved\u{1B}8") == "saved")
        #expect(LogText.clean("\u{1B}#8x") == "x")
        #expect(LogText.clean("bell\u{07} nul\u{00} bs\u{08}") == "bell\u{FFFD} nul\u{FFFD} bs\u{FFFD}")
        #expect(LogText.clean("tab\there") == "tab\there")
        #expect(LogText.clean("\u{1B}[31") == "")
    }
}
