/// A parsed regular expression: what `RegexParser` makes of a pattern and `RegexProgram`
/// compiles to byte instructions. Characters are sets of Unicode scalars, so that a class, a
/// literal and a case-folded letter are one kind of node.
indirect enum RegexNode: Equatable {
    /// Matches the empty string.
    case empty
    /// One character from the set.
    case scalars(ScalarSet)
    /// Each in turn.
    case concat([RegexNode])
    /// Any one of them.
    case alternate([RegexNode])
    /// `node` at least `min` times, at most `max` (nil: no bound).
    case repetition(RegexNode, min: Int, max: Int?)
    /// A zero-width test of the position.
    case assertion(RegexAssertion)
}

/// The zero-width tests this engine knows; each can be decided by the byte before the position
/// and the byte after it, so they fit in a DFA.
enum RegexAssertion: UInt8, Equatable {
    /// `^`: the start of the line's text.
    case textStart
    /// `$`: the end of the line.
    case textEnd
    /// `\b`: a word character on one side only.
    case wordBoundary
    /// `\B`: word characters on both sides or neither.
    case notWordBoundary
}

/// A set of Unicode scalar values as sorted, disjoint, non-adjacent ranges.
struct ScalarSet: Equatable {
    private(set) var ranges: [ClosedRange<UInt32>] = []

    static let maxScalar: UInt32 = 0x10_FFFF

    init() {}

    init(_ ranges: [ClosedRange<UInt32>]) {
        self.ranges = ranges
        normalize()
    }

    init(scalar: UInt32) {
        ranges = [scalar...scalar]
    }

    /// Every scalar but the newline (what `.` matches).
    static var anyButNewline: ScalarSet { ScalarSet([0...0x09, 0x0B...maxScalar]) }

    /// ASCII digits, `\d`.
    static let digits = ScalarSet([0x30...0x39])
    /// ASCII white space, `\s`: space, tab, newline, vertical tab, form feed, carriage return.
    static let spaces = ScalarSet([0x09...0x0D, 0x20...0x20])
    /// ASCII word characters, `\w`.
    static let word = ScalarSet([0x30...0x39, 0x41...0x5A, 0x5F...0x5F, 0x61...0x7A])

    var isEmpty: Bool { ranges.isEmpty }

    /// The one scalar in the set, when it has exactly one.
    var single: UInt32? {
        ranges.count == 1 && ranges[0].lowerBound == ranges[0].upperBound ? ranges[0].lowerBound : nil
    }

    /// The set without the newline (a negated class, like `.`, never spans lines).
    func subtracting(newline: Void) -> ScalarSet {
        var result: [ClosedRange<UInt32>] = []
        for range in ranges {
            if range.contains(0x0A) {
                if range.lowerBound < 0x0A { result.append(range.lowerBound...0x09) }
                if range.upperBound > 0x0A { result.append(0x0B...range.upperBound) }
            } else {
                result.append(range)
            }
        }
        return ScalarSet(result)
    }

    mutating func insert(_ range: ClosedRange<UInt32>) {
        ranges.append(range)
        normalize()
    }

    mutating func formUnion(_ other: ScalarSet) {
        ranges += other.ranges
        normalize()
    }

    /// Every scalar not in the set.
    func inverted() -> ScalarSet {
        var result: [ClosedRange<UInt32>] = []
        var next: UInt32 = 0
        for range in ranges {
            if range.lowerBound > next { result.append(next...(range.lowerBound - 1)) }
            next = range.upperBound + 1
        }
        if next <= Self.maxScalar { result.append(next...Self.maxScalar) }
        return ScalarSet(result)
    }

    /// The set with each scalar's simple lower and upper case added (`(?i)`). A large range
    /// already holds both cases of what it covers in practice; only ASCII is folded there.
    func caseFolded() -> ScalarSet {
        var result = self
        for range in ranges {
            // (`clamped` of ranges that do not overlap is a one-element range, not an empty one.)
            if range.overlaps(0x41...0x7A) {
                let ascii = range.clamped(to: 0x41...0x7A)
                for value in ascii.lowerBound...ascii.upperBound { result.addOtherCase(of: value) }
            }
            guard range.upperBound >= 0x80, range.count <= 4096 else { continue }
            for value in max(range.lowerBound, 0x80)...range.upperBound { result.addOtherCase(of: value) }
        }
        return result
    }

    private mutating func addOtherCase(of value: UInt32) {
        guard let scalar = Unicode.Scalar(value) else { return }
        for mapping in [scalar.properties.lowercaseMapping, scalar.properties.uppercaseMapping] {
            let scalars = mapping.unicodeScalars
            if scalars.count == 1, let other = scalars.first, other.value != value {
                ranges.append(other.value...other.value)
            }
        }
        normalize()
    }

    private mutating func normalize() {
        // Surrogates are not scalars; no text holds them.
        var split: [ClosedRange<UInt32>] = []
        for range in ranges {
            if range.lowerBound < 0xD800 && range.upperBound > 0xDFFF {
                split.append(range.lowerBound...0xD7FF)
                split.append(0xE000...range.upperBound)
            } else if range.lowerBound >= 0xD800 && range.upperBound <= 0xDFFF {
                continue
            } else if range.lowerBound >= 0xD800 && range.lowerBound <= 0xDFFF {
                split.append(0xE000...range.upperBound)
            } else if range.upperBound >= 0xD800 && range.upperBound <= 0xDFFF {
                split.append(range.lowerBound...0xD7FF)
            } else {
                split.append(range)
            }
        }
        split.sort { $0.lowerBound < $1.lowerBound }
        var merged: [ClosedRange<UInt32>] = []
        for range in split {
            if let last = merged.last, range.lowerBound <= last.upperBound &+ 1 {
                merged[merged.count - 1] = last.lowerBound...max(last.upperBound, range.upperBound)
            } else {
                merged.append(range)
            }
        }
        ranges = merged
    }
}

/// What is wrong with a pattern, said so that its writer can mend it.
public struct RegexError: Error, Equatable, CustomStringConvertible {
    /// The reason, naming the place in the pattern and what is allowed there.
    public let message: String

    public var description: String { message }
}
