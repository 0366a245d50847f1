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

/// A regular expression over log text as a reader sees it: ANSI escape codes are stripped and
/// carriage-return redraws collapsed (`LogText.clean`) before matching, so that a coloured
/// `\e[31merror\e[0m: boom` is found by `error: boom`.
public struct LogPattern: @unchecked Sendable {
    // NSRegularExpression is immutable and documented as thread-safe.
    let expression: NSRegularExpression
    /// The pattern as given.
    public let source: String

    /// Bytes every matching line holds, found with `memmem` before the expression runs: most
    /// lines of a large log are ruled out without being decoded. Nil when the pattern has none.
    let requiredLiteral: [UInt8]?

    /// Compiles `source`; a usage error says what is wrong with it.
    public init(_ source: String, ignoreCase: Bool = false) throws(RunitError) {
        do {
            expression = try NSRegularExpression(pattern: source, options: ignoreCase ? [.caseInsensitive] : [])
        } catch {
            throw RunitError(.invalidInput, "'\(source)' is not a valid regular expression; check its brackets and escapes")
        }
        self.source = source
        self.requiredLiteral = ignoreCase ? nil : Self.requiredLiteral(of: source)
    }

    /// Whether a record's text matches, as ``matches(_:)-(String)`` says; a line without the
    /// required literal is ruled out on its bytes. A line with an escape sequence (colours may
    /// split the literal) always goes to the expression.
    public func matches(_ record: LogRecord) -> Bool {
        if let literal = requiredLiteral {
            let found = record.text.withUnsafeBytes { text in
                literal.withUnsafeBytes { needle in
                    guard let base = text.baseAddress else { return false }
                    return memchr(base, 0x1B, text.count) != nil
                        || crunit_contains(base, text.count, needle.baseAddress, needle.count) != 0
                }
            }
            if !found { return false }
        }
        return matches(record.textString)
    }

    /// The longest run of plain characters a match of `pattern` must contain, at least 3 bytes;
    /// nil when there is none or the pattern is one this simple reading cannot be sure of
    /// (an alternation, a flag group).
    static func requiredLiteral(of pattern: String) -> [UInt8]? {
        if pattern.contains("|") || pattern.contains("(?") { return nil }
        var best: [UInt8] = []
        var run: [UInt8] = []
        var depth = 0
        var inBracket = false
        let bytes = Array(pattern.utf8)
        var index = 0
        func endRun() {
            if run.count > best.count { best = run }
            run = []
        }
        while index < bytes.count {
            let byte = bytes[index]
            let next = index + 1 < bytes.count ? bytes[index + 1] : 0
            let optional = next == UInt8(ascii: "?") || next == UInt8(ascii: "*") || next == UInt8(ascii: "{")
            if inBracket {
                if byte == UInt8(ascii: "\\") { index += 1 } else if byte == UInt8(ascii: "]") { inBracket = false }
                index += 1
                continue
            }
            switch byte {
            case UInt8(ascii: "["):
                endRun()
                inBracket = true
            case UInt8(ascii: "("):
                endRun()
                depth += 1
            case UInt8(ascii: ")"):
                endRun()
                depth -= 1
            case UInt8(ascii: "\\"):
                // An escaped punctuation character is itself; a class (\d, \w …) ends the run.
                let literal = next != 0 && !(next >= 0x30 && next <= 0x39) && !((next | 0x20) >= 0x61 && (next | 0x20) <= 0x7A)
                let afterNext = index + 2 < bytes.count ? bytes[index + 2] : 0
                let escapedOptional =
                    afterNext == UInt8(ascii: "?") || afterNext == UInt8(ascii: "*") || afterNext == UInt8(ascii: "{")
                if literal && depth == 0 && !escapedOptional { run.append(next) } else { endRun() }
                index += 1
            case UInt8(ascii: "."), UInt8(ascii: "^"), UInt8(ascii: "$"), UInt8(ascii: "*"), UInt8(ascii: "+"),
                UInt8(ascii: "?"), UInt8(ascii: "{"), UInt8(ascii: "}"):
                endRun()
            default:
                if depth == 0 && !optional && byte < 0x80 { run.append(byte) } else { endRun() }
            }
            index += 1
        }
        endRun()
        return best.count >= 3 ? best : nil
    }

    /// Whether the cleaned `text` contains a match.
    public func matches(_ text: String) -> Bool {
        let text = LogText.clean(text)
        return expression.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil
    }

    /// The first match in the cleaned `text`, if any.
    public func firstMatch(_ text: String) -> String? {
        let text = LogText.clean(text)
        guard let match = expression.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)),
            let range = Range(match.range, in: text)
        else { return nil }
        return String(text[range])
    }
}
