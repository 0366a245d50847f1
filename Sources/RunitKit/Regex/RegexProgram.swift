/// A regular expression compiled to a Thompson automaton over bytes: characters become their
/// UTF-8 sequences, so a lazy DFA can run over a log's bytes without decoding them.
///
/// It has two ways in: `lineStart` matches anywhere in one line's text; `recordStart` first
/// steps over a log record's header (two fields, each ended by a space) and then does the same
/// in the record's text, so a whole block of records can be searched in one pass with `^`
/// meaning the start of each record's text.
struct RegexProgram: Sendable {
    enum Op: UInt8 {
        /// A byte in `low...high`, then `out`.
        case byteRange
        /// Both `out` and `alternative`.
        case split
        /// The pattern has matched.
        case match
        /// The zero-width test `RegexAssertion(rawValue: low)`, then `out`.
        case assertion
        /// The start of the text (`^` holds here), then `out`.
        case textStart
        /// No byte in `low...high` comes next (or the text ends), then `out`: where a sequence
        /// that is not UTF-8 ends, as a decoder cuts it.
        case notFollowedBy
        /// The byte picks the next instruction: `dispatches[out]` holds disjoint byte ranges,
        /// each with its own next; a byte in none of them ends the thread. One instruction (and
        /// one thread of a DFA state) for what was a chain of splits and ranges: `.` is one.
        case dispatch

        /// Decided by the byte that comes next: a state that holds one is closed again per byte.
        var isTest: Bool { self == .assertion || self == .notFollowedBy }
    }

    private(set) var ops: [Op] = []
    private(set) var low: [UInt8] = []
    private(set) var high: [UInt8] = []
    private(set) var out: [Int32] = []
    private(set) var alternative: [Int32] = []
    private(set) var dispatches: [[Branch]] = []

    /// A byte range of a `dispatch` and where a byte in it goes.
    struct Branch: Sendable {
        var low: UInt8
        var high: UInt8
        var next: Int32
    }

    /// The fewest bytes of text a match takes: a shorter line cannot match.
    private(set) var minimumBytes = 0
    private(set) var matchPC: Int32 = 0
    private(set) var lineStart: Int32 = 0
    private(set) var recordStart: Int32 = 0

    /// The most instructions a pattern may compile to (a counted repetition copies its body).
    static let maxInstructions = 200_000

    var count: Int { ops.count }

    init(_ node: RegexNode) throws(RegexError) {
        minimumBytes = Self.minimumBytes(node)
        matchPC = emit(.match)
        let body = try compile(node, next: matchPC)
        // Anywhere in the text: any characters may come before the match, each read whole as a
        // decoder reads it, so that a match begins where a character does, never inside one.
        let loop = emit(.split, out: body)
        let ascii = emit(.byteRange, low: 0, high: 0x7F, out: loop)
        alternative[Int(loop)] = either([ascii, nonASCII(valid: true, next: loop)])
        lineStart = emit(.textStart, out: loop)
        // A record's header: a field, a space, a field, a space.
        let second = emit(.split)
        out[Int(second)] = try byteSet([0...0x1F, 0x21...0xFF], next: second)
        alternative[Int(second)] = emit(.byteRange, low: 0x20, high: 0x20, out: lineStart)
        let first = emit(.split)
        out[Int(first)] = try byteSet([0...0x1F, 0x21...0xFF], next: first)
        alternative[Int(first)] = emit(.byteRange, low: 0x20, high: 0x20, out: second)
        recordStart = first
    }

    /// The fewest bytes a match of `node` takes (a character is at least one), at most 2^32.
    static func minimumBytes(_ node: RegexNode) -> Int {
        let most = 1 << 32
        switch node {
        case .empty, .assertion: return 0
        case .scalars: return 1
        case .concat(let items): return min(most, items.reduce(0) { $0 + minimumBytes($1) })
        case .alternate(let branches): return branches.map(minimumBytes).min() ?? 0
        case .repetition(let inner, let count, _): return min(most, count * minimumBytes(inner))
        }
    }

    @discardableResult
    private mutating func emit(_ op: Op, low: UInt8 = 0, high: UInt8 = 0, out: Int32 = -1, alternative: Int32 = -1) -> Int32 {
        ops.append(op)
        self.low.append(low)
        self.high.append(high)
        self.out.append(out)
        self.alternative.append(alternative)
        return Int32(ops.count - 1)
    }

    private mutating func checkSize() throws(RegexError) {
        if ops.count > Self.maxInstructions {
            throw RegexError(
                message: "the pattern is too large once its repetitions are written out (over \(Self.maxInstructions) "
                    + "steps); use smaller counts in {n,m}")
        }
    }

