import RunitKit

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Reads a process's log files: the last records from the end, or on from a cursor.
///
/// Reads backward in blocks, so the tail of a 1 GiB log costs what the tail of a 1 MiB log does.
public struct LogReader: Sendable {
    /// The size of one backward read.
    package static let blockSize = 64 * 1024

    package let paths: ProcessPaths

    /// A reader over the logs in `paths`.
    public init(paths: ProcessPaths) {
        self.paths = paths
    }

    /// The log files, oldest first, with their inode numbers.
    package func files() -> [(path: String, inode: UInt64)] {
        var result: [(String, UInt64)] = []
        for path in rotatedFiles() + [paths.currentLog] {
            var info = stat()
            if stat(path, &info) == 0 { result.append((path, UInt64(info.st_ino))) }
        }
        return result
    }

    /// The paths of the rotated log files there are, oldest first.
    package func rotatedFiles() -> [String] {
        var index = 1
        var rotated: [String] = []
        // A rotation renames previous.N to N+1 from the oldest down, so for a moment one name is
        // missing: look one further before deciding the list has ended.
        while Platform.exists(paths.rotatedLog(index)) || Platform.exists(paths.rotatedLog(index + 1)) {
            if Platform.exists(paths.rotatedLog(index)) { rotated.append(paths.rotatedLog(index)) }
            index += 1
        }
        return rotated.reversed()
    }

    /// How many records older than `--since` in a row end a backward read: past a clock step
    /// back of that many records, earlier ones in the window are not looked for.
    package static let sinceLookBack = 10_000

    /// The last records that match `query`, oldest first, and how many bytes were read to find them.
    /// With `end`, only records before that cursor count, so that a follow from it misses nothing.
    public func tail(_ query: LogQuery, end: LogCursor? = nil) -> (records: [LogRecord], bytesRead: Int) {
        var newestFirst: [LogRecord] = []
        var matches = 0
        var bytesRead = 0
        var done = false
        // Records older than `since` in a row; the window is over once there are many: a clock
        // that stepped back leaves newer records before older ones, and those are still found.
        var olderInARow = 0
        let wanted = max(0, query.lines)
        var all = files()
        // Files that rotated in after `end` hold what a follow from it will show: leave them to it.
        if let end, let index = all.firstIndex(where: { $0.inode == end.inode }) { all = Array(all[...index]) }
        // A pattern with no `--since` or context: a search of whole blocks, the fast way.
        if let pattern = query.pattern, query.sinceMicros == nil, query.context == 0 {
            guard wanted > 0 else { return ([], 0) }
            let search = LogSearch(pattern, isCancelled: query.isCancelled ?? { false })
            for file in all.reversed() where !done {
                let size = file.inode == end?.inode ? end?.offset : nil
                bytesRead += search.backward(file.path, size: size) { record in
                    guard query.admits(record) else { return true }
                    newestFirst.append(record)
                    matches += 1
                    done = matches >= wanted
                    return !done
                }
            }
            return (Array(newestFirst.reversed()), bytesRead)
        }
        for file in all.reversed() where !done {
            if query.isCancelled?() == true { break }
            let size = file.inode == end?.inode ? end?.offset : nil
            bytesRead += Self.readBackward(file.path, size: size) { record in
                if query.isCancelled?() == true {
                    done = true
                    return false
                }
                if let since = query.sinceMicros, record.stream != .sys {
                    if record.micros < since {
                        olderInARow += 1
                        done = olderInARow > Self.sinceLookBack
                        return !done
                    }
                    olderInARow = 0
                }
                guard query.admits(record) else { return true }
                let isMatch = query.pattern.map { $0.matches(record) } ?? true
                if isMatch { matches += 1 }
                if isMatch || query.context > 0 { newestFirst.append(record) }
                // Keep reading past the last wanted match only for its leading context.
                if matches >= wanted {
                    if query.context == 0 || matches > wanted { done = true }
                    return !done
                }
                return true
            }
        }
        var records = Array(newestFirst.reversed())
        if let pattern = query.pattern, query.context > 0 {
            records = Self.withContext(records, pattern: pattern, context: query.context, lines: wanted)
        } else if records.count > wanted {
            records = Array(records.suffix(wanted))
        }
        return (records, bytesRead)
    }

    /// Keeps the last `lines` matches and `context` records around each.
    package static func withContext(_ records: [LogRecord], pattern: LogPattern, context: Int, lines: Int) -> [LogRecord] {
        let matchIndices = records.indices.filter { pattern.matches(records[$0]) }.suffix(lines)
        var keep = [Bool](repeating: false, count: records.count)
        for index in matchIndices {
            for near in max(0, index - context)...min(records.count - 1, index + context) { keep[near] = true }
        }
        return records.indices.filter { keep[$0] }.map { records[$0] }
    }

    /// Opens a log to be read from its end: the descriptor and where reading starts (the file's
    /// size, or `size` when smaller); nil when it cannot be opened as a regular file.
    package static func openAtEnd(_ path: String, size: Int?) -> (fd: Int32, end: Int)? {
        let fd = (try? Platform.openRegular(path, O_RDONLY).get()) ?? -1
        guard fd >= 0 else { return nil }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            Platform.closeDescriptor(fd)
            return nil
        }
        return (fd, min(Int(info.st_size), size ?? Int.max))
    }

    /// Calls `visit` with each record of `path` from the last to the first, until it returns false.
    /// Returns the number of bytes read.
    package static func readBackward(_ path: String, size: Int? = nil, _ visit: (LogRecord) -> Bool) -> Int {
        guard let (fd, end) = LogReader.openAtEnd(path, size: size) else { return 0 }
        defer { Platform.closeDescriptor(fd) }
        var position = end
        var carry: [UInt8] = []
        var bytesRead = 0
        var block = [UInt8](repeating: 0, count: blockSize)
        var isLast = true
        while position > 0 {
            let size = min(blockSize, position)
            position -= size
            let count = block.withUnsafeMutableBytes { pread(fd, $0.baseAddress, size, off_t(position)) }
            guard count == size else { return bytesRead }
            bytesRead += count
            var chunk = Array(block[0..<count])
            chunk.append(contentsOf: carry)
            // Everything before the first newline may be the end of an earlier line: carry it.
            var end = chunk.count
            if chunk.last == 0x0A {
                end -= 1
            } else if isLast {
                // A record still being appended, over as many blocks as it takes: leave it for
                // the next read.
                guard let last = chunk.lastIndex(of: 0x0A) else {
                    carry = []
                    continue
                }
                end = last
            }
            isLast = false
            var lineEnd = end
            var index = end - 1
            while index >= 0 {
                if chunk[index] == 0x0A {
                    if let record = LogRecord(line: chunk[(index + 1)..<lineEnd]), !visit(record) { return bytesRead }
                    lineEnd = index
                }
                index -= 1
            }
            carry = Array(chunk[0..<lineEnd])
            if position == 0, !carry.isEmpty, let record = LogRecord(line: carry[...]) { _ = visit(record) }
        }
        return bytesRead
    }
}
