import RunitKit

/// Log text made fit for a reader: escape codes removed, carriage-return redraws collapsed,
/// and no control character left that a terminal would act on.
public enum LogText {
    /// `text` with control characters written as visible escapes (`\n`, `\t`, `\r`, `\e`,
    /// `\xNN`), so that a cell or a line never breaks its row or drives the terminal.
    public static func visible(_ text: String) -> String { ByteText.visible(text) }

    /// The text as a terminal would finally show it: no escape sequence, each `\r` redraw
    /// written over what came before it (`loading\rab` shows `abading`, as a terminal leaves
    /// it), and every control character but `\t` shown as U+FFFD.
    public static func clean(_ text: String) -> String {
        let stripped = stripANSI(text)
        guard stripped.unicodeScalars.contains(where: { $0 == "\r" || $0 == "\n" }) else { return stripped }
        // By scalars, not characters: "\r\n" is one Character, and must split too.
        var shown: [Unicode.Scalar] = []
        var column = 0
        for scalar in stripped.unicodeScalars {
            if scalar == "\r" {
                column = 0
                continue
            }
            let visible: Unicode.Scalar = scalar == "\n" ? "\u{FFFD}" : scalar
            if column < shown.count { shown[column] = visible } else { shown.append(visible) }
            column += 1
        }
        return String(String.UnicodeScalarView(shown))
    }

    /// Removes escape sequences (CSI, OSC and the other string sequences, `ESC` with intermediate
    /// bytes and a final byte, and their 8-bit C1 forms) and other C1 controls; replaces C0
    /// controls and DEL with U+FFFD, except `\t`, `\r` and `\n`.
    public static func stripANSI(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: isControl) else { return text }
        let scalars = Array(text.unicodeScalars)
        var out = String.UnicodeScalarView()
        var index = 0
        while index < scalars.count {
            let scalar = scalars[index]
            index += 1
            switch scalar.value {
            case 0x1B:
                guard index < scalars.count else { break }
                switch scalars[index].value {
                case 0x5B: index = endOfCSI(scalars, from: index + 1)
                case 0x50, 0x58, 0x5D, 0x5E, 0x5F: index = endOfString(scalars, from: index + 1)
                case 0x20...0x2F:
                    while index < scalars.count, (0x20...0x2F).contains(scalars[index].value) { index += 1 }
                    if index < scalars.count, (0x30...0x7E).contains(scalars[index].value) { index += 1 }
                case 0x30...0x7E: index += 1
                default: break  // A lone ESC is dropped; what follows it is handled on its own.
                }
            case 0x9B: index = endOfCSI(scalars, from: index)
            case 0x90, 0x98, 0x9D, 0x9E, 0x9F: index = endOfString(scalars, from: index)
            case 0x80...0x9F: break
            case 0x09, 0x0A, 0x0D: out.append(scalar)
            case 0x00...0x1F, 0x7F: out.append("\u{FFFD}")
            default: out.append(scalar)
            }
        }
        return String(out)
    }

    /// Whether `scalar` is a C0 or C1 control or DEL.
    static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value)
    }

    /// The index after a CSI's parameter, intermediate and final bytes; a sequence cut short by
    /// anything else ends before it, so that character is handled on its own.
    private static func endOfCSI(_ scalars: [Unicode.Scalar], from start: Int) -> Int {
        var index = start
        while index < scalars.count {
            let value = scalars[index].value
            if (0x40...0x7E).contains(value) { return index + 1 }
            guard (0x20...0x3F).contains(value) else { return index }
            index += 1
        }
        return index
    }

    /// The index after a string sequence (OSC, DCS, SOS, PM, APC) and its terminator: BEL, ST
    /// (`ESC \` or U+009C); an `ESC` that starts something else ends it too.
    private static func endOfString(_ scalars: [Unicode.Scalar], from start: Int) -> Int {
        var index = start
        while index < scalars.count {
            switch scalars[index].value {
            case 0x07, 0x9C: return index + 1
            case 0x1B:
                let terminated = index + 1 < scalars.count && scalars[index + 1] == "\\"
                return terminated ? index + 2 : index
            default: index += 1
            }
        }
        return index
    }
}
