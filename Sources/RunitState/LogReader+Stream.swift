import RunitKit

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Every record of a log that passes a query, oldest first, in batches: for `runit logs
/// --lines 0`, which may show a whole log of gigabytes. The files are read forward in blocks;
/// only a block and a batch are held at once, so memory stays flat however long the log.
extension LogReader {
    /// Calls `visit` with each batch of records that pass `query` (a block's worth), oldest
    /// first, up to `end` (every file when nil), until it returns false. A record still being
    /// written (no newline yet) is left out, as a tail leaves it. A line written in pieces is
    /// never split between two batches (up to 1,000 pieces), so a printer can join it.
    public func stream(_ query: LogQuery, end: LogCursor? = nil, blockSize: Int = 1 << 20, _ visit: ([LogRecord]) -> Bool) {
        var all = files()
        if let end, let index = all.firstIndex(where: { $0.inode == end.inode }) { all = Array(all[...index]) }
        let search = query.pattern.map { LogSearch($0, isCancelled: query.isCancelled ?? { false }) }
        var held: [LogRecord] = []
        for file in all {
            let size = file.inode == end?.inode ? end?.offset : nil
            let going = Self.forward(file.path, size: size, blockSize: blockSize) { base, count in
                if query.isCancelled?() == true { return false }
                var batch = held
                held = []
                if let search {
                    for line in search.matchingLines(base, count: count) {
                        if let record = LogRecord(line: LogSearch.bytes(base, line)), query.admits(record) {
                            batch.append(record)
                        }
                    }
                } else {
                    var start = 0
                    while start < count {
                        let end = LogSearch.newline(base, from: start, count)
                        if let record = LogRecord(line: LogSearch.bytes(base, start..<end)), query.admits(record) {
                            batch.append(record)
                        }
                        start = end + 1
                    }
                    // The pieces of a line still open at the block's end wait for their rest.
                    let open = batch.count - (batch.lastIndex { !$0.continued }.map { $0 + 1 } ?? 0)
                    if open > 0 && open <= 1000 {
                        held = Array(batch.suffix(open))
                        batch.removeLast(open)
                    }
                }
                return batch.isEmpty || visit(batch)
            }
            if !going { return }
        }
        if !held.isEmpty { _ = visit(held) }
    }

    /// Calls `body` with each block of whole lines of `path` (up to `size` bytes), oldest
    /// first, until it returns false (then returns false). A run of over 1 MiB without a
    /// newline is not a record, and is let go.
    package static func forward(
        _ path: String, size: Int?, blockSize: Int = 1 << 20, _ body: (UnsafeMutablePointer<UInt8>, Int) -> Bool
    ) -> Bool {
        let fd = (try? Platform.openRegular(path, O_RDONLY).get()) ?? -1
        guard fd >= 0 else { return true }
        defer { Platform.closeDescriptor(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { return true }
        let limit = min(Int(info.st_size), size ?? Int.max)
        let buffer = UnsafeMutablePointer<UInt8>.allocate(capacity: blockSize + LogSearch.carryLimit)
        defer { buffer.deallocate() }
        var carried = 0
        var position = 0
        while position < limit {
            let count = pread(fd, buffer + carried, min(blockSize, limit - position), off_t(position))
            guard count > 0 else { break }
            position += count
            let total = carried + count
            guard let last = LogSearch.lastNewline(buffer, total) else {
                carried = total <= LogSearch.carryLimit ? total : 0
                continue
            }
            if !body(buffer, last + 1) { return false }
            carried = total - (last + 1)
            if carried > LogSearch.carryLimit { carried = 0 }
            memmove(buffer, buffer + last + 1, carried)
        }
        return true
    }
}