    /// The entry of `node`, continuing at `next`; built from the end backward.
    private mutating func compile(_ node: RegexNode, next: Int32) throws(RegexError) -> Int32 {
        try checkSize()
        switch node {
        case .empty:
            return next
        case .assertion(let kind):
            return emit(.assertion, low: kind.rawValue, out: next)
        case .scalars(let set):
            return try scalars(set, next: next)
        case .concat(let items):
            var entry = next
            for item in items.reversed() { entry = try compile(item, next: entry) }
            return entry
        case .alternate(let branches):
            var entries: [Int32] = []
            for branch in branches { entries.append(try compile(branch, next: next)) }
            return either(entries)
        case .repetition(let inner, let min, let max):
            var entry = next
            if let max {
                for _ in 0..<(max - min) {
                    let body = try compile(inner, next: entry)
                    entry = emit(.split, out: body, alternative: next)
                }
            } else {
                let loop = emit(.split, alternative: next)
                out[Int(loop)] = try compile(inner, next: loop)
                entry = loop
            }
            for _ in 0..<min { entry = try compile(inner, next: entry) }
            return entry
        }
    }

    /// A split chain that goes to every one of `entries`.
    private mutating func either(_ entries: [Int32]) -> Int32 {
        guard var entry = entries.last else { return matchPC }
        if entries.count > 1, let merged = dispatch(entries) { return merged }
        for other in entries.dropLast().reversed() { entry = emit(.split, out: other, alternative: entry) }
        return entry
    }

    /// One `dispatch` for `entries` when each reads a byte range (or is a dispatch) and no byte
    /// is in two of them; nil otherwise. The entries' own instructions are left unused.
    private mutating func dispatch(_ entries: [Int32]) -> Int32? {
        var branches: [Branch] = []
        for entry in entries {
            let pc = Int(entry)
            switch ops[pc] {
            case .byteRange where low[pc] <= high[pc]: branches.append(Branch(low: low[pc], high: high[pc], next: out[pc]))
            case .byteRange: continue  // Matches no byte.
            case .dispatch: branches += dispatches[Int(out[pc])]
            default: return nil
            }
        }
        branches.sort { $0.low < $1.low }
        for (first, second) in zip(branches, branches.dropFirst()) where first.high >= second.low { return nil }
        dispatches.append(branches)
        return emit(.dispatch, out: Int32(dispatches.count - 1))
    }

    private mutating func byteSet(_ ranges: [ClosedRange<UInt8>], next: Int32) throws(RegexError) -> Int32 {
        either(ranges.map { emit(.byteRange, low: $0.lowerBound, high: $0.upperBound, out: next) })
    }

    /// One character of `set` as the alternation of its UTF-8 byte sequences. A set that holds
    /// U+FFFD (`.`, a negated class) also takes a sequence that is not UTF-8, as a decoder reads
    /// it as U+FFFD; so `.` takes one character whatever the bytes, and `..` is no match for `日`.
    private mutating func scalars(_ set: ScalarSet, next: Int32) throws(RegexError) -> Int32 {
        let holdsAllNonASCII = ScalarSet([0x80...ScalarSet.maxScalar]).ranges.allSatisfy { range in
            set.ranges.contains { $0.contains(range.lowerBound) && $0.contains(range.upperBound) }
        }
        let readsInvalid = set.ranges.contains { $0.contains(0xFFFD) }
        // Bytes written in the pattern (a few stand-ins), not a negated class that holds them all.
        let standIns = set.ranges.reduce(0) { held, range in
            held + max(0, Int(range.upperBound) - Int(max(range.lowerBound, ByteText.firstEscape)) + 1)
        }
        let writtenBytes = !readsInvalid && standIns <= 64
        var entries: [Int32] = []
        for whole in set.ranges {
            var range = whole
            if holdsAllNonASCII {
                // The non-ASCII part is every token a decoder reads, below.
                guard range.lowerBound < 0x80 else { continue }
                range = range.lowerBound...min(range.upperBound, 0x7F)
            } else if range.upperBound >= ByteText.firstEscape {
                // The stand-ins of bytes that are not UTF-8 (``ByteText``: a pattern given on a command
                // line), written in a pattern, match those bytes, as the log holds them. Not in a negated
                // class: there such a byte is read as a decoder reads it, U+FFFD.
                if writtenBytes {
                    let low = max(range.lowerBound, ByteText.firstEscape)
                    entries.append(
                        emit(
                            .byteRange, low: UInt8(truncatingIfNeeded: low),
                            high: UInt8(truncatingIfNeeded: range.upperBound), out: next))
                }
                guard range.lowerBound < ByteText.firstEscape else { continue }
                range = range.lowerBound...(ByteText.firstEscape - 1)
            }
            for sequence in UTF8Ranges.sequences(range.lowerBound, range.upperBound) {
                var entry = next
                for byteRange in sequence.reversed() {
                    entry = emit(.byteRange, low: byteRange.lowerBound, high: byteRange.upperBound, out: entry)
                }
                entries.append(entry)
            }
        }
        if holdsAllNonASCII || readsInvalid { entries.append(nonASCII(valid: holdsAllNonASCII, next: next)) }
        try checkSize()
        return entries.isEmpty ? emit(.byteRange, low: 1, high: 0, out: next) : either(entries)
    }

