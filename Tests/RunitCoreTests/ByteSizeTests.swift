import Foundation
import PropertyBased
import Testing

@testable import RunitKit

@Suite("Sizes as people write them")
struct ByteSizeTests {
    /// The parser as it was with Foundation, kept as the reference the byte-wise one must agree with.
    static func reference(_ text: String) -> Int? {
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

    @Test("a number with any unit, in any case, parses to the number times the unit")
    func roundTrip() async {
        let units: [(String, Int)] = [
            ("", 1), ("b", 1), ("K", 1024), ("k", 1024), ("KB", 1024), ("KiB", 1024), ("kib", 1024), ("M", 1 << 20),
            ("MB", 1 << 20), ("MiB", 1 << 20), ("G", 1 << 30), ("gb", 1 << 30), ("GiB", 1 << 30),
        ]
        await propertyCheck(input: Gen.int(in: 1...8_000_000_000), Gen.element(of: units)) { value, unit in
            let (suffix, factor) = unit!
            let (bytes, overflow) = value.multipliedReportingOverflow(by: factor)
            #expect(ByteSize.parse("\(value)\(suffix)") == (overflow ? nil : bytes), "\(value)\(suffix)")
        }
    }

    @Test("any text of digits, units, signs and letters parses as the Foundation parser did")
    func agreesWithReference() async {
        let character = Gen.element(of: Array("0123456789KMGBIkmgbi+- x.ıſ\u{301}\u{212A}"))
        await propertyCheck(input: character.array(of: 0...8)) { characters in
            let text = String(characters.compactMap { $0 })
            #expect(ByteSize.parse(text) == Self.reference(text), "\(text.debugDescription)")
        }
    }

    @Test("sizes: examples and refusals")
    func examples() {
        #expect(ByteSize.parse("10M") == 10 << 20)
        #expect(ByteSize.parse("512") == 512)
        #expect(ByteSize.parse("64kib") == 64 << 10)
        for bad in ["", "0", "-1", "0K", "K", "1T", "1.5M", " 1M", "9223372036854775807K", "1e3"] {
            #expect(ByteSize.parse(bad) == nil, "\(bad)")
        }
    }
}
