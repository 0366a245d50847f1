import CRunitSystem
import RunitKit

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Which log records to show: a count from the end, a time window, a pattern, a stream.
public struct LogQuery: Sendable {
    /// How many matching records to return, counted from the end.
    public var lines: Int = 100
    /// Only records at or after this time (microseconds since the epoch).
    public var sinceMicros: Int64?
    /// Only records before this time (microseconds since the epoch).
    public var untilMicros: Int64?
    /// Only records whose text matches.
    public var pattern: LogPattern?
    /// Only records of this stream (runit's own lines are kept with either).
    public var stream: LogStream?
    /// Lines of context around each match, when a pattern is given.
    public var context: Int = 0
    /// Only the process's own output: no `sys` records (for matching, where runit's own words
    /// such as "started pid N" must never pass for the process's).
    public var ownOutput = false
    /// Asked while a long search runs; when it says true the search ends with what it found.
    public var isCancelled: (@Sendable () -> Bool)?

    /// A query for the last `lines` records.
    public init(lines: Int = 100) {
        self.lines = lines
    }

    /// Whether a record passes the time and stream filters (not the pattern).
    package func admits(_ record: LogRecord) -> Bool {
        if let sinceMicros, record.micros < sinceMicros { return false }
        if let untilMicros, record.micros >= untilMicros { return false }
        if let stream, record.stream != stream, record.stream != .sys { return false }
        if ownOutput && record.stream == .sys { return false }
        return true
    }

    /// Whether a record is shown: it passes the time and stream filters and matches the pattern.
    package func selects(_ record: LogRecord) -> Bool {
        admits(record) && (pattern.map { $0.matches(record) } ?? true)
    }
}

/// A regular expression over log text as a reader sees it: a line with an escape sequence or a
/// carriage return is cleaned first (`LogText.clean`: colours stripped, redraws collapsed), so
/// that a coloured `\e[31merror\e[0m: boom` is found by `error: boom`; any other line is
/// matched on its bytes as they are.
///
/// Matched by `ByteRegex`, in time linear in the text whatever the pattern.
public struct LogPattern: Sendable {
    package let regex: ByteRegex
    private let shared: SharedMatcher
    /// The pattern as given.
    public var source: String { regex.source }

    /// Compiles `source`; a usage error says what is wrong with it and what is allowed.
    public init(_ source: String, ignoreCase: Bool = false) throws(RunitError) {
        do {
            regex = try ByteRegex(source, ignoringCase: ignoreCase)
        } catch {
            // A pattern of a megabyte is not said back whole.
            let shown = source.count > 200 ? source.prefix(200) + "…" : source[...]
            throw RunitError(.invalidInput, "'\(shown)' is not a valid regular expression: \(error.message)")
        }
        shared = SharedMatcher(regex.matcher())
    }

    /// A matcher with a cache of its own, for one search on one thread.
    package func matcher() -> LazyDFA { regex.matcher() }

    /// Whether a record's text matches.
    public func matches(_ record: LogRecord) -> Bool {
        shared.lock.lock()
        defer { shared.lock.unlock() }
        return Self.matches(record.text, with: shared.matcher)
    }

    /// Whether `text` (one record's text, no header) matches, with `matcher`.
    package static func matches(_ text: [UInt8], with matcher: LazyDFA) -> Bool {
        text.withUnsafeBufferPointer { buffer in
            if needsCleaning(UnsafeRawBufferPointer(buffer)) {
                return matcher.matches(Array(LogText.clean(String(decoding: buffer, as: UTF8.self)).utf8))
            }
            return matcher.matches(buffer)
        }
    }

    /// Whether bytes hold an escape, a carriage return or a C1 control (the 8-bit CSI U+009B
    /// among them, in UTF-8 `C2 80`…`C2 9F`), which `LogText.clean` changes.
    package static func needsCleaning(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard let base = bytes.baseAddress else { return false }
        if memchr(base, 0x1B, bytes.count) != nil || memchr(base, 0x0D, bytes.count) != nil { return true }
        var offset = 0
        while offset < bytes.count, let hit = memchr(base + offset, 0xC2, bytes.count - offset) {
            let next = base.distance(to: hit) + 1
            if next < bytes.count && (0x80...0x9F).contains(bytes[next]) { return true }
            offset = next
        }
        return false
    }

    /// Whether the cleaned `text` contains a match.
    public func matches(_ text: String) -> Bool {
        let clean = Array(LogText.clean(text).utf8)
        shared.lock.lock()
        defer { shared.lock.unlock() }
        return shared.matcher.matches(clean)
    }
}

/// One matcher shared by the copies of a pattern, used under its lock.
private final class SharedMatcher: @unchecked Sendable {
    package let lock = Lock()
    package let matcher: LazyDFA

    package init(_ matcher: LazyDFA) {
        self.matcher = matcher
    }
}
