import RunitKit

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A place in a process's log that survives rotation: a file (by inode) and an offset in it.
public struct LogCursor: Equatable, Sendable, CustomStringConvertible {
    /// The inode of the file.
    public var inode: UInt64
    /// The byte offset just past the last record read.
    public var offset: Int

    /// A cursor at `offset` in the file with `inode`.
    public init(inode: UInt64, offset: Int) {
        self.inode = inode
        self.offset = offset
    }

    /// Parses the text form, `INODE-OFFSET`.
    public init?(_ text: String) {
        let parts = text.split(separator: "-")
        guard parts.count == 2, let inode = UInt64(parts[0]), let offset = Int(parts[1]), offset >= 0 else { return nil }
        self.init(inode: inode, offset: offset)
    }

    public var description: String { "\(inode)-\(offset)" }
}

extension LogReader {
    /// The cursor at the end of the log: reading from it returns only what is written later.
    public func endCursor() -> LogCursor? {
        guard let current = files().last else { return nil }
        var info = stat()
        guard stat(current.path, &info) == 0 else { return nil }
        return LogCursor(inode: current.inode, offset: Int(info.st_size))
    }

    /// Reads forward from `cursor` (from the oldest record when its file has rotated away),
    /// returning at most `limit` records that pass `query`, and the cursor after them.
    /// `accept` may refuse a record (a size budget): reading stops before it, and the
    /// returned cursor points at it, so the next read starts there.
    public func read(
        from cursor: LogCursor, limit: Int, query: LogQuery = LogQuery(), accept: (LogRecord) -> Bool = { _ in true }
    ) -> (records: [LogRecord], next: LogCursor) {
        let all = settledFiles()
        var start = all.firstIndex { $0.inode == cursor.inode }
        var offset = cursor.offset
        if start == nil {
            start = 0
            offset = 0
        }
        var records: [LogRecord] = []
        var next = cursor
        guard let first = start, limit > 0 else { return (records, next) }
        for file in all[first...] {
            let fileOffset = file.inode == cursor.inode ? offset : 0
            next = LogCursor(inode: file.inode, offset: fileOffset)
            let done = Self.readForward(file.path, from: fileOffset) { record, end in
                if query.isCancelled?() == true { return false }
                let wanted = query.selects(record)
                if wanted && !accept(record) { return false }
                next.offset = end
                if wanted { records.append(record) }
                return records.count < limit
            }
            if done { break }
        }
        return (records, next)
    }

    /// Calls `visit` with each whole record from `offset` on, and the offset after it, until it
    /// returns false (then returns true) or the file ends (then returns false).
    package static func readForward(_ path: String, from offset: Int, _ visit: (LogRecord, Int) -> Bool) -> Bool {
        let fd = (try? Platform.openRegular(path, O_RDONLY).get()) ?? -1
        guard fd >= 0 else { return false }
        defer { Platform.closeDescriptor(fd) }
        var position = offset
        var pending: [UInt8] = []
        var block = [UInt8](repeating: 0, count: blockSize)
        while true {
            let count = block.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, off_t(position)) }
            if count <= 0 { return false }
            position += count
            pending.append(contentsOf: block[0..<count])
            var lineStart = 0
            let base = position - pending.count
            while let newline = pending[lineStart...].firstIndex(of: 0x0A) {
                let record = LogRecord(line: pending[lineStart..<newline])
                lineStart = newline + 1
                if let record, !visit(record, base + lineStart) { return true }
            }
            pending.removeFirst(lineStart)
        }
    }

    /// How long a follow sleeps before it looks again: at most a second, and no later than
    /// just past `until` (microseconds since the epoch); nil once that time has passed, which
    /// ends the follow (a line is written at most 100 ms after it was read).
    package static func followWaitMillis(until: Int64?) -> Int32? {
        guard let until else { return 1000 }
        let left = (until + 200_000 - Platform.nowMicros()) / 1000
        return left <= 0 ? nil : Int32(min(1000, left))
    }

    /// Calls `visit` with each batch of records written after `cursor`, across rotations and
    /// restarts, until `visit` returns false, `until` (microseconds since the epoch) has
    /// passed, or the process is removed. Sleeps on inotify between writes.
    ///
    /// The file being read stays open, so a rotation (even one that deletes it) loses nothing
    /// that was written to it.
    @discardableResult
    public func follow(
        from cursor: LogCursor, query: LogQuery = LogQuery(), until: Int64? = nil, _ visit: ([LogRecord]) -> Bool
    ) -> FollowEnd {
        // The process's directory, held open: once it has no name, the process was removed. Held,
        // its inode cannot be reused, so a new process of the same name is never taken for it.
        let directory = Platform.open(paths.directory, O_RDONLY | O_DIRECTORY)
        defer { if directory >= 0 { Platform.closeDescriptor(directory) } }
        let watcher = DirectoryWatcher(paths: [paths.logs, paths.directory])
        defer { watcher.close() }
        let tailer = LogTailer(self, from: cursor)
        while true {
            let records = tailer.readNew()
            if !records.isEmpty {
                let shown = records.filter(query.selects)
                if !shown.isEmpty, !visit(shown) { return .finished }
                // A process that never stops writing must not keep a follow past its `until`.
                if Self.followWaitMillis(until: until) == nil { return .finished }
                continue
            }
            guard let wait = Self.followWaitMillis(until: until) else { return .finished }
            watcher.wait(timeoutMillis: wait)
            if directory >= 0, !Platform.isLinked(directory) {
                // What was written before the removal is still shown, a batch at a time.
                while case let rest = tailer.readNew(), !rest.isEmpty {
                    let shown = rest.filter(query.selects)
                    if !shown.isEmpty, !visit(shown) { break }
                }
                return .removed
            }
        }
    }

    /// Opens the file to read next: the one `cursor` is in, at its offset; else the file after
    /// `previous`; else, when `previous` is no longer among the log files (a rotation beyond
    /// `--log-keep` or a user deleted it, or it was moved away), the oldest file whose first
    /// record is no older than the last record of `previous` (an empty one is the newest), so
    /// that no file is read twice and none is skipped; else (no `previous`) the oldest. Record
    /// times are the supervisor's, not file times, which a coarse or stepped clock makes
    /// ambiguous. Lists and opens again when a rotation renames files in between; nil when no
    /// listing shows a next file yet.
    package func openNext(after previous: OpenLog?, cursor: LogCursor? = nil) -> OpenLog? {
        for attempt in 0..<50 {
            if attempt > 0 { usleep(1000) }
            let all = settledFiles()
            guard !all.isEmpty else { return nil }
            var target = all[0]
            var offset = 0
            if let cursor, let index = all.firstIndex(where: { $0.inode == cursor.inode }) {
                target = all[index]
                offset = cursor.offset
            } else if let previous, let index = all.firstIndex(where: { $0.inode == previous.inode }) {
                // Still listed, so a listing that ends with it is out of date.
                guard index + 1 < all.count else { continue }
                target = all[index + 1]
            } else if let previous {
                let last = previous.lastMicros
                let next = all.first { file in Self.firstMicros(file.path).map { $0 >= last } ?? true }
                guard let next else { return nil }
                target = next
            }
            if let log = OpenLog(path: target.path, inode: target.inode, offset: offset) { return log }
        }
        return nil
    }

    /// The time of the first record in the file at `path`; nil when it has none (or is gone).
    package static func firstMicros(_ path: String) -> Int64? {
        var first: Int64?
        _ = readForward(path, from: 0) { record, _ in
            first = record.micros
            return false
        }
        return first
    }

    /// The log files, listed until two listings agree: a rotation renames files one by one, so a
    /// listing taken in the middle of one can miss a file or name an old one as the newest.
    package func settledFiles() -> [(path: String, inode: UInt64)] {
        var last = files()
        for _ in 0..<20 {
            let again = files()
            if again.elementsEqual(last, by: { $0.path == $1.path && $0.inode == $1.inode }) { return again }
            last = again
        }
        return last
    }
}

