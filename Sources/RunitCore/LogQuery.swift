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
        admits(record) && (pattern.map { $0.matches(record.textString) } ?? true)
    }

    /// Parses `--since`/`--until` text: a duration back from `now` (`10m`) or an RFC 3339 time,
    /// also with a lowercase `t`/`z` or a space between date and time, as RFC 3339 allows.
    /// `option` names the argument in the error, which lists every accepted form.
    public static func time(_ text: String, option: String? = nil, now: Date = Date()) throws(RunitError) -> Int64 {
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
        throw RunitError(
            .invalidInput,
            (option.map { "\($0) " } ?? "") + "'\(text)' is not a time; give a duration back from now (Ns, Nm, Nh, Nd "
                + "or Nms: 30s, 10m, 2h, 1d, 500ms) or an RFC 3339 time (2026-11-24T21:40:00Z, 2026-11-24 21:40:00.5+01:00)")
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

    /// Compiles `source`; a usage error says what is wrong with it.
    public init(_ source: String, ignoreCase: Bool = false) throws(RunitError) {
        do {
            expression = try NSRegularExpression(pattern: source, options: ignoreCase ? [.caseInsensitive] : [])
        } catch {
            throw RunitError(.invalidInput, "'\(source)' is not a valid regular expression; check its brackets and escapes")
        }
        self.source = source
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
