#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The searches: one line's text, or a block of log records. A block is searched in two lanes
/// at once, its first half and its second (split at a newline): each byte's look-up waits for
/// the one before it in its lane, and two independent lanes keep the processor busy while it
/// waits.
extension LazyDFA {
    /// Whether one line's text (no newline in it) holds a match. With `ends` false the text is
    /// a piece of a longer line: `$` (or `\b`) is not met at its end.
    public func matches(_ text: UnsafeBufferPointer<UInt8>, ends: Bool = true) -> Bool {
        if matchesEmpty { return true }
        if text.count < program.minimumBytes { return false }
        var state = Int(lineStart) << 8
        // The table in a local: a stored property of a class is checked for exclusive access at
        // every read, which would cost more than the look-up.
        var rows = UnsafePointer(table)
        for byte in text {
            var next = byte == 0x0A ? Self.unknown : rows[state | Int(byte)]
            if next == Self.unknown {
                next = resolve(state, byte, records: false)
                rows = UnsafePointer(table)
            }
            if next == Self.matched { return true }
            state = Int(next)
        }
        return ends && endMatch(Int32(state >> 8))
    }

    /// Whether `bytes` (one line's text) hold a match.
    public func matches(_ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBufferPointer { matches($0) }
    }

    /// Calls `found` with the start and end (the newline's index, or `count`) of each line of
    /// log records in `base[0..<count]` whose text, after its header, matches, in order; stops
    /// when it returns false.
    public func scanRecords(_ base: UnsafePointer<UInt8>, count: Int, _ found: (Int, Int) -> Bool) {
        var first = Lane(index: 0, end: count, state: 0)
        // The second lane starts after the first newline past the middle.
        if count >= twoLanesFrom, let middle = memchr(base + count / 2, 0x0A, count - count / 2) {
            let split = base.distance(to: middle.assumingMemoryBound(to: UInt8.self)) + 1
            first.end = split
            enterRecord(&first, at: 0, base)
            var second = Lane(index: split, end: count, state: 0)
            enterRecord(&second, at: split, base)
            var later: [Range<Int>] = []
            let going = runBoth(&first, &second, base) { line, lane in
                if lane == 0 { return found(line.lowerBound, line.upperBound) }
                later.append(line)
                return true
            }
            // The first lane alone to its end, the second's state carried through any emptying
            // of the cache meanwhile: it goes on from that state next.
            guard going, run(&first, carrying: &second.state, base, found) else { return }
            for line in later where !found(line.lowerBound, line.upperBound) { return }
            first = second
        } else {
            enterRecord(&first, at: 0, base)
        }
        var none = 0
        guard run(&first, carrying: &none, base, found) else { return }
        if count > 0 && base[count - 1] != 0x0A && endMatch(Int32(first.state >> 8)) {
            var lineStart = count
            while lineStart > 0 && base[lineStart - 1] != 0x0A { lineStart -= 1 }
            _ = found(lineStart, count)
        }
    }

    /// Where a search stands in its part of the block.
    struct Lane {
        var index: Int
        var end: Int
        var state: Int
    }

    /// Both lanes, until one has reached its end; `report` gets a matching line and its lane's
    /// number. False when `report` said stop.
    private func runBoth(
        _ first: inout Lane, _ second: inout Lane, _ base: UnsafePointer<UInt8>, _ report: (Range<Int>, Int) -> Bool
    ) -> Bool {
        var rows = UnsafePointer(table)
        while first.index < first.end && second.index < second.end {
            var next0 = rows[first.state | Int(base[first.index])]
            var next1 = rows[second.state | Int(base[second.index])]
            while next0 | next1 >= 0 {
                first.state = Int(next0)
                second.state = Int(next1)
                first.index &+= 1
                second.index &+= 1
                guard first.index < first.end && second.index < second.end else { return true }
                next0 = rows[first.state | Int(base[first.index])]
                next1 = rows[second.state | Int(base[second.index])]
            }
            if next0 < 0, let line = slowStep(&first, other: &second.state, base), !report(line, 0) { return false }
            rows = UnsafePointer(table)
            if second.index < second.end && rows[second.state | Int(base[second.index])] < 0,
                let line = slowStep(&second, other: &first.state, base), !report(line, 1)
            {
                return false
            }
            rows = UnsafePointer(table)
        }
        return true
    }

    /// One lane to its end; false when `found` said stop. `other` is the state of a lane still
    /// to run, kept valid when the cache is emptied (a stale one read another state's row, or
    /// past the end of the table).
    private func run(
        _ lane: inout Lane, carrying other: inout Int, _ base: UnsafePointer<UInt8>, _ found: (Int, Int) -> Bool
    ) -> Bool {
        var rows = UnsafePointer(table)
        while lane.index < lane.end {
            let next = rows[lane.state | Int(base[lane.index])]
            if next >= 0 {
                lane.state = Int(next)
                lane.index &+= 1
                continue
            }
            if let line = slowStep(&lane, other: &other, base), !found(line.lowerBound, line.upperBound) { return false }
            rows = UnsafePointer(table)
        }
        return true
    }

