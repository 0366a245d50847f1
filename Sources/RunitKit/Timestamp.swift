/// UTC timestamps in the log's fixed-width form, `2026-11-24T21:40:37.123456Z`, without Foundation.
public enum Timestamp {
    /// The length of a formatted timestamp.
    public static let width = 27

    /// Appends the timestamp for `micros` (microseconds since the epoch) to `out`.
    public static func append(micros: Int64, to out: inout [UInt8]) {
        let seconds = micros >= 0 ? micros / 1_000_000 : (micros - 999_999) / 1_000_000
        let fraction = micros - seconds * 1_000_000
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let secondOfDay = seconds - days * 86_400
        let (year, month, day) = civil(fromDays: days)
        appendDigits(year, 4, &out)
        out.append(UInt8(ascii: "-"))
        appendDigits(month, 2, &out)
        out.append(UInt8(ascii: "-"))
        appendDigits(day, 2, &out)
        out.append(UInt8(ascii: "T"))
        appendDigits(secondOfDay / 3600, 2, &out)
        out.append(UInt8(ascii: ":"))
        appendDigits(secondOfDay % 3600 / 60, 2, &out)
        out.append(UInt8(ascii: ":"))
        appendDigits(secondOfDay % 60, 2, &out)
        out.append(UInt8(ascii: "."))
        appendDigits(fraction, 6, &out)
        out.append(UInt8(ascii: "Z"))
    }

    /// The formatted timestamp for `micros` as a string.
    public static func string(micros: Int64) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(width)
        append(micros: micros, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Parses exactly the fixed-width form back into microseconds since the epoch.
    public static func parse(_ bytes: [UInt8]) -> Int64? {
        parse(bytes[...])
    }

    /// Parses exactly the fixed-width form back into microseconds since the epoch.
    public static func parse(_ slice: ArraySlice<UInt8>) -> Int64? {
        slice.withUnsafeBufferPointer { parse($0) }
    }

    /// Parses exactly the fixed-width form back into microseconds since the epoch (no copy: a
    /// log search parses the header of every line it shows).
    public static func parse(_ b: UnsafeBufferPointer<UInt8>) -> Int64? {
        guard b.count == width, b[4] == UInt8(ascii: "-"), b[7] == UInt8(ascii: "-"),
            b[10] == UInt8(ascii: "T"), b[13] == UInt8(ascii: ":"), b[16] == UInt8(ascii: ":"),
            b[19] == UInt8(ascii: "."), b[26] == UInt8(ascii: "Z"),
            let year = number(b, 0..<4), let month = number(b, 5..<7), let day = number(b, 8..<10),
            let hour = number(b, 11..<13), let minute = number(b, 14..<16),
            let second = number(b, 17..<19), let micro = number(b, 20..<26),
            (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 60
        else { return nil }
        let days = daysFromCivil(year: year, month: month, day: day)
        return ((days * 86_400 + hour * 3600 + minute * 60 + second) * 1_000_000) + micro
    }

    /// Days since 1970-01-01 for a proleptic Gregorian date (H. Hinnant's algorithm).
    public static func daysFromCivil(year: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// The date for a count of days since 1970-01-01.
    public static func civil(fromDays days: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (month <= 2 ? yoe + era * 400 + 1 : yoe + era * 400, month, day)
    }

    private static func number(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> Int64? {
        var value: Int64 = 0
        for index in range {
            let d = bytes[index]
            guard d >= 0x30, d <= 0x39 else { return nil }
            value = value * 10 + Int64(d - 0x30)
        }
        return value
    }

    private static func appendDigits(_ value: Int64, _ count: Int, _ out: inout [UInt8]) {
        var divisor: Int64 = 1
        for _ in 1..<count { divisor *= 10 }
        var rest = value
        while divisor > 0 {
            out.append(0x30 + UInt8(truncatingIfNeeded: (rest / divisor) % 10))
            rest %= divisor
            divisor /= 10
        }
    }
}
