/// Durations as people write them: `500ms`, `10s`, `10m`, `2h`, `1d`, or a bare number of seconds.
public enum DurationText {
    /// What is accepted, as said to a user whose text was refused.
    public static let rule =
        "a duration is a number with a unit: ms, s, m, h or d (for example 500ms, 10s, 10m, 2h); a bare number means seconds"

    /// Parses `text` into milliseconds; nil when it is not a duration.
    public static func milliseconds(_ text: String) -> Int64? {
        let units: [(String, Double)] = [("ms", 1), ("s", 1000), ("m", 60_000), ("h", 3_600_000), ("d", 86_400_000)]
        var number = Substring(text)
        var scale = 1000.0
        for (suffix, factor) in units where text.hasSuffix(suffix) {
            number = text.dropLast(suffix.count)
            scale = factor
            break
        }
        guard !number.isEmpty, number.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") }),
            let value = Double(number), value.isFinite, value >= 0
        else { return nil }
        let result = value * scale
        guard result < 9.0e15 else { return nil }
        return Int64(result.rounded())
    }

    /// The shortest exact text for `milliseconds` (`1500ms`, `90s`, `2h`).
    public static func format(milliseconds: Int64) -> String {
        if milliseconds % 86_400_000 == 0, milliseconds > 0 { return "\(milliseconds / 86_400_000)d" }
        if milliseconds % 3_600_000 == 0, milliseconds > 0 { return "\(milliseconds / 3_600_000)h" }
        if milliseconds % 60_000 == 0, milliseconds > 0 { return "\(milliseconds / 60_000)m" }
        if milliseconds % 1000 == 0 { return "\(milliseconds / 1000)s" }
        return "\(milliseconds)ms"
    }
}
