import Testing

@testable import RunitKit

@Suite("Keys by name")
struct KeyNamesTests {
    @Test("control keys in every spelling, and the named keys a terminal sends")
    func names() {
        for spelling in ["ctrl-c", "CTRL-C", "ctrl+c", "C-c", "^C"] { #expect(KeyNames.bytes(spelling) == [3], "\(spelling)") }
        #expect(KeyNames.bytes("ctrl-d") == [4])
        #expect(KeyNames.bytes("ctrl-[") == [0x1B])
        #expect(KeyNames.bytes("enter") == [0x0D])
        #expect(KeyNames.bytes("Up") == Array("\u{1B}[A".utf8))
        #expect(KeyNames.bytes("pagedown") == Array("\u{1B}[6~".utf8))
    }

    @Test("anything else is not a key", arguments: ["", "ctrl-", "ctrl-1", "ctrl-cc", "f1", "hyper-x", "^", "ctrl-é"])
    func refused(_ name: String) {
        #expect(KeyNames.bytes(name) == nil)
    }

    @Test("every letter is one control byte, and the rule names every key")
    func letters() {
        for (index, letter) in "abcdefghijklmnopqrstuvwxyz".enumerated() {
            #expect(KeyNames.bytes("ctrl-\(letter)") == [UInt8(index + 1)])
        }
        for (name, _) in KeyNames.named where name != "escape" { #expect(KeyNames.rule.contains(name)) }
    }
}
