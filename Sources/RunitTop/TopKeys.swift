/// A key `runit top` acts on, decoded from the bytes a terminal sends.
enum TopKey: Equatable, Sendable {
    case up, down, pageUp, pageDown, home, end
    case enter, escape, backspace
    /// Ctrl-C: raw mode turns off the terminal's signals, so it arrives as a byte.
    case interrupt
    /// Ctrl-L: draw the whole screen again.
    case redraw
    /// Ctrl-Z: stop the program, as a shell's job control does.
    case suspend
    /// A printable character (a letter of a filter, or a command key).
    case character(Character)
    /// A sequence or control byte that means nothing here.
    case unknown
}

/// Turns the bytes read from a terminal in raw mode into keys.
enum TopKeys {
    /// The keys in `bytes`, and the bytes at the end that may be the start of a longer key (an
    /// `ESC` that may begin an arrow's sequence, part of a UTF-8 character): the caller keeps
    /// them and decodes them with what comes next. With `final` (nothing more came in a short
    /// while), nothing is kept: a lone `ESC` is the Escape key.
    static func decode(_ bytes: [UInt8], final: Bool = false) -> (keys: [TopKey], rest: [UInt8]) {
        var keys: [TopKey] = []
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            switch byte {
            case 0x1B:
                guard let (key, length) = escapeSequence(bytes[index...]) else {
                    if final {
                        keys.append(.escape)
                        index += 1
                        continue
                    }
                    return (keys, Array(bytes[index...]))
                }
                keys.append(key)
                index += length
            case 0x0D, 0x0A:
                keys.append(.enter)
                index += 1
            case 0x7F, 0x08:
                keys.append(.backspace)
                index += 1
            case 0x03:
                keys.append(.interrupt)
                index += 1
            case 0x0C:
                keys.append(.redraw)
                index += 1
            case 0x1A:
                keys.append(.suspend)
                index += 1
            case 0x20...0x7E:
                keys.append(.character(Character(Unicode.Scalar(byte))))
                index += 1
            case 0xC2...0xF4:
                let length = byte < 0xE0 ? 2 : byte < 0xF0 ? 3 : 4
                guard index + length <= bytes.count else {
                    if final { return (keys + [.unknown], []) }
                    return (keys, Array(bytes[index...]))
                }
                let text = String(decoding: bytes[index..<index + length], as: UTF8.self)
                if text.count == 1, let character = text.first, character != "\u{FFFD}" {
                    keys.append(.character(character))
                } else {
                    keys.append(.unknown)
                }
                index += length
            default:
                keys.append(.unknown)
                index += 1
            }
        }
        return (keys, [])
    }

    /// The key an escape sequence at the start of `bytes` stands for and its length; nil when
    /// the bytes end before the sequence does. An `ESC` followed by something that starts no
    /// sequence is the Escape key on its own (the next byte is decoded by itself).
    static func escapeSequence(_ bytes: ArraySlice<UInt8>) -> (TopKey, Int)? {
        let start = bytes.startIndex
        guard bytes.count >= 2 else { return nil }
        let introducer = bytes[start + 1]
        switch introducer {
        case UInt8(ascii: "O"):
            // SS3: the arrows and Home/End of a terminal in application cursor mode.
            guard bytes.count >= 3 else { return nil }
            let keys: [UInt8: TopKey] = [0x41: .up, 0x42: .down, 0x48: .home, 0x46: .end]
            return (keys[bytes[start + 2]] ?? .unknown, 3)
        case UInt8(ascii: "["):
            // CSI: parameter bytes 0x30-0x3F, intermediate bytes 0x20-0x2F, one final byte.
            var end = start + 2
            while end < bytes.endIndex, (0x20...0x3F).contains(bytes[end]) { end += 1 }
            guard end < bytes.endIndex else { return nil }
            let parameters = String(decoding: bytes[(start + 2)..<end], as: UTF8.self)
            let length = end - start + 1
            switch (bytes[end], parameters) {
            case (0x41, _): return (.up, length)
            case (0x42, _): return (.down, length)
            case (0x48, _): return (.home, length)
            case (0x46, _): return (.end, length)
            case (0x7E, "5"): return (.pageUp, length)
            case (0x7E, "6"): return (.pageDown, length)
            case (0x7E, "1"), (0x7E, "7"): return (.home, length)
            case (0x7E, "4"), (0x7E, "8"): return (.end, length)
            default: return (.unknown, length)
            }
        default:
            return (.escape, 1)
        }
    }
}
