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
/// The table holds each next state as its row's offset (`id << 8`), so a look-up is one add and
/// one load; `LazyDFA+Scan.swift` runs it.
///
/// Not thread-safe: one matcher per search, or a lock around it.
public final class LazyDFA {
    let program: RegexProgram
    private let maxStates: Int

    static let unknown: Int32 = -1
    static let matched: Int32 = -2
    /// A record search's newline after a line that did not match: the next record begins.
    static let lineEnd: Int32 = -3

    /// The states' thread sets and flags (bit 0: the byte before was a word character; bit 1:
    /// the position is the start of the text); row `s` of `table` holds state `s`'s next states.
    private var sets: [[Int32]] = []
    private var flags: [UInt8] = []
    private var endMatches: [Int8] = []
    private var ids: [StateKey: Int32] = [:]
    private(set) var table: UnsafeMutablePointer<Int32>
    private var capacity: Int

    /// The state at the start of a record (before its header), and at the start of a line's text.
    private(set) var recordStart: Int32 = 0
    private(set) var lineStart: Int32 = 0
    /// Whether every text matches (the pattern matches the empty string at the start).
    private(set) var matchesEmpty = false
    /// The offsets of states a search still holds besides the one it steps from: kept, at
    /// their new places, when the cache is emptied.
    var live: [Int] = []

    /// The bytes of each class, and each byte's class: bytes that no instruction and no test
    /// tells apart share a class, and a state's next state is computed once for all of them
    /// (`.` over letters is one computation, not 52).
    private let classes: [[UInt8]]
    private let classOf: [UInt8]

    private var marks: [UInt32]
    private var generation: UInt32 = 0
    private var stack: [Int32] = []

    /// The smallest block searched in two lanes (smaller for tests).
    var twoLanesFrom = 8192

    /// How many times the cache was emptied (for tests).
    public private(set) var resets = 0

    init(_ program: RegexProgram, maxStates: Int = 2000) {
        self.program = program
        self.maxStates = max(maxStates, 8)
        self.capacity = 16
        self.table = .allocate(capacity: 16 * 256)
        self.marks = Array(repeating: 0, count: program.count)
        (classes, classOf) = Self.byteClasses(program)
        start()
    }

    /// The byte classes of `program`: a class ends where a byte range begins or ends; the
    /// newline is a class of its own, and when the pattern has a test (`\b`), so are the runs
    /// of word characters, which the test tells apart.
    static func byteClasses(_ program: RegexProgram) -> (classes: [[UInt8]], classOf: [UInt8]) {
        var boundary = [Bool](repeating: false, count: 257)
        func cut(_ range: ClosedRange<Int>) {
            boundary[range.lowerBound] = true
            boundary[range.upperBound + 1] = true
        }
        cut(0x0A...0x0A)
        for pc in 0..<program.count where program.ops[pc] == .byteRange || program.ops[pc] == .notFollowedBy {
            cut(Int(program.low[pc])...Int(max(program.low[pc], program.high[pc])))
        }
        for branches in program.dispatches {
            for branch in branches { cut(Int(branch.low)...Int(branch.high)) }
        }
        if program.ops.contains(.assertion) {
            for range in [0x30...0x39, 0x41...0x5A, 0x5F...0x5F, 0x61...0x7A] { cut(range) }
        }
        var classes: [[UInt8]] = []
        var classOf = [UInt8](repeating: 0, count: 256)
        for byte in 0..<256 {
            if byte == 0 || boundary[byte] { classes.append([]) }
            classes[classes.count - 1].append(UInt8(byte))
            classOf[byte] = UInt8(classes.count - 1)
        }
        return (classes, classOf)
    }

    deinit { table.deallocate() }

