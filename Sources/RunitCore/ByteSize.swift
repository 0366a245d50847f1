import Foundation

/// Sizes as people write them: `512`, `64K`, `10M`, `1G`.
public enum ByteSize {
    /// Parses a size into bytes; nil when it is not one.
    public static func parse(_ text: String) -> Int? {
        let upper = text.uppercased().replacingOccurrences(of: "IB", with: "").replacingOccurrences(of: "B", with: "")
        let factors: [Character: Int] = ["K": 1024, "M": 1024 * 1024, "G": 1024 * 1024 * 1024]
        var digits = upper
        var factor = 1
        if let last = upper.last, let unit = factors[last] {
            digits = String(upper.dropLast())
            factor = unit
        }
        guard let value = Int(digits), value > 0 else { return nil }
        let (bytes, overflow) = value.multipliedReportingOverflow(by: factor)
        return overflow ? nil : bytes
    }
}
