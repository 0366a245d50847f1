#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A POSIX extended regular expression (`regcomp` with `REG_EXTENDED | REG_NOSUB`) matched against
/// log lines, for a readiness check on the process's output. No Foundation: the supervisor links
/// none.
///
/// A line is copied into a buffer allocated once, to end it with the NUL that `regexec` needs;
/// a line longer than `lineLimit` is matched on its first `lineLimit` bytes, and a NUL byte
/// inside a line ends the text matched. Backreferences are refused.
public struct LineMatcher: ~Copyable {
    /// The longest text matched: a line's first 4 KiB. A readiness line is short, and the bound
    /// keeps the time one line can take small whatever the pattern (glibc's matcher is not
    /// linear for every expression), so that the supervisor's loop never stalls on a match.
    public static let lineLimit = 4 * 1024

    private let regex: UnsafeMutablePointer<regex_t>
    private let buffer: UnsafeMutableBufferPointer<CChar>

    /// Compiles `pattern`; the error carries `regerror`'s text when it is not a valid expression.
    public init(pattern: String, ignoringCase: Bool = false) throws(ProbeError) {
        guard !pattern.isEmpty else { throw ProbeError(message: "the log pattern is empty") }
        guard !pattern.utf8.contains(0) else { throw ProbeError(message: "the log pattern contains a NUL byte") }
        if Self.hasBackreference(pattern) {
            throw ProbeError(
                message: "the log pattern '\(pattern)' has a backreference (\\1 to \\9), which is not supported: "
                    + "it can make matching take exponential time; write the text out instead")
        }
        let regex = UnsafeMutablePointer<regex_t>.allocate(capacity: 1)
        var (expression, caseless) = Self.posix(pattern)
        caseless = caseless || ignoringCase
        let flags = REG_EXTENDED | REG_NOSUB | (caseless ? REG_ICASE : 0)
        let code = regcomp(regex, expression, Int32(flags))
        guard code == 0 else {
            var text = [CChar](repeating: 0, count: 256)
            _ = regerror(code, regex, &text, text.count)
            regex.deallocate()
            let reason = String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            throw ProbeError(message: "the log pattern '\(pattern)' is not a valid regular expression: \(reason)")
        }
        self.regex = regex
        self.buffer = .allocate(capacity: Self.lineLimit + 1)
    }

    deinit {
        regfree(regex)
        regex.deallocate()
        buffer.deallocate()
    }

    /// Whether `pattern` has a backreference (`\1` to `\9` outside a bracket expression).
    static func hasBackreference(_ pattern: String) -> Bool {
        var escaped = false
        var inBracket = false
        for byte in pattern.utf8 {
            if escaped {
                escaped = false
                if !inBracket, (UInt8(ascii: "1")...UInt8(ascii: "9")).contains(byte) { return true }
            } else if byte == UInt8(ascii: "\\") {
                escaped = true
            } else if byte == UInt8(ascii: "[") {
                inBracket = true
            } else if byte == UInt8(ascii: "]") {
                inBracket = false
            }
        }
        return false
    }

    /// The pattern in POSIX extended syntax, and whether it asked to ignore case: the escapes
    /// people write in the client's regular expressions (`\d`, `\s`, `\w` and their negations)
    /// become bracket expressions, and a leading `(?i)` the case flag, so that one pattern means
    /// the same to `runit logs --grep`, MCP and the supervisor's readiness check.
    static func posix(_ pattern: String) -> (String, Bool) {
        var text = Substring(pattern)
        var caseless = false
        if text.hasPrefix("(?i)") {
            caseless = true
            text = text.dropFirst(4)
        }
        let classes: [Character: String] = [
            "d": "[0-9]", "D": "[^0-9]", "s": "[[:space:]]", "S": "[^[:space:]]", "w": "[[:alnum:]_]", "W": "[^[:alnum:]_]",
        ]
        var out = ""
        var escaped = false
        var inBracket = false
        for character in text {
            if escaped {
                escaped = false
                if !inBracket, let replacement = classes[character] {
                    out += replacement
                } else {
                    out += "\\" + String(character)
                }
                continue
            }
            switch character {
            case "\\": escaped = true
            case "[":
                inBracket = true
                out.append(character)
            case "]":
                inBracket = false
                out.append(character)
            default: out.append(character)
            }
        }
        if escaped { out += "\\" }
        return (out, caseless)
    }

    /// Whether the line's text (without its newline; no NUL needed) matches, as a person sees it:
    /// terminal escape sequences (colours) are left out, as the client's matching leaves them out.
    /// A line cut at `lineLimit`, or a piece of one (`lineEnds` false), does not end there: `$`
    /// does not match at its end.
    public func matches(_ bytes: UnsafeRawBufferPointer, lineEnds: Bool = true) -> Bool {
        let count = min(bytes.count, Self.lineLimit)
        var kept = 0
        var index = 0
        while index < count {
            let byte = bytes[index]
            if byte == 0x1B && index + 1 < count {
                index = Self.endOfEscape(bytes, from: index, limit: count)
                continue
            }
            buffer[kept] = CChar(bitPattern: byte)
            kept += 1
            index += 1
        }
        buffer[kept] = 0
        let flags = lineEnds && bytes.count <= Self.lineLimit ? 0 : REG_NOTEOL
        return regexec(regex, buffer.baseAddress!, 0, nil, Int32(flags)) == 0
    }

    /// The index after the escape sequence at `start`: CSI (`ESC [` … a final byte), OSC
    /// (`ESC ]` … BEL or `ESC \\`), or a two-byte escape.
    static func endOfEscape(_ bytes: UnsafeRawBufferPointer, from start: Int, limit: Int) -> Int {
        var index = start + 2
        switch bytes[start + 1] {
        case UInt8(ascii: "["):
            while index < limit && !(0x40...0x7E).contains(bytes[index]) { index += 1 }
            return min(limit, index + 1)
        case UInt8(ascii: "]"):
            while index < limit && bytes[index] != 0x07 && bytes[index] != 0x1B { index += 1 }
            if index < limit && bytes[index] == 0x1B { index += 1 }
            return min(limit, index + 1)
        default:
            return index
        }
    }
}