    private func start() {
        sets.removeAll(keepingCapacity: true)
        flags.removeAll(keepingCapacity: true)
        endMatches.removeAll(keepingCapacity: true)
        ids.removeAll(keepingCapacity: true)
        let record = closure([program.recordStart], atStart: false, word: false, next: nil)
        recordStart = intern(record.pcs, flags: stateFlags(record.pcs, atStart: false, word: false))
        let line = closure([program.lineStart], atStart: true, word: false, next: nil)
        matchesEmpty = line.matched
        lineStart = intern(line.pcs, flags: stateFlags(line.pcs, atStart: true, word: false))
    }

    // MARK: Building states

    /// The table's entry for `byte` from the state at `offset` (a row's offset, or `matched`),
    /// computed and stored. In a record search a newline ends the record: a match when the text
    /// ends matched there, else `lineEnd`. In a line's text a newline is a
    /// byte like any other, and that entry is not stored (the column is the records').
    func resolve(_ offset: Int, _ byte: UInt8, records: Bool) -> Int32 {
        let state = Int32(offset >> 8)
        if records && byte == 0x0A {
            let next = endMatch(state) ? Self.matched : Self.lineEnd
            table[offset | 0x0A] = next
            return next
        }
        let (id, emptied) = step(state, byte)
        let entry = id < 0 ? id : id << 8
        // The newline is a class of its own: in a line's text its entry is not stored.
        if !emptied && byte != 0x0A {
            let row = table + (offset & ~0xFF)
            for member in classes[Int(classOf[Int(byte)])] { row[Int(member)] = entry }
        }
        return entry
    }

    /// The state after `byte` from `state` (or `matched`), and whether the cache was emptied
    /// to make room for it (then `state` is gone; the states in `live` are carried over).
    private func step(_ state: Int32, _ byte: UInt8) -> (Int32, Bool) {
        let flagBits = flags[Int(state)]
        let set = sets[Int(state)]
        // A state is closed already: only its tests (`$`, `\b`) wait for the byte to be decided,
        // and only they are opened (a closure of the whole set again cost more than the rest).
        var seeds: [Int32] = []
        var tests: [Int32] = []
        for pc in set {
            let op = program.ops[Int(pc)]
            if op == .byteRange || op == .dispatch {
                advance(pc, byte, into: &seeds)
            } else if op.isTest {
                tests.append(pc)
            } else if op == .match {
                return (Self.matched, false)
            }
        }
        if !tests.isEmpty {
            let opened = closure(tests, atStart: flagBits & 2 != 0, word: flagBits & 1 != 0, next: Int(byte))
            if opened.matched { return (Self.matched, false) }
            for pc in opened.pcs { advance(pc, byte, into: &seeds) }
        }
        let atStart = seeds.contains(program.lineStart)
        let word = Self.isWord(byte)
        let reached = closure(seeds, atStart: atStart, word: word, next: nil)
        if reached.matched { return (Self.matched, false) }
        let reachedFlags = stateFlags(reached.pcs, atStart: atStart, word: word)
        guard sets.count >= maxStates else { return (intern(reached.pcs, flags: reachedFlags), false) }
        resets += 1
        let kept = live.map { (sets[$0 >> 8], flags[$0 >> 8]) }
        start()
        live = kept.map { Int(intern($0.0, flags: $0.1)) << 8 }
        return (intern(reached.pcs, flags: reachedFlags), true)
    }

    /// Where the thread at `pc` goes on `byte`, if it reads one and goes on.
    @inline(__always)
    private func advance(_ pc: Int32, _ byte: UInt8, into seeds: inout [Int32]) {
        let index = Int(pc)
        switch program.ops[index] {
        case .byteRange:
            if program.low[index] <= byte && byte <= program.high[index] { seeds.append(program.out[index]) }
        case .dispatch:
            // Sorted and disjoint: the first range that does not end below the byte is the one.
            for branch in program.dispatches[Int(program.out[index])] where byte <= branch.high {
                if branch.low <= byte { seeds.append(branch.next) }
                break
            }
        default:
            break
        }
    }

