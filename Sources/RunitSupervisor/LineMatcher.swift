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
/// a line longer than `lineLimit` (the log's own longest record piece) is matched on its first
/// `lineLimit` bytes, and a NUL byte inside a line ends the text matched.
struct LineMatcher: ~Copyable {
    /// The longest text matched, as the log writer splits longer lines into pieces this long.
    static let lineLimit = 64 * 1024

    private let regex: UnsafeMutablePointer<regex_t>
    private let buffer: UnsafeMutableBufferPointer<CChar>

    /// Compiles `pattern`; the error carries `regerror`'s text when it is not a valid expression.
    init(pattern: String, ignoringCase: Bool = false) throws(ProbeError) {
        guard !pattern.isEmpty else { throw ProbeError(message: "the log pattern is empty") }
        guard !pattern.utf8.contains(0) else { throw ProbeError(message: "the log pattern contains a NUL byte") }
        let regex = UnsafeMutablePointer<regex_t>.allocate(capacity: 1)
        let flags = REG_EXTENDED | REG_NOSUB | (ignoringCase ? REG_ICASE : 0)
        let code = regcomp(regex, pattern, Int32(flags))
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

    /// Whether the line's text (without its newline; no NUL needed) matches.
    func matches(_ bytes: UnsafeRawBufferPointer) -> Bool {
        let count = min(bytes.count, Self.lineLimit)
        if count > 0 { UnsafeMutableRawPointer(buffer.baseAddress!).copyMemory(from: bytes.baseAddress!, byteCount: count) }
        buffer[count] = 0
        return regexec(regex, buffer.baseAddress!, 0, nil, 0) == 0
    }
}
