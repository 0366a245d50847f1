#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Runs a `RegexProgram` as a DFA built while it runs: each state is the set of automaton
/// threads alive at a position, made the first time it is reached and kept in a table of 256
/// next states. Every byte costs one table look-up once its state is known, and at most one
/// state's construction (linear in the program's size) when it is not, so a search is linear
/// in the text whatever the pattern. The cache is bounded: past `maxStates` it is emptied and
/// built again from where the search stands.
///
/// Not thread-safe: one matcher per search, or a lock around it.
public final class LazyDFA {
    let program: RegexProgram
    private let maxStates: Int

    private static let unknown: Int32 = -1
    private static let matched: Int32 = -2

    /// The states' thread sets and flags (bit 0: the byte before was a word character; bit 1:
    /// the position is the start of the text); row `s` of `table` holds state `s`'s next states.
    private var sets: [[Int32]] = []
    private var flags: [UInt8] = []
    private var endMatches: [Int8] = []
    private var ids: [[Int32]: Int32] = [:]
    private var table: UnsafeMutablePointer<Int32>
    private var capacity: Int

    /// The state at the start of a record (before its header), and at the start of a line's text.
    private var recordStart: Int32 = 0
    private var lineStart: Int32 = 0
    /// Whether every text matches (the pattern matches the empty string at the start).
    private var matchesEmpty = false

    private var marks: [UInt32]
    private var generation: UInt32 = 0
    private var stack: [Int32] = []

    /// How many times the cache was emptied (for tests).
    public private(set) var resets = 0

    init(_ program: RegexProgram, maxStates: Int = 2000) {
        self.program = program
        self.maxStates = max(maxStates, 8)
        self.capacity = 16
        self.table = .allocate(capacity: 16 * 256)
        self.marks = Array(repeating: 0, count: program.count)
        start()
    }

    deinit { table.deallocate() }

    private func start() {
        sets.removeAll(keepingCapacity: true)
        flags.removeAll(keepingCapacity: true)
        endMatches.removeAll(keepingCapacity: true)
        ids.removeAll(keepingCapacity: true)
        let record = closure([program.recordStart], atStart: false, word: false, next: nil)
        recordStart = intern(record.pcs, atStart: false, word: false)
        let line = closure([program.lineStart], atStart: true, word: false, next: nil)
        matchesEmpty = line.matched
        lineStart = intern(line.pcs, atStart: true, word: false)
    }

    // MARK: Searching

    /// Whether one line's text (no newline in it) holds a match. With `ends` false the text is
    /// a piece of a longer line: `$` (or `\b`) is not met at its end.
    public func matches(_ text: UnsafeBufferPointer<UInt8>, ends: Bool = true) -> Bool {
        if matchesEmpty { return true }
        var state = lineStart
        for byte in text {
            var next = byte == 0x0A ? Self.unknown : table[Int(state) &<< 8 | Int(byte)]
            // A newline in a line's text is read as any other byte; the table's newline column
            // belongs to record searches.
            if next == Self.unknown { next = step(state, byte, store: byte != 0x0A) }
            if next == Self.matched { return true }
            state = next
        }
        return ends && endMatch(state)
    }

    /// Whether `bytes` (one line's text) hold a match.
    public func matches(_ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBufferPointer { matches($0) }
    }

    /// Calls `found` with the start and end (the newline's index, or `count`) of each line of
    /// log records in `base[0..<count]` whose text, after its header, matches; stops when it
    /// returns false.
    public func scanRecords(_ base: UnsafePointer<UInt8>, count: Int, _ found: (Int, Int) -> Bool) {
        var state = recordStart
        var index = 0
        while index < count {
            var next = table[Int(state) &<< 8 | Int(base[index])]
            if next >= 0 {
                state = next
                index &+= 1
                continue
            }
            if next == Self.unknown {
                if base[index] == 0x0A {
                    next = endMatch(state) ? Self.matched : recordStart
                    table[Int(state) << 8 | 0x0A] = next
                } else {
                    next = step(state, base[index], store: true)
                }
                if next >= 0 {
                    state = next
                    index += 1
                    continue
                }
            }
            // A match: report its line and go on after it.
            var start = index
            while start > 0 && base[start - 1] != 0x0A { start -= 1 }
            let end =
                memchr(base + index, 0x0A, count - index).map { UnsafePointer($0.assumingMemoryBound(to: UInt8.self)) - base }
                ?? count
            if !found(start, end) { return }
            index = end + 1
            state = recordStart
        }
        if count > 0 && base[count - 1] != 0x0A && endMatch(state) {
            var start = count
            while start > 0 && base[start - 1] != 0x0A { start -= 1 }
            _ = found(start, count)
        }
    }

