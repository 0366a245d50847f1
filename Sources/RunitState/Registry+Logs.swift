import RunitKit

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

extension Registry {
    /// The log reader of an existing process.
    public func logReader(_ name: String) throws(RunitError) -> LogReader {
        let snapshot = try existing(name)
        return LogReader(paths: ProcessPaths(home: context.home, name: snapshot.name))
    }

    /// The log reader for a user's request of a process's logs (`runit logs`, MCP's
    /// `get_process_logs`): a log file that is not a regular file (a FIFO, a link, a folder
    /// planted in its place) is refused, saying so; it was read as an empty log. Once per
    /// request, not in the loops that read on (a follow, `top`).
    public func checkedLogReader(_ name: String) throws(RunitError) -> LogReader {
        let reader = try logReader(name)
        for path in [reader.paths.currentLog] + reader.rotatedFiles() {
            var info = stat()
            guard lstat(path, &info) == 0, info.st_mode & S_IFMT != S_IFREG else { continue }
            let shown = ByteText.visible(name)
            throw RunitError(
                .storage,
                "the log of '\(shown)', \(path), is \(Platform.kind(of: info.st_mode)), not a log file: runit "
                    + "reads only regular files; remove it (the next start of '\(shown)' writes a new log)")
        }
        return reader
    }

    /// The cursor at the end of every process's log, for a follow that starts now.
    public func endCursors(only: [String]? = nil) -> [String: LogCursor] {
        var cursors: [String: LogCursor] = [:]
        for name in only ?? (try? names()) ?? [] {
            if let cursor = try? logReader(name).endCursor() { cursors[name] = cursor }
        }
        return cursors
    }

    /// The last `query.lines` records of each of `names`, merged by time, each with its
    /// process's name (as `docker compose logs --tail` counts them); with `ends`, only records
    /// before those cursors. `cut` says whether any process had more than were kept (one more
    /// is read to know it). A process removed meanwhile has nothing to show.
    public func tailAll(_ query: LogQuery, names: [String], ends: [String: LogCursor] = [:]) -> (
        records: [(name: String, record: LogRecord)], cut: Bool
    ) {
        var more = query
        if more.lines < Int.max { more.lines += 1 }
        var merged: [(name: String, record: LogRecord)] = []
        var cut = false
        for name in names {
            guard let reader = try? logReader(name) else { continue }
            var records = reader.tail(more, end: ends[name]).records
            if records.count > query.lines {
                records.removeFirst(records.count - query.lines)
                cut = true
            }
            merged += records.map { (name, $0) }
        }
        merged.sort { $0.record.micros < $1.record.micros }
        return (merged, cut)
    }

    /// The last `count` lines of the process's own output in one run: the run that ended at
    /// `end` (a restart may have begun the next since), or the latest run. A run begins at its
    /// supervisor's `started pid N` record, so no line of an earlier run is mixed in.
    public func runLines(_ name: String, count: Int = 10, endingAt end: Int64? = nil) -> [LogRecord] {
        guard let reader = try? logReader(name) else { return [] }
        var query = LogQuery(lines: max(count, 1) * 4 + 100)
        if let end { query.untilMicros = end + 1 }
        let records = reader.tail(query).records
        let start = records.lastIndex { $0.stream == .sys && $0.text.starts(with: "started pid ".utf8) }
        let run = start.map { records[records.index(after: $0)...] } ?? records[...]
        return Array(LogRecord.joiningPieces(Array(run)).filter { $0.stream != .sys }.suffix(count))
    }

    /// The records of `names` written after their `cursors` (from the start of the log for a name
    /// without one) that pass `query`, merged by time; each cursor moves past what was read. One
    /// step of ``followAll(from:query:until:only:isCancelled:_:)``, for a caller with its own loop.
    public func readNew(from cursors: inout [String: LogCursor], names: [String], query: LogQuery)
        -> [(name: String, record: LogRecord)]
    {
        var batch: [(name: String, record: LogRecord)] = []
        for name in names {
            guard let reader = try? logReader(name) else { continue }
            let (records, next) = reader.read(from: cursors[name] ?? LogCursor(inode: 0, offset: 0), limit: Int.max, query: query)
            cursors[name] = next
            batch += records.map { (name, $0) }
        }
        batch.sort { $0.record.micros < $1.record.micros }
        return batch
    }

    /// Calls `visit` with each batch of records any process writes after `start`, with its name,
    /// until `visit` returns false. Processes started later are picked up too, from their first
    /// record. Each process's log is read by a ``LogTailer`` that holds its file open, so a
    /// rotation loses nothing.
    public func followAll(
        from start: [String: LogCursor], query: LogQuery, until: Int64? = nil, only: [String]? = nil,
        isCancelled: () -> Bool = { false }, _ visit: ([(name: String, record: LogRecord)]) -> Bool
    ) {
        func names() throws(RunitError) -> [String] {
            let every = try self.names()
            guard let only else { return every }
            return every.filter { only.contains($0) }
        }
        var cursors = start
        var tailers: [String: LogTailer] = [:]
        var watcher = DirectoryWatcher(paths: [context.processesDirectory])
        var watched: Set<String>?
        defer { watcher.close() }
        while true {
            let current = (try? names()) ?? []
            if Set(current) != watched {
                watcher.close()
                watcher = DirectoryWatcher(
                    paths: [context.processesDirectory] + current.map { ProcessPaths(home: context.home, name: $0).logs })
                watched = Set(current)
            }
            var batch: [(name: String, record: LogRecord)] = []
            var progressed = false
            for name in current where tailers[name] == nil {
                guard let reader = try? logReader(name) else { continue }
                tailers[name] = LogTailer(reader, from: cursors.removeValue(forKey: name))
            }
            for (name, tailer) in tailers {
                let replaced = tailer.isReplaced
                let records = tailer.readNew()
                // A removed process is let go once all it left is read (a batch at a time); a new
                // one of its name then gets a tailer of its own, from its first record.
                if replaced && records.isEmpty { tailers[name] = nil }
                progressed = progressed || !records.isEmpty || replaced
                batch += records.filter(query.selects).map { (name, $0) }
            }
            if !batch.isEmpty {
                batch.sort { $0.record.micros < $1.record.micros }
                guard visit(batch) else { return }
            }
            // Checked after a busy step too: a process that never stops writing must not keep a
            // follow past its `until`.
            guard let wait = LogReader.followWaitMillis(until: until), !isCancelled() else { return }
            if !progressed { watcher.wait(timeoutMillis: wait) }
        }
    }
}