    /// The byte at the lane's index, whose entry is not a known state: the entry is computed
    /// (the other lane's state carried over if the cache is emptied meanwhile), a record ended
    /// (the lane goes on at the next one's text), or the line matched: then its range, and the
    /// lane goes on after it.
    private func slowStep(_ lane: inout Lane, other: inout Int, _ base: UnsafePointer<UInt8>) -> Range<Int>? {
        let byte = base[lane.index]
        var next = table[lane.state | Int(byte)]
        if next == Self.unknown {
            live = [other]
            next = resolve(lane.state, byte, records: true)
            other = live[0]
            live = []
        }
        if next >= 0 {
            lane.state = Int(next)
            lane.index += 1
            return nil
        }
        if next == Self.lineEnd {
            enterRecord(&lane, at: lane.index + 1, base)
            return nil
        }
        var start = lane.index
        while start > 0 && base[start - 1] != 0x0A { start -= 1 }
        let end =
            memchr(base + lane.index, 0x0A, lane.end - lane.index).map {
                base.distance(to: $0.assumingMemoryBound(to: UInt8.self))
            }
            ?? lane.end
        enterRecord(&lane, at: end + 1, base)
        return start..<end
    }

    /// Puts the lane at the record that starts at `start`. Its header (two fields, each ended by
    /// a space) leaves the automaton where a line's text starts, whatever its bytes: so the
    /// lane goes straight to the text, found with `memchr`, unless the pattern matches at the
    /// very start of the text (then the automaton reads the header and says so).
    private func enterRecord(_ lane: inout Lane, at start: Int, _ base: UnsafePointer<UInt8>) {
        var start = start
        // A text too short for any match is stepped over, found with `memchr` (for a pattern of
        // at least `skipsShorterFrom` bytes: `\b.{300}\b` does not run on lines of 100).
        while enterText(&lane, at: start, base) && program.minimumBytes >= Self.skipsShorterFrom {
            let newline = memchr(base + lane.index, 0x0A, lane.end - lane.index)
            let lineEnd = newline.map { base.distance(to: $0.assumingMemoryBound(to: UInt8.self)) } ?? lane.end
            if lineEnd - lane.index >= program.minimumBytes { return }
            lane.index = lineEnd
            // The last line, without its newline: nothing of it is left to read.
            guard newline != nil else { return }
            start = lineEnd + 1
        }
    }

    /// The smallest `minimumBytes` for which short lines are looked for and stepped over.
    static let skipsShorterFrom = 16

    /// Puts the lane at the record that starts at `start`; true when it stands at its text.
    private func enterText(_ lane: inout Lane, at start: Int, _ base: UnsafePointer<UInt8>) -> Bool {
        lane.index = start
        lane.state = Int(recordStart) << 8
        guard !matchesEmpty, start < lane.end else { return false }
        // The usual header: a timestamp of 27 bytes, a space, `out`, `err` or `sys`, maybe a
        // `+`, a space; checked a word at a time for a space or a newline where none may be.
        let width = Timestamp.width
        if start + width + 6 <= lane.end && base[start + width] == 0x20 {
            let raw = UnsafeRawPointer(base + start)
            let plain =
                Self.noSpaceOrNewline(raw.loadUnaligned(as: UInt64.self))
                && Self.noSpaceOrNewline(raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
                && Self.noSpaceOrNewline(raw.loadUnaligned(fromByteOffset: 16, as: UInt64.self))
                && Self.noSpaceOrNewline(raw.loadUnaligned(fromByteOffset: width - 8, as: UInt64.self))
            let stream = start + width + 1
            if plain && base[stream] > 0x20 && base[stream + 1] > 0x20 && base[stream + 2] > 0x20 {
                if base[stream + 3] == 0x20 {
                    lane.index = stream + 4
                    lane.state = Int(lineStart) << 8
                    return true
                }
                if base[stream + 3] == UInt8(ascii: "+") && base[stream + 4] == 0x20 {
                    lane.index = stream + 5
                    lane.state = Int(lineStart) << 8
                    return true
                }
            }
        }
        // Any other: the automaton reads the header.
        return false
    }

    /// Whether none of a word's eight bytes is a space or a newline (the classic test for a zero
    /// byte, on the word XORed with each).
    @inline(__always)
    static func noSpaceOrNewline(_ word: UInt64) -> Bool {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        let spaces = word ^ (ones &* 0x20)
        let newlines = word ^ (ones &* 0x0A)
        return ((spaces &- ones) & ~spaces & highs) | ((newlines &- ones) & ~newlines & highs) == 0
    }
}
