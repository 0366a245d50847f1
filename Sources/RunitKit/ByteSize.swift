/// Sizes as people write them: `512`, `64K`, `10M`, `1G`, `10MiB`, `10mb`.
public enum ByteSize {
    /// Parses a size into bytes; nil when it is not one. Letters are read in either case; every
    /// `IB`, then every `B`, is dropped, so `10MiB`, `10MB` and `10M` are the same; what is left
    /// is a whole number above 0, with `K`, `M` or `G` (powers of 1024) after it or not.
    public static func parse(_ text: String) -> Int? {
        var bytes: [UInt8] = []
        var previous: UInt8 = 0
        for byte in text.uppercased().utf8 {
            if byte == UInt8(ascii: "B") {
                // `IB` goes whole; a `B` alone goes too.
                if previous == UInt8(ascii: "I") { bytes.removeLast() }
                previous = 0
                continue
            }
            bytes.append(byte)
            previous = byte
        }
        var factor = 1
        switch bytes.last {
        case UInt8(ascii: "K"): factor = 1 << 10
        case UInt8(ascii: "M"): factor = 1 << 20
        case UInt8(ascii: "G"): factor = 1 << 30
        default: break
        }
        if factor > 1 {
            bytes.removeLast()
        } else if bytes.count >= 3 && bytes.suffix(3).elementsEqual([0xE2, 0x84, 0xAA]) {
            // U+212A KELVIN SIGN, which Swift's `Character` takes for `K` (canonically equivalent).
            factor = 1 << 10
            bytes.removeLast(3)
        }
        guard let value = Int(String(decoding: bytes, as: UTF8.self)), value > 0 else { return nil }
        let (size, overflow) = value.multipliedReportingOverflow(by: factor)
        return overflow ? nil : size
    }
}