    /// Whether the text may end in `state` with a match (`$` and `\b` decided by the end).
    func endMatch(_ state: Int32) -> Bool {
        let known = endMatches[Int(state)]
        if known >= 0 { return known == 1 }
        let stateFlags = flags[Int(state)]
        let result = closure(sets[Int(state)], atStart: stateFlags & 2 != 0, word: stateFlags & 1 != 0, next: 256).matched
        endMatches[Int(state)] = result ? 1 : 0
        return result
    }

    /// A state's flags: only when an open test (`$`, `\b`, `\B`) can still ask for them, so that states that
    /// differ only in a flag no test reads are one.
    private func stateFlags(_ pcs: [Int32], atStart: Bool, word: Bool) -> UInt8 {
        let tests = pcs.contains { program.ops[Int($0)] == .assertion }
        return tests ? (word ? 1 : 0) | (atStart ? 2 : 0) : 0
    }

    private func intern(_ pcs: [Int32], flags stateFlags: UInt8) -> Int32 {
        let key = StateKey(pcs.sorted(), flags: stateFlags)
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
        sets.append(key.pcs)
        flags.append(stateFlags)
        endMatches.append(-1)
        ids[key] = id
        return id
    }

    /// The threads reached from `seeds` without reading a byte. With `next` (a byte, or 256
    /// for the end of the text) every test is decided; without it `$`, `\b` and `\B` stay as
    /// threads of their own, to be decided by the byte that comes.
    private func closure(_ seeds: [Int32], atStart: Bool, word: Bool, next: Int?) -> (pcs: [Int32], matched: Bool) {
        // The marks and the stack in locals, moved out and back: a stored property of a class is
        // checked for exclusive access at every use, which cost more than the work itself.
        var marks: [UInt32] = []
        var stack: [Int32] = []
        swap(&marks, &self.marks)
        swap(&stack, &self.stack)
        defer {
            swap(&marks, &self.marks)
            swap(&stack, &self.stack)
        }
        var generation = self.generation &+ 1
        if generation == 0 {
            for index in marks.indices { marks[index] = 0 }
            generation = 1
        }
        self.generation = generation
        var pcs: [Int32] = []
        var matched = false
        stack.removeAll(keepingCapacity: true)
        stack.append(contentsOf: seeds.reversed())
        while let pc = stack.popLast() {
            let index = Int(pc)
            if marks[index] == generation { continue }
            marks[index] = generation
            switch program.ops[index] {
            case .byteRange, .dispatch:
                pcs.append(pc)
            case .match:
                matched = true
                pcs.append(pc)
            case .split:
                stack.append(program.alternative[index])
                stack.append(program.out[index])
            case .textStart:
                stack.append(program.out[index])
            case .notFollowedBy:
                guard let next else {
                    pcs.append(pc)
                    continue
                }
                if next == 256 || !(program.low[index]...program.high[index]).contains(UInt8(next)) {
                    stack.append(program.out[index])
                }
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

/// A state's key: its threads, sorted, and its flags; hashed once, with a cheap mix of the
/// threads (the standard hasher over thousands of them was a tenth of a search whose states
/// are new at almost every byte, as `x.{100}y`'s).
struct StateKey: Hashable {
    let pcs: [Int32]
    let flags: UInt8
    private let digest: UInt64

    init(_ pcs: [Int32], flags: UInt8) {
        self.pcs = pcs
        self.flags = flags
        var digest = UInt64(flags) &+ 0x9E37_79B9_7F4A_7C15
        for pc in pcs { digest = (digest ^ UInt64(UInt32(bitPattern: pc))) &* 0x100_0000_01B3 }
        self.digest = digest
    }

    func hash(into hasher: inout Hasher) { hasher.combine(digest) }

    static func == (lhs: StateKey, rhs: StateKey) -> Bool {
        lhs.digest == rhs.digest && lhs.flags == rhs.flags && lhs.pcs == rhs.pcs
    }
}
