import RunitCore

/// A `.env` file, as Docker Compose and foreman read it.
///
/// - `KEY=value` a line; `export KEY=value` too. Blank lines and lines starting with `#` are
///   skipped; after an unquoted value, ` #` starts a comment.
/// - An unquoted value is taken without the spaces around it.
/// - `'single quotes'` are literal, on one line.
/// - `"double quotes"` may span lines and understand `\n`, `\r`, `\t`, `\"`, `\\` and `\$`.
/// - A key is letters, digits and `_`, not starting with a digit (a `.` and `-` are allowed
///   after the first character, as Compose allows).
/// - Variables in values are not expanded: `$HOME` stays `$HOME`.
public enum EnvFile {
    /// A line that could not be read: its number and what is wrong.
    public struct Problem: Error, Equatable, Sendable {
        /// The line, from 1.
        public var line: Int
        /// What is wrong and what is allowed.
        public var message: String
    }

    /// The entries of `text`, in order (a key given twice keeps both; the later wins when applied).
    public static func parse(_ text: String) throws(Problem) -> [EnvironmentEntry] {
        var entries: [EnvironmentEntry] = []
        if let nul = text.utf8.firstIndex(of: 0) {
            let line = text.utf8[..<nul].filter { $0 == 0x0A }.count + 1
            throw Problem(line: line, message: "the line holds a NUL byte, which no variable can hold")
        }
        let characters = Array(text.replacingOccurrences(of: "\r\n", with: "\n").unicodeScalars)
        var index = 0
        var line = 1
        while index < characters.count {
            let start = line
            var end = index
            while end < characters.count && characters[end] != "\n" { end += 1 }
            var head = String(String.UnicodeScalarView(characters[index..<end]))
            head = String(head.drop { $0 == " " || $0 == "\t" })
            if head.isEmpty || head.hasPrefix("#") {
                index = end + 1
                line += 1
                continue
            }
            if head.hasPrefix("export ") || head.hasPrefix("export\t") {
                head = String(head.dropFirst(7).drop { $0 == " " || $0 == "\t" })
            }
            // By scalar: `=` followed by a combining mark is one Character, and no `=` to `firstIndex`.
            guard let equals = head.unicodeScalars.firstIndex(of: "=") else {
                // Only the first word is said back: the rest may be a secret (`TOKEN abc123`).
                let word = head.prefix { $0 != " " && $0 != "\t" }.prefix(40)
                throw Problem(line: start, message: "the line beginning '\(word)' is not KEY=VALUE")
            }
            let key = String(head.unicodeScalars[..<equals]).trimmingCharacters(in: [" ", "\t"])
            guard isKey(key) else {
                throw Problem(
                    line: start,
                    message: "'\(key)' is not a variable name: letters, digits and '_', not starting with a digit")
            }
            // The value starts after the `=` on this line, and may run on for a double-quoted value.
            let valueStart = index + (characters[index..<end].firstIndex(of: "=")! - index) + 1
            var cursor = valueStart
            while cursor < end && (characters[cursor] == " " || characters[cursor] == "\t") { cursor += 1 }
            let value: String
            if cursor < characters.count && characters[cursor] == "\"" {
                (value, cursor) = try doubleQuoted(characters, from: cursor + 1, line: start)
                line += characters[valueStart..<min(cursor, characters.count)].filter { $0 == "\n" }.count
                try expectEnd(characters, from: cursor, line: line)
            } else if cursor < characters.count && characters[cursor] == "'" {
                guard let close = characters[(cursor + 1)..<end].firstIndex(of: "'") else {
                    throw Problem(line: start, message: "the value of \(key) has no closing single quote on its line")
                }
                value = String(String.UnicodeScalarView(characters[(cursor + 1)..<close]))
                cursor = close + 1
                try expectEnd(characters, from: cursor, line: line)
            } else {
                var raw = String(String.UnicodeScalarView(characters[cursor..<end]))
                if let comment = raw.range(of: " #") ?? raw.range(of: "\t#") { raw = String(raw[..<comment.lowerBound]) }
                value = raw.trimmingCharacters(in: [" ", "\t"])
            }
            entries.append(EnvironmentEntry(key: key, value: value))
            while cursor < characters.count && characters[cursor] != "\n" { cursor += 1 }
            index = cursor + 1
            line += 1
        }
        return entries
    }

    /// Whether `text` can be a variable's name here.
    public static func isKey(_ text: String) -> Bool {
        guard let first = text.unicodeScalars.first, first.isASCII, first == "_" || first.properties.isAlphabetic else {
            return false
        }
        return text.unicodeScalars.allSatisfy {
            $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || "_.-".unicodeScalars.contains($0))
        }
    }

    /// `value` written so that ``parse(_:)`` reads it back unchanged: bare when it is plain,
    /// in double quotes with escapes otherwise.
    public static func quoted(_ value: String) -> String {
        let plain = value.unicodeScalars.allSatisfy {
            $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || "_-./:@%+,".unicodeScalars.contains($0))
        }
        if plain { return value }
        var out = "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "$": out += "\\$"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    /// The text of a double-quoted value from `start` (after the quote) to its closing quote, and
    /// the index after that quote.
    private static func doubleQuoted(_ characters: [Unicode.Scalar], from start: Int, line: Int) throws(Problem) -> (
        String, Int
    ) {
        var out = String.UnicodeScalarView()
        var index = start
        while index < characters.count {
            let scalar = characters[index]
            if scalar == "\"" { return (String(out), index + 1) }
            if scalar == "\\" && index + 1 < characters.count {
                let next = characters[index + 1]
                switch next {
                case "n": out.append("\n")
                case "r": out.append("\r")
                case "t": out.append("\t")
                case "\"", "\\", "$": out.append(next)
                default:
                    out.append(scalar)
                    out.append(next)
                }
                index += 2
                continue
            }
            out.append(scalar)
            index += 1
        }
        throw Problem(line: line, message: "a double-quoted value has no closing quote")
    }

    /// Refuses text after a closing quote other than spaces and a comment.
    private static func expectEnd(_ characters: [Unicode.Scalar], from start: Int, line: Int) throws(Problem) {
        var index = start
        while index < characters.count && (characters[index] == " " || characters[index] == "\t") { index += 1 }
        guard index < characters.count, characters[index] != "\n" else { return }
        guard characters[index] == "#" else {
            throw Problem(line: line, message: "unexpected text after the closing quote; put a comment after ' #'")
        }
    }
}
