#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A regular expression (`ByteRegex`, the syntax of `runit logs --grep`) matched against log
/// lines as they are written, for a readiness check on the process's output. No Foundation: the
/// supervisor links none.
///
/// Escape sequences are left out of a line before it is matched, into a buffer allocated once;
/// a line longer than `lineLimit` is matched on its first `lineLimit` bytes.
public struct LineMatcher: ~Copyable {
    /// The longest text matched: a line's first 4 KiB. A readiness line is short; the match is
    /// linear in the line whatever the pattern, and the bound keeps it small.
    public static let lineLimit = 4 * 1024

    private let matcher: LazyDFA
    private let buffer: UnsafeMutableBufferPointer<UInt8>

    /// Compiles `pattern`; the error says what is wrong with it.
    public init(pattern: String, ignoringCase: Bool = false) throws(ProbeError) {
        guard !pattern.isEmpty else { throw ProbeError(message: "the log pattern is empty") }
        guard !pattern.utf8.contains(0) else { throw ProbeError(message: "the log pattern contains a NUL byte") }
        do {
            // A few states are enough for a readiness line; the cache stays small in every supervisor.
            matcher = try ByteRegex(pattern, ignoringCase: ignoringCase).matcher(maxStates: 64)
        } catch {
            throw ProbeError(message: "the log pattern '\(pattern)' is not a valid regular expression: \(error.message)")
        }
        self.buffer = .allocate(capacity: Self.lineLimit)
    }

    deinit {
        buffer.deallocate()
    }

    /// Whether the line's text (without its newline) matches, as a person sees it: terminal
    /// escape sequences (colours) are left out, as the client's matching leaves them out. A line
    /// cut at `lineLimit`, or a piece of one (`lineEnds` false), does not end there: `$` does
    /// not match at its end.
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
            buffer[kept] = byte
            kept += 1
            index += 1
        }
        return matcher.matches(UnsafeBufferPointer(rebasing: buffer[0..<kept]), ends: lineEnds && bytes.count <= Self.lineLimit)
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