    // MARK: Building states

    /// The next state from `state` on `byte` (or `matched`), stored in the table.
    private func step(_ state: Int32, _ byte: UInt8, store: Bool) -> Int32 {
        let stateFlags = flags[Int(state)]
        let resolved = closure(sets[Int(state)], atStart: stateFlags & 2 != 0, word: stateFlags & 1 != 0, next: Int(byte))
        var next = Self.matched
        if !resolved.matched {
            var seeds: [Int32] = []
            for pc in resolved.pcs where program.ops[Int(pc)] == .byteRange {
                if program.low[Int(pc)] <= byte && byte <= program.high[Int(pc)] { seeds.append(program.out[Int(pc)]) }
            }
            let atStart = seeds.contains(program.lineStart)
            let word = Self.isWord(byte)
            let reached = closure(seeds, atStart: atStart, word: word, next: nil)
            if !reached.matched {
                if sets.count >= maxStates {
                    resets += 1
                    start()
                    // The table was emptied: the caller's state is gone, the new one stands.
                    return intern(reached.pcs, atStart: atStart, word: word)
                }
                next = intern(reached.pcs, atStart: atStart, word: word)
            }
        }
        if store { table[Int(state) << 8 | Int(byte)] = next }
        return next
    }

    /// Whether the text may end in `state` with a match (`$` and `\b` decided by the end).
    private func endMatch(_ state: Int32) -> Bool {
        let known = endMatches[Int(state)]
        if known >= 0 { return known == 1 }
        let stateFlags = flags[Int(state)]
        let result = closure(sets[Int(state)], atStart: stateFlags & 2 != 0, word: stateFlags & 1 != 0, next: 256).matched
        endMatches[Int(state)] = result ? 1 : 0
        return result
    }

    private func intern(_ pcs: [Int32], atStart: Bool, word: Bool) -> Int32 {
        // A flag is part of the state only when an open test can still ask for it.
        let tests = pcs.contains { program.ops[Int($0)] == .assertion }
        let stateFlags: UInt8 = tests ? (word ? 1 : 0) | (atStart ? 2 : 0) : 0
        let key = pcs.sorted() + [-1 - Int32(stateFlags)]
        if let id = ids[key] { return id }
        let id = Int32(sets.count)
        if sets.count == capacity {
            let bigger = UnsafeMutablePointer<Int32>.allocate(capacity: capacity * 2 * 256)
            bigger.update(from: table, count: capacity * 256)
            table.deallocate()
            table = bigger
            capacity *= 2
        }
        (table + Int(id) * 256).initialize(repeating: Self.unknown, count: 256)
        sets.append(key.dropLast().map { $0 })
        flags.append(stateFlags)
        endMatches.append(-1)
        ids[key] = id
        return id
    }

    /// The threads reached from `seeds` without reading a byte. With `next` (a byte, or 256
    /// for the end of the text) every test is decided; without it `$`, `\b` and `\B` stay as
    /// threads of their own, to be decided by the byte that comes.
    private func closure(_ seeds: [Int32], atStart: Bool, word: Bool, next: Int?) -> (pcs: [Int32], matched: Bool) {
        generation &+= 1
        if generation == 0 {
            for index in marks.indices { marks[index] = 0 }
            generation = 1
        }
        var pcs: [Int32] = []
        var matched = false
        stack.removeAll(keepingCapacity: true)
        stack.append(contentsOf: seeds.reversed())
        while let pc = stack.popLast() {
            let index = Int(pc)
            if marks[index] == generation { continue }
            marks[index] = generation
            switch program.ops[index] {
            case .byteRange:
                pcs.append(pc)
            case .match:
                matched = true
                pcs.append(pc)
            case .split:
                stack.append(program.alternative[index])
                stack.append(program.out[index])
            case .textStart:
                stack.append(program.out[index])
            case .assertion:
                let kind = RegexAssertion(rawValue: program.low[index])!
                if kind == .textStart {
                    if atStart { stack.append(program.out[index]) }
                    continue
                }
                guard let next else {
                    pcs.append(pc)
                    continue
                }
                let after = next < 256 && Self.isWord(UInt8(next))
                let holds: Bool
                switch kind {
                case .textEnd: holds = next == 256
                case .wordBoundary: holds = word != after
                case .notWordBoundary: holds = word == after
                case .textStart: holds = atStart
                }
                if holds { stack.append(program.out[index]) }
            }
        }
        return (pcs, matched)
    }

    @inline(__always)
    static func isWord(_ byte: UInt8) -> Bool {
        (byte >= 0x30 && byte <= 0x39) || (byte | 0x20 >= 0x61 && byte | 0x20 <= 0x7A) || byte == 0x5F
    }
}
