/// A key pressed in `runit top`.
enum TopKey: Equatable {
    case up, down, enter, escape, backspace, interrupt
    case character(Character)

    /// The keys in one read from the terminal: escape sequences for the arrows (`ESC [ A` and
    /// the application mode's `ESC O A`), a lone ESC, and UTF-8 text. Unknown sequences are skipped.
    static func decode(_ bytes: [UInt8]) -> [TopKey] {
        var keys: [TopKey] = []
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            index += 1
            switch byte {
            case 0x1B:
                guard index < bytes.count, bytes[index] == 0x5B || bytes[index] == 0x4F else {
                    keys.append(.escape)
                    continue
                }
                // CSI or SS3: parameters, then one final byte from 0x40 to 0x7E.
                index += 1
                while index < bytes.count, !(0x40...0x7E).contains(bytes[index]) { index += 1 }
                guard index < bytes.count else { break }
                let final = bytes[index]
                index += 1
                if final == 0x41 { keys.append(.up) } else if final == 0x42 { keys.append(.down) }
            case 0x0D, 0x0A: keys.append(.enter)
            case 0x7F, 0x08: keys.append(.backspace)
            case 0x03: keys.append(.interrupt)
            case 0x20...0x7E: keys.append(.character(Character(Unicode.Scalar(byte))))
            case 0xC0...0xF7:
                // A UTF-8 character: its lead byte says how many follow.
                let length = byte >= 0xF0 ? 4 : byte >= 0xE0 ? 3 : 2
                let end = min(bytes.count, index - 1 + length)
                if let text = String(validating: bytes[(index - 1)..<end], as: UTF8.self), let character = text.first {
                    keys.append(.character(character))
                }
                index = end
            default: continue
            }
        }
        return keys
    }
}
