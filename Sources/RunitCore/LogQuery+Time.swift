import Foundation
import RunitKit

extension LogQuery {
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
        // The fraction is read here, to the microsecond the records keep: the formatter's own
        // stops at the millisecond, and `--since` of a record's printed time would skip it.
        var fraction: Int64 = 0
        if let match = normalized.range(of: #"(?<=T\d\d:\d\d:\d\d)\.\d+"#, options: .regularExpression) {
            let digits = normalized[match].dropFirst()
            fraction = Int64(String(digits.prefix(6)).padding(toLength: 6, withPad: "0", startingAt: 0)) ?? 0
            normalized.removeSubrange(match)
        }
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        if let date = formatter.date(from: normalized) {
            return Int64(date.timeIntervalSince1970.rounded(.down)) * 1_000_000 + fraction
        }
        if let local = try localTime(text, now: now, zone: zone, option: option) { return local }
        throw RunitError(
            .invalidInput,
            (option.map { "\($0) " } ?? "") + "'\(text)' is not a time; give a duration back from now (Ns, Nm, Nh, Nd "
                + "or Nms: 30s, 10m, 2h, 1d, 500ms), a local time (05:57, 05:57:30.5, 2026-11-24 05:57, 2026-11-24) "
                + "or an RFC 3339 time (2026-11-24T21:40:00Z, 2026-11-24 21:40:00.5+01:00)")
    }

    /// A time without a zone, in `zone` (the local one, from `TZ`): `HH:MM[:SS[.F]]` today, or
    /// `YYYY-MM-DD[ HH:MM[:SS[.F]]]` (`T` for the space too). Microseconds since the epoch; nil when
    /// `text` is not one, or names a time that does not exist.
    static func localTime(_ text: String, now: Date, zone: TimeZone, option: String? = nil) throws(RunitError) -> Int64? {
        func digits(_ part: Substring, _ lengths: ClosedRange<Int>) -> Int? {
            guard lengths.contains(part.count), part.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
            return Int(part)
        }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        var parts = calendar.dateComponents([.year, .month, .day], from: now)
        var rest = Substring(text)
        var dateOnly = false
        let day = text.split(separator: "-", maxSplits: 2, omittingEmptySubsequences: false)
        if day.count == 3, let year = digits(day[0], 4...4), let month = digits(day[1], 2...2) {
            guard let date = digits(day[2].prefix(2), 2...2) else { return nil }
            (parts.year, parts.month, parts.day) = (year, month, date)
            rest = day[2].dropFirst(2)
            if rest.isEmpty {
                rest = "00:00"
                dateOnly = true
            } else {
                guard let separator = rest.first, "Tt ".contains(separator) else { return nil }
                rest = rest.dropFirst()
            }
        }
        let clock = rest.split(separator: ":", omittingEmptySubsequences: false)
        guard (2...3).contains(clock.count), let hour = digits(clock[0], 1...2), let minute = digits(clock[1], 2...2),
            hour < 24, minute < 60
        else { return nil }
        // Seconds may have a fraction (`05:57:30.25`), kept to the microsecond as records keep it.
        let secondText =
            clock.count == 3 ? clock[2].split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false) : ["00"]
        let second = digits(secondText[0], 2...2)
        var fraction = 0
        if secondText.count == 2 {
            let given = secondText[1]
            guard (1...9).contains(given.count), given.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
            fraction = Int(given.prefix(6).padding(toLength: 6, withPad: "0", startingAt: 0)) ?? 0
        }
        guard let second, second < 60 else { return nil }
        (parts.hour, parts.minute, parts.second) = (hour, minute, second)
        // A day that does not exist (02-30) is refused, not rolled over into the next month.
        guard let month = parts.month, (1...12).contains(month), let date = calendar.date(from: parts),
            calendar.component(.day, from: date) == parts.day
        else { return nil }
        // A time the clocks skipped (a change to summer time) was moved silently by the calendar.
        // A date alone means the start of that day, even where its midnight was skipped (01:00).
        guard dateOnly || (calendar.component(.hour, from: date) == hour && calendar.component(.minute, from: date) == minute)
        else {
            throw RunitError(
                .invalidInput,
                (option.map { "\($0) " } ?? "") + "'\(text)' does not exist in \(zone.identifier): the clocks skipped it "
                    + "(a change to summer time); give a time before or after the change, or an RFC 3339 time with its offset")
        }
        return Int64(date.timeIntervalSince1970) * 1_000_000 + Int64(fraction)
    }
}
