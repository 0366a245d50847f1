import RunitKit

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// One process's log read as it grows, across rotations and restarts.
///
/// The file being read stays open, so a rotation (even one that deletes it, as `--log-keep 0`
/// does) loses nothing that was written to it before the next file is taken.
package final class LogTailer {
    private let reader: LogReader
    private var file: OpenLog?
    /// Where to begin, until a file could be opened there (with every descriptor in use, none can).
    private var start: LogCursor?
    /// The inode of the process's directory when the tailer began; another one (or none) at
    /// that path means the process was removed, and perhaps started again under its name.
    private let directoryInode: UInt64?

    /// A tailer from `cursor` (from the oldest record when nil, or when its file is gone).
    package init(_ reader: LogReader, from cursor: LogCursor?) {
        self.reader = reader
        directoryInode = Self.inode(reader.paths.directory)
        start = cursor
        file = reader.openNext(after: nil, cursor: cursor)
    }

    deinit {
        file?.close()
    }

    /// Whether the process's directory is gone or is another one: what is left to read of the
    /// old one is still returned by ``readNew()``.
    package var isReplaced: Bool {
        directoryInode == nil || Self.inode(reader.paths.directory) != directoryInode
    }

    /// The whole records written since the last call; empty when there is nothing new. When
    /// the file was rotated away, what was left in it comes first, then the next file's.
    package func readNew() -> [LogRecord] {
        while true {
            guard let open = file else {
                file = reader.openNext(after: nil, cursor: start)
                if file == nil { return [] }
                continue
            }
            let records = open.readAvailable()
            if !records.isEmpty { return records }
            // Nothing new: if the file was rotated away (or deleted), drain it and take the next.
            // A cheap look first: while it is still the current log, there is nothing to list.
            var info = stat()
            if stat(reader.paths.currentLog, &info) == 0, UInt64(info.st_ino) == open.inode, open.isLinked { return [] }
            let all = reader.settledFiles()
            guard let current = all.last, current.path == reader.paths.currentLog,
                current.inode != open.inode || !open.isLinked
            else { return [] }
            // Rotated: what was written to it before the rotation first, a batch at a time; once
            // it has nothing left, the next file.
            let remaining = open.readAvailable()
            if !remaining.isEmpty { return remaining }
            // No next file yet (a listing out of date): keep this one, drained, and look again later.
            guard let next = reader.openNext(after: open) else { return [] }
            file = next
            open.close()
        }
    }

    private static func inode(_ path: String) -> UInt64? {
        var info = stat()
        return stat(path, &info) == 0 ? UInt64(info.st_ino) : nil
    }
}
