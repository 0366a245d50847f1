import CRunitSystem
import Foundation
import RunitKit

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
    func admits(_ record: LogRecord) -> Bool {
        if let sinceMicros, record.micros < sinceMicros { return false }
        if let untilMicros, record.micros >= untilMicros { return false }
        if let stream, record.stream != stream, record.stream != .sys { return false }
        if ownOutput && record.stream == .sys { return false }
        return true
    }

    /// Whether a record is shown: it passes the time and stream filters and matches the pattern.
    func selects(_ record: LogRecord) -> Bool {
        admits(record) && (pattern.map { $0.matches(record) } ?? true)
    }

    /// Parses `--since`/`--until` text: a duration back from `now` (`10m`) or an RFC 3339 time,
    /// also with a lowercase `t`/`z` or a space between date and time, as RFC 3339 allows.
    /// `option` names the argument in the error, which lists every accepted form.
    public static func time(_ text: String, option: String? = nil, now: Date = Date(), zone: TimeZone = .current)
        throws(RunitError) -> Int64
    {
        if let millis = DurationText.milliseconds(text) {
            return Int64(now.timeIntervalSince1970 * 1_000_000) - millis * 1000
        }
        var normalized = text
        if text.range(of: #"^\d{4}-\d\d-\d\d[Tt ]"#, options: .regularExpression) != nil {
            normalized = text.uppercased()
            let separator = normalized.index(normalized.startIndex, offsetBy: 10)
            normalized.replaceSubrange(separator...separator, with: "T")
        }
        let formatter = ISO8601DateFormatter()
        for options: ISO8601DateFormatter.Options in [[.withInternetDateTime, .withFractionalSeconds], [.withInternetDateTime]] {
            formatter.formatOptions = options
            if let date = formatter.date(from: normalized) { return Int64(date.timeIntervalSince1970 * 1_000_000) }
        }
        if let local = localTime(text, now: now, zone: zone) { return local }
        throw RunitError(
            .invalidInput,
            (option.map { "\($0) " } ?? "") + "'\(text)' is not a time; give a duration back from now (Ns, Nm, Nh, Nd "
                + "or Nms: 30s, 10m, 2h, 1d, 500ms), a local time (05:57, 05:57:30, 2026-11-24 05:57, 2026-11-24) "
                + "or an RFC 3339 time (2026-11-24T21:40:00Z, 2026-11-24 21:40:00.5+01:00)")
    }

    /// A time without a zone, in `zone` (the local one, from `TZ`): `HH:MM[:SS]` today, or
    /// `YYYY-MM-DD[ HH:MM[:SS]]` (`T` for the space too). Microseconds since the epoch; nil when
    /// `text` is not one, or names a time that does not exist.
    static func localTime(_ text: String, now: Date, zone: TimeZone) -> Int64? {
        func digits(_ part: Substring, _ lengths: ClosedRange<Int>) -> Int? {
            guard lengths.contains(part.count), part.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
            return Int(part)
        }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        var parts = calendar.dateComponents([.year, .month, .day], from: now)
        var rest = Substring(text)
        let day = text.split(separator: "-", maxSplits: 2, omittingEmptySubsequences: false)
        if day.count == 3, let year = digits(day[0], 4...4), let month = digits(day[1], 2...2) {
            guard let date = digits(day[2].prefix(2), 2...2) else { return nil }
            (parts.year, parts.month, parts.day) = (year, month, date)
            rest = day[2].dropFirst(2)
            if rest.isEmpty {
                rest = "00:00"
            } else {
                guard let separator = rest.first, "Tt ".contains(separator) else { return nil }
                rest = rest.dropFirst()
            }
        }
        let clock = rest.split(separator: ":", omittingEmptySubsequences: false)
        guard (2...3).contains(clock.count), let hour = digits(clock[0], 1...2), let minute = digits(clock[1], 2...2),
            hour < 24, minute < 60
        else { return nil }
        let second = clock.count == 3 ? digits(clock[2], 2...2) : 0
        guard let second, second < 60 else { return nil }
        (parts.hour, parts.minute, parts.second) = (hour, minute, second)
        // A day that does not exist (02-30) is refused, not rolled over into the next month.
        guard let month = parts.month, (1...12).contains(month), let date = calendar.date(from: parts),
            calendar.component(.day, from: date) == parts.day
        else { return nil }
        return Int64(date.timeIntervalSince1970 * 1_000_000)
    }
}

/// A regular expression over log text as a reader sees it: a line with an escape sequence or a
/// carriage return is cleaned first (`LogText.clean`: colours stripped, redraws collapsed), so
/// that a coloured `\e[31merror\e[0m: boom` is found by `error: boom`; any other line is
/// matched on its bytes as they are.
///
/// Matched by `ByteRegex`, in time linear in the text whatever the pattern.
public struct LogPattern: Sendable {
    let regex: ByteRegex
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
    func matcher() -> LazyDFA { regex.matcher() }

    /// Whether a record's text matches.
    public func matches(_ record: LogRecord) -> Bool {
        shared.lock.lock()
        defer { shared.lock.unlock() }
        return Self.matches(record.text, with: shared.matcher)
    }

    /// Whether `text` (one record's text, no header) matches, with `matcher`.
    static func matches(_ text: [UInt8], with matcher: LazyDFA) -> Bool {
        text.withUnsafeBufferPointer { buffer in
            if needsCleaning(UnsafeRawBufferPointer(buffer)) {
                return matcher.matches(Array(LogText.clean(String(decoding: buffer, as: UTF8.self)).utf8))
            }
            return matcher.matches(buffer)
        }
    }

    /// Whether bytes hold an escape or a carriage return, which `LogText.clean` changes.
    static func needsCleaning(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard let base = bytes.baseAddress else { return false }
        return memchr(base, 0x1B, bytes.count) != nil || memchr(base, 0x0D, bytes.count) != nil
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
    let lock = NSLock()
    let matcher: LazyDFA

    init(_ matcher: LazyDFA) {
        self.matcher = matcher
    }
}
