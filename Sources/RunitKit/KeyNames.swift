/// Keys by name, as `send --key` and `send_process_input`'s `keys` take them: the bytes a
/// terminal sends for each. Under `--tty` the terminal gives them their meaning (Ctrl-C
/// interrupts the process's foreground group, Ctrl-D ends a line's input); without one, the
/// process reads the bytes as they are.
public enum KeyNames {
    static let named: [(String, [UInt8])] = [
        ("enter", [0x0D]), ("tab", [0x09]), ("esc", [0x1B]), ("escape", [0x1B]), ("backspace", [0x7F]),
        ("space", [0x20]), ("up", Array("\u{1B}[A".utf8)), ("down", Array("\u{1B}[B".utf8)),
        ("right", Array("\u{1B}[C".utf8)), ("left", Array("\u{1B}[D".utf8)), ("home", Array("\u{1B}[H".utf8)),
        ("end", Array("\u{1B}[F".utf8)), ("delete", Array("\u{1B}[3~".utf8)), ("pageup", Array("\u{1B}[5~".utf8)),
        ("pagedown", Array("\u{1B}[6~".utf8)),
    ]

    /// What is accepted, for an error message.
    public static let rule =
        "a key is ctrl-a to ctrl-z, ctrl-[, ctrl-\\, ctrl-], or one of: "
        + named.map(\.0).filter { $0 != "escape" }.joined(separator: ", ")

    /// The bytes of the key called `name` (any case; `ctrl+c`, `C-c` and `^C` also name Ctrl-C);
    /// nil when it is not a key.
    public static func bytes(_ name: String) -> [UInt8]? {
        let lower = name.lowercased()
        if let found = named.first(where: { $0.0 == lower }) { return found.1 }
        var rest: Substring?
        for prefix in ["ctrl-", "ctrl+", "c-", "^"] where lower.hasPrefix(prefix) {
            rest = lower.dropFirst(prefix.count)
        }
        guard let rest, rest.utf8.count == 1, let byte = rest.utf8.first else { return nil }
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"): return [byte - 0x60]
        case UInt8(ascii: "["), UInt8(ascii: "\\"), UInt8(ascii: "]"): return [byte - 0x40]
        default: return nil
        }
    }
}
