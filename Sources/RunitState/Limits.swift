import RunitKit

/// The ranges every numeric setting must fall in, whoever gives it (the CLI or MCP): a value
/// outside them is refused with the range, never taken (a `--log-keep` of a billion made the
/// supervisor spin at its first rotation).
public enum Limits {
    /// The size at which a log rotates: 4 KiB to 1 TiB.
    public static let logMaxSize = 4096...(1 << 40)
    /// How many rotated files are kept: 0 to 1000.
    public static let logKeep = 0...1000
    /// A stop's grace period before SIGKILL: up to an hour.
    public static let graceMillis: ClosedRange<Int64> = 0...3_600_000
    /// A TCP port.
    public static let port = 1...65535
    /// How long a start watches for an early exit: up to a minute.
    public static let settleMillis: ClosedRange<Int64> = 0...60_000
    /// How long a command waits for processes to come up: up to a day.
    public static let waitMillis: ClosedRange<Int64> = 0...86_400_000

    /// Throws an invalid-input error unless `value` is in `range`; `what` names the setting.
    package static func check<T: Comparable & CustomStringConvertible>(_ value: T, in range: ClosedRange<T>, _ what: String)
        throws(RunitError)
    {
        guard !range.contains(value) else { return }
        throw RunitError(.invalidInput, "\(what) \(value) is out of range; give \(range.lowerBound) to \(range.upperBound)")
    }

    /// Throws unless a duration in milliseconds is in `range`, saying the range as durations.
    public static func check(milliseconds value: Int64, in range: ClosedRange<Int64>, _ what: String) throws(RunitError) {
        guard !range.contains(value) else { return }
        throw RunitError(
            .invalidInput,
            "\(what) \(DurationText.format(milliseconds: value)) is out of range; give "
                + "\(DurationText.format(milliseconds: range.lowerBound)) to \(DurationText.format(milliseconds: range.upperBound))"
        )
    }
}
