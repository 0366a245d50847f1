import Foundation
import RunitKit

/// Times as people read them: local (the zone `TZ` names), to the millisecond, with the zone's
/// offset; or with `--utc`, RFC 3339 in UTC as the JSON forms always are.
enum LocalTime {
    /// Made once: a formatter costs far more to make than to use, and `logs -t` formats every
    /// line. Used from the command's own thread only.
    nonisolated(unsafe) private static let formatter: DateFormatter = {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = .current
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss.SSS xxx"
        return formatter
    }()

    /// `2026-12-03 07:30:12.123 +01:00`, or `2026-12-03T06:30:12.123000Z` in UTC.
    static func text(micros: Int64, utc: Bool) -> String {
        if utc { return Timestamp.string(micros: micros) }
        return formatter.string(from: Date(timeIntervalSince1970: TimeInterval(micros) / 1_000_000))
    }

    /// An RFC 3339 time from a report, shown as ``text(micros:utc:)`` does; as given when it does not parse.
    static func text(rfc3339: String, utc: Bool) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        guard let date = formatter.date(from: rfc3339) else { return rfc3339 }
        return text(micros: Int64(date.timeIntervalSince1970 * 1_000_000), utc: utc)
    }
}