    /// The tokens a UTF-8 decoder reads from bytes that are not ASCII, then `next`: with `valid`,
    /// every encoded character; and always each sequence that is not UTF-8, cut where a decoder
    /// cuts it (the substitution of maximal subparts): a byte that cannot begin a character, or
    /// a lead byte with the continuation bytes that may follow it, up to the first byte that may
    /// not. Each of those reads as one U+FFFD.
    private mutating func nonASCII(valid: Bool, next: Int32) -> Int32 {
        let any: ClosedRange<UInt8> = 0x80...0xBF
        let one = continuation(any, then: valid ? next : nil, next: next)
        let two = continuation(any, then: one, next: next)
        let three = continuation(any, then: two, next: next)
        let leads: [(ClosedRange<UInt8>, Int32)] = [
            (0x80...0xC1, next), (0xC2...0xDF, one), (0xE0...0xE0, continuation(0xA0...0xBF, then: one, next: next)),
            (0xE1...0xEC, two), (0xED...0xED, continuation(0x80...0x9F, then: one, next: next)), (0xEE...0xEF, two),
            (0xF0...0xF0, continuation(0x90...0xBF, then: two, next: next)), (0xF1...0xF3, three),
            (0xF4...0xF4, continuation(0x80...0x8F, then: two, next: next)), (0xF5...0xFF, next),
        ]
        return either(leads.map { emit(.byteRange, low: $0.0.lowerBound, high: $0.0.upperBound, out: $0.1) })
    }

    /// A sequence that needs a continuation byte in `range`: that byte, on to `then` (nil: no
    /// way on), or, when the next byte is not one, the sequence so far is one token, on to `next`.
    private mutating func continuation(_ range: ClosedRange<UInt8>, then: Int32?, next: Int32) -> Int32 {
        let stop = emit(.notFollowedBy, low: range.lowerBound, high: range.upperBound, out: next)
        guard let then else { return stop }
        let more = emit(.byteRange, low: range.lowerBound, high: range.upperBound, out: then)
        return emit(.split, out: more, alternative: stop)
    }
}

/// Unicode scalar ranges as UTF-8 byte-range sequences: each sequence matches, byte by byte,
/// exactly the encodings of a part of the range.
enum UTF8Ranges {
    static func sequences(_ low: UInt32, _ high: UInt32) -> [[ClosedRange<UInt8>]] {
        var result: [[ClosedRange<UInt8>]] = []
        var stack: [(UInt32, UInt32)] = [(low, high)]
        outer: while let (start, end) = stack.popLast() {
            // One encoded length at a time.
            for limit: UInt32 in [0x7F, 0x7FF, 0xFFFF] where start <= limit && end > limit {
                stack.append((limit + 1, end))
                stack.append((start, limit))
                continue outer
            }
            if end <= 0x7F {
                result.append([UInt8(start)...UInt8(end)])
                continue
            }
            let length = encode(start).count
            for position in 1..<length {
                let mask: UInt32 = (1 << (6 * UInt32(position))) - 1
                if start & ~mask != end & ~mask {
                    if start & mask != 0 {
                        stack.append(((start | mask) + 1, end))
                        stack.append((start, start | mask))
                        continue outer
                    }
                    if end & mask != mask {
                        stack.append((end & ~mask, end))
                        stack.append((start, (end & ~mask) - 1))
                        continue outer
                    }
                }
            }
            let from = encode(start)
            let to = encode(end)
            result.append(zip(from, to).map { $0...$1 })
        }
        return result
    }

    /// The UTF-8 encoding of `value` (surrogates included: callers have taken them out).
    static func encode(_ value: UInt32) -> [UInt8] {
        switch value {
        case 0..<0x80: return [UInt8(value)]
        case 0..<0x800: return [UInt8(0xC0 | value >> 6), UInt8(0x80 | value & 0x3F)]
        case 0..<0x10000:
            return [UInt8(0xE0 | value >> 12), UInt8(0x80 | (value >> 6) & 0x3F), UInt8(0x80 | value & 0x3F)]
        default:
            return [
                UInt8(0xF0 | value >> 18), UInt8(0x80 | (value >> 12) & 0x3F), UInt8(0x80 | (value >> 6) & 0x3F),
                UInt8(0x80 | value & 0x3F),
            ]
        }
    }
}
