import Foundation
import PropertyBased
import Testing

@testable import RunitCore
@testable import RunitState

@Suite("--since and --until in local time")
struct LocalTimeTests {
    static let zones = ["UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata", "Pacific/Chatham"]

    @Test("a local date and time means that instant in the zone, whatever the zone")
    func roundTrip() async {
        await propertyCheck(input: Gen.int(in: 1_600_000_000...1_900_000_000), Gen.int(in: 0...4)) { seconds, zoneIndex in
            let zone = TimeZone(identifier: Self.zones[zoneIndex])!
            let formatter = DateFormatter()
            formatter.locale = Locale(identifier: "en_US_POSIX")
            formatter.timeZone = zone
            formatter.dateFormat = "yyyy-MM-dd HH:mm:ss"
            let text = formatter.string(from: Date(timeIntervalSince1970: TimeInterval(seconds)))
            let parsed = try? LogQuery.localTime(text, now: Date(), zone: zone)
            // An hour that a clock change repeats may be read as either of its instants.
            #expect(parsed.map { abs($0 / 1_000_000 - Int64(seconds)) % 3600 } == 0, "\(text) in \(zone.identifier)")
            let withT = text.replacingOccurrences(of: " ", with: "T")
            #expect((try? LogQuery.localTime(withT, now: Date(), zone: zone)) == parsed)
        }
    }

    @Test("a time alone is today; a date alone is its midnight")
    func todayAndMidnight() throws {
        let zone = TimeZone(identifier: "Europe/Berlin")!
        let now = Date(timeIntervalSince1970: 1_796_000_000)  // 2026-11-29 in Berlin
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        var parts = calendar.dateComponents([.year, .month, .day], from: now)
        (parts.hour, parts.minute) = (5, 57)
        let expected = Int64(calendar.date(from: parts)!.timeIntervalSince1970 * 1_000_000)
        #expect(try LogQuery.localTime("05:57", now: now, zone: zone) == expected)
        #expect(try LogQuery.localTime("5:57", now: now, zone: zone) == expected)
        #expect(try LogQuery.localTime("05:57:30", now: now, zone: zone) == expected + 30_000_000)
        // A fraction of a second is kept to the microsecond, as records keep it.
        #expect(try LogQuery.localTime("05:57:30.5", now: now, zone: zone) == expected + 30_500_000)
        #expect(try LogQuery.localTime("05:57:30.123456789", now: now, zone: zone) == expected + 30_123_456)
        (parts.hour, parts.minute) = (0, 0)
        let midnight = Int64(calendar.date(from: parts)!.timeIntervalSince1970 * 1_000_000)
        let day = String(format: "%04d-%02d-%02d", parts.year!, parts.month!, parts.day!)
        #expect(try LogQuery.localTime(day, now: now, zone: zone) == midnight)
        #expect(try LogQuery.time("05:57", now: now, zone: zone) == expected)
    }

    @Test(
        "anything else is refused, with the forms there are",
        arguments: [
            "25:00", "05:60", "05:5", "05:57:61", "2026-02-30", "2026-13-01", "2026-1-01", "+5:00", "05:57pm", "2026-11-24x05:57",
            "2026-11-24 ", "::", "1:2:3:4", "05:57:30.", "05:57:30.x", "05:57:30.1234567890", "05:57.5", "05:57:30.-1",
        ])
    func refused(_ text: String) throws {
        #expect(try LogQuery.localTime(text, now: Date(), zone: .current) == nil)
        #expect(throws: RunitError.self) { try LogQuery.time(text) }
        do { _ = try LogQuery.time(text) } catch { #expect(error.message.contains("a local time (05:57")) }
    }

    @Test("a local time the clocks skipped is refused, saying so; one they repeated is taken")
    func clockChanges() throws {
        let berlin = TimeZone(identifier: "Europe/Berlin")!
        let now = Date(timeIntervalSince1970: 1_796_000_000)
        do {
            _ = try LogQuery.time("2026-03-29 02:30", option: "--since", now: now, zone: berlin)
            Issue.record("a time in the gap was taken")
        } catch {
            #expect(error.message.contains("--since '2026-03-29 02:30' does not exist in Europe/Berlin"), "\(error.message)")
        }
        #expect(try LogQuery.time("2026-03-29 03:30", now: now, zone: berlin) == 1_774_747_800 * 1_000_000)
        #expect(try LogQuery.time("2026-10-25 02:30", now: now, zone: berlin) > 0)
        // A date alone is the start of its day, also where midnight was skipped (01:00 then).
        let santiago = TimeZone(identifier: "America/Santiago")!
        #expect(try LogQuery.time("2026-09-06", now: now, zone: santiago) == 1_788_667_200 * 1_000_000)
    }
}