/// How a follow ended.
public enum FollowEnd: Sendable, Equatable {
    /// The caller's `visit` asked to stop, or the `until` time passed.
    case finished
    /// The process was removed: its directory is gone.
    case removed
}

/// A log file held open while it is followed, with the bytes of a record not yet complete.
package final class OpenLog {
    package let fd: Int32
    package let inode: UInt64
    private var offset: Int
    private var pending: [UInt8] = []
    /// The time of the last record read (or, before any, of the last one before the start).
    private(set) var lastMicros: Int64 = 0

    /// Opens `path` at `offset`; with an `inode`, only if the file is still that one.
    package init?(path: String, inode: UInt64?, offset: Int) {
        fd = (try? Platform.openRegular(path, O_RDONLY).get()) ?? -1
        guard fd >= 0 else { return nil }
        var info = stat()
        fstat(fd, &info)
        self.inode = UInt64(info.st_ino)
        if let inode, inode != self.inode {
            Platform.closeDescriptor(fd)
            return nil
        }
        self.offset = offset
        lastMicros = Self.lastMicros(fd, before: offset)
    }

    /// The time of the last whole record before `offset`, 0 when there is none: where a follow
    /// that starts mid-file stands in time.
    private static func lastMicros(_ fd: Int32, before offset: Int) -> Int64 {
        guard offset > 0 else { return 0 }
        // A record is at most 64 KiB of text plus its header.
        let start = max(0, offset - 70 * 1024)
        var bytes = [UInt8](repeating: 0, count: offset - start)
        let count = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, off_t(start)) }
        guard count > 0 else { return 0 }
        let lines = bytes[0..<count].split(separator: 0x0A, omittingEmptySubsequences: true)
        for line in lines.reversed() {
            if let record = LogRecord(line: line) { return record.micros }
        }
        return 0
    }

    /// The whole records written since the last call, at most about `limit` bytes of them: a
    /// writer that stays ahead of the reader must not keep it from returning (a follow printed
    /// nothing, missed its `--until` and grew without bound).
    package func readAvailable(limit: Int = 16 * LogReader.blockSize) -> [LogRecord] {
        var records: [LogRecord] = []
        var block = [UInt8](repeating: 0, count: LogReader.blockSize)
        var read = 0
        while read < limit {
            let count = block.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, off_t(offset)) }
            if count <= 0 { break }
            offset += count
            read += count
            pending.append(contentsOf: block[0..<count])
            var lineStart = 0
            while let newline = pending[lineStart...].firstIndex(of: 0x0A) {
                if let record = LogRecord(line: pending[lineStart..<newline]) {
                    records.append(record)
                    lastMicros = record.micros
                }
                lineStart = newline + 1
            }
            pending.removeFirst(lineStart)
            if count < block.count { break }
        }
        return records
    }

    /// Whether the file still has a name; false once a rotation or a user deleted it.
    package var isLinked: Bool { Platform.isLinked(fd) }

    package func close() {
        Platform.closeDescriptor(fd)
    }
}
