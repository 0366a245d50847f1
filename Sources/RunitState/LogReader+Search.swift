import CRunitSystem
import RunitKit

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A search of a log file for the records whose text matches a pattern, the last ones first,
/// at about the speed of `grep`: the file is read backward in blocks of 1 MiB, and each block
/// of whole records is searched in one pass of the pattern's automaton over its bytes (headers
/// included: the automaton steps over them), or with `memmem` for the pattern's required
/// literal first, the automaton then deciding on the lines that hold it. Only a matching
/// line is parsed into a record.
///
/// A block with an escape sequence, a carriage return or a C1 control is searched line by line, each
/// line cleaned as `LogPattern` cleans it.
package final class LogSearch {
    package let blockSize: Int
    /// The longest run of bytes kept waiting for its newline: a record is at most 64 KiB of text
    /// and its header; a longer run is not a record and is let go.
    package static let carryLimit = 1 << 20

    package let pattern: LogPattern
    package let matcher: LazyDFA
    /// Dropped once it is found on most lines: then the automaton alone is faster.
    private(set) var literal: [UInt8]?
    /// Asked between blocks; a search that is no longer wanted ends there.
    package let isCancelled: () -> Bool

    package init(_ pattern: LogPattern, blockSize: Int = 1 << 20, isCancelled: @escaping () -> Bool = { false }) {
        self.blockSize = blockSize
        self.pattern = pattern
        self.matcher = pattern.matcher()
        self.literal = pattern.regex.requiredLiteral
        self.isCancelled = isCancelled
    }

    /// Calls `visit` with each matching record of `path` (up to `size` bytes), from the last to
    /// the first, until it returns false. Returns the number of bytes read.
    package func backward(_ path: String, size: Int? = nil, _ visit: (LogRecord) -> Bool) -> Int {
        guard let (fd, end) = LogReader.openAtEnd(path, size: size) else { return 0 }
        defer { Platform.closeDescriptor(fd) }
        var position = end
        let buffer = UnsafeMutablePointer<UInt8>.allocate(capacity: blockSize + Self.carryLimit)
        defer { buffer.deallocate() }
        var carry: [UInt8] = []
        var bytesRead = 0
        var isLast = true
        while position > 0 && !isCancelled() {
            let size = min(blockSize, position)
            position -= size
            guard pread(fd, buffer, size, off_t(position)) == size else { return bytesRead }
            bytesRead += size
            carry.withUnsafeBufferPointer { buffer.advanced(by: size).update(from: $0.baseAddress!, count: $0.count) }
            let total = size + carry.count
            var end = total
            if isLast {
                // A record still being appended, over as many blocks as it takes: leave it for
                // the next read.
                guard let last = Self.lastNewline(buffer, total) else {
                    carry = []
                    continue
                }
                end = last + 1
                isLast = false
            }
            // Before the first newline is the end of a record that starts in an earlier block.
            var start = 0
            if position > 0 {
                guard let first = memchr(buffer, 0x0A, end) else {
                    carry = total <= Self.carryLimit ? Array(UnsafeBufferPointer(start: buffer, count: total)) : []
                    continue
                }
                start = buffer.distance(to: first.assumingMemoryBound(to: UInt8.self)) + 1
            }
            carry = start <= Self.carryLimit ? Array(UnsafeBufferPointer(start: buffer, count: start)) : []
            if !search(buffer + start, count: end - start, visit) { break }
        }
        return bytesRead
    }

    /// Searches whole records, newest first; false when `visit` asked to stop.
    private func search(_ base: UnsafeMutablePointer<UInt8>, count: Int, _ visit: (LogRecord) -> Bool) -> Bool {
        for line in matchingLines(base, count: count).reversed() {
            guard let record = LogRecord(line: Self.bytes(base, line)) else { continue }
            if !visit(record) { return false }
        }
        return true
    }

    /// The lines of whole records in `base[0..<count]` whose text matches, in order.
    package func matchingLines(_ base: UnsafeMutablePointer<UInt8>, count: Int) -> [Range<Int>] {
        var lines: [Range<Int>] = []
        guard count > 0 else { return lines }
        if LogPattern.needsCleaning(UnsafeRawBufferPointer(start: base, count: count)) {
            var start = 0
            while start < count {
                let end = Self.newline(base, from: start, count)
                if let record = LogRecord(line: Self.bytes(base, start..<end)), pattern.matches(record) {
                    lines.append(start..<end)
                }
                start = end + 1
            }
        } else if let literal {
            var from = 0
            var candidates = 0
            defer { if candidates > count / 256 { self.literal = nil } }
            while from < count {
                candidates += 1
                let offset = literal.withUnsafeBufferPointer {
                    crunit_find(base + from, count - from, $0.baseAddress, $0.count)
                }
                if offset < 0 { break }
                let hit = from + offset
                var start = hit
                while start > 0 && base[start - 1] != 0x0A { start -= 1 }
                let end = Self.newline(base, from: hit, count)
                matcher.scanRecords(base + start, count: end - start) { _, _ in
                    lines.append(start..<end)
                    return false
                }
                from = end + 1
            }
        } else {
            matcher.scanRecords(base, count: count) { start, end in
                lines.append(start..<end)
                return true
            }
        }
        return lines
    }

    package static func bytes(_ base: UnsafeMutablePointer<UInt8>, _ range: Range<Int>) -> UnsafeBufferPointer<UInt8> {
        UnsafeBufferPointer(start: base + range.lowerBound, count: range.count)
    }

    /// The index of the newline at or after `from`, or `count`.
    package static func newline(_ base: UnsafeMutablePointer<UInt8>, from: Int, _ count: Int) -> Int {
        guard let found = memchr(base + from, 0x0A, count - from) else { return count }
        return base.distance(to: found.assumingMemoryBound(to: UInt8.self))
    }

    package static func lastNewline(_ base: UnsafeMutablePointer<UInt8>, _ count: Int) -> Int? {
        var index = count - 1
        while index >= 0 && base[index] != 0x0A { index -= 1 }
        return index >= 0 ? index : nil
    }
}
