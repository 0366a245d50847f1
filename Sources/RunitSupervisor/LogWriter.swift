import CRunitSystem
import RunitKit

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Turns the bytes read from the process's pipes into log records, and writes and rotates the log.
///
/// All buffers are allocated once; the steady state allocates nothing.
struct LogWriter: ~Copyable {
    /// The longest record text; a longer line is split into continued pieces.
    static let maxLine = LogRecord.maxText
    /// How much output is gathered before one write to the log.
    static let writeBatch = 512 * 1024
    /// How long a line without a newline waits before it is written as a partial record.
    static let partialDelayMillis: Int64 = 100

    private let paths: ProcessPaths
    private let maxSize: Int
    private let keep: Int
    private var fd: Int32 = -1
    private var size = 0
    private var output = ByteBatch(capacity: LogWriter.writeBatch + 2 * LogWriter.maxLine)
    /// The batch the writer thread is writing (a heavy writer's), while `output` fills again;
    /// nothing else touches it, or the log's descriptor, until `settle`. Its memory is taken
    /// at the first hand-off.
    private var inflight = ByteBatch(capacity: 0)
    /// Started at the first full batch, so that a process that writes little has no thread.
    private var writer: OpaquePointer?
    private var header: [UInt8] = []
    private var pieceHeader: [UInt8] = []
    private var pending: [[UInt8]] = [[], []]
    private var pendingSince: [Int64] = [0, 0]
    /// Output that could not be written (a full disk): how much, since when, and why. Counted
    /// until a write succeeds again, which a `sys` record saying so precedes.
    private var droppedLines = 0
    private var droppedBytes = 0
    private var droppedSince: Int64 = 0
    private var droppedError: Int32 = 0
    /// Why the log could not be opened the last time, for the client; nil once it was.
    private(set) var problem: String?
    /// `--ready-log`: the pattern a line of the process's own output (never a `sys` record) must match.
    var readiness: LineMatcher?
    /// Set once a line matched `readiness` in this run; the supervisor clears it at each start.
    var readinessMet = false {
        didSet { if !readinessMet { readinessCarry = [[], []] } }
    }
    /// Per stream, the pieces of a line not yet ended that were written as partial records (the
    /// process paused mid-line), so that the whole line is matched when its end comes.
    private var readinessCarry: [[UInt8]] = [[], []]

    init(paths: ProcessPaths, maxSize: Int, keep: Int) {
        self.paths = paths
        self.maxSize = maxSize
        self.keep = keep
        header.reserveCapacity(40)
        pending[0].reserveCapacity(Self.maxLine)
        pending[1].reserveCapacity(Self.maxLine)
    }

    deinit {
        // Ends the thread after the batch it is writing, which reaches the log.
        if let writer { crunit_writer_free(writer) }
        if fd >= 0 { close(fd) }
    }

    /// Opens (or creates) the current log for appending, once at start; false if it cannot be
    /// opened. Also deletes rotated files beyond `keep`, left by an earlier run with a larger
    /// `--log-keep` (a rotation itself never leaves any).
    mutating func open() -> Bool {
        var index = keep + 1
        var misses = 0
        while misses < 2 {
            misses = unlink(paths.rotatedLog(index)) == 0 ? 0 : misses + 1
            index += 1
        }
        guard openCurrent() else { return false }
        cutTornRecord()
        return true
    }

    /// Cuts the log back to its last whole record when it ends inside one (a supervisor killed
    /// mid-write), and says so.
    private mutating func cutTornRecord() {
        let cut = LogRecord.cutTornEnd(fd, size: size)
        guard cut > 0 else { return }
        size -= cut
        system(LogRecord.tornNote(bytes: cut))
    }

    /// Opens (or creates) the current log, and its folder, for appending. A link, a FIFO or any
    /// other thing in the log's place is removed first (never written through); a log folder
    /// that is a link or that others could write to is refused.
    private mutating func openCurrent() -> Bool {
        Platform.makeDirectory(paths.logs)
        if let untrusted = Platform.untrustedDirectory(paths.logs) {
            problem = untrusted
            return false
        }
        for _ in 0..<2 {
            // Read too: `cutTornRecord` reads the end of a log left by a killed supervisor.
            switch Platform.openRegular(paths.currentLog, O_RDWR | O_CREAT | O_APPEND) {
            case .success(let opened):
                fd = opened
                var info = stat()
                size = fstat(fd, &info) == 0 ? Int(info.st_size) : 0
                problem = nil
                return true
            case .failure(.link), .failure(.notRegular): _ = unlink(paths.currentLog)
            case .failure(let failure):
                problem = failure.describe(paths.currentLog)
                return false
            }
        }
        problem = "cannot replace \(paths.currentLog) with a regular file"
        return false
    }

    /// The earliest moment a partial line must be written, or nil when none waits.
    var partialDeadline: Int64? {
        var deadline: Int64?
        for index in 0..<2 where !pending[index].isEmpty {
            let due = pendingSince[index] + Self.partialDelayMillis
            deadline = min(deadline ?? due, due)
        }
        return deadline
    }

    /// Splits `bytes`, read from `stream`, into records; keeps an unfinished line pending.
    mutating func take(_ bytes: UnsafeRawBufferPointer, stream: LogStream) {
        let index = stream == .err ? 1 : 0
        let micros = Platform.nowMicros()
        header.removeAll(keepingCapacity: true)
        LogRecord.appendHeader(micros: micros, stream: stream, continued: false, to: &header)
        let header = self.header
        header.withUnsafeBytes { split(bytes, header: $0, index: index, stream: stream, micros: micros) }
    }

    private mutating func split(
        _ bytes: UnsafeRawBufferPointer, header: UnsafeRawBufferPointer, index: Int, stream: LogStream, micros: Int64
    ) {
        var start = 0
        let count = bytes.count
        while start < count {
            guard let newline = memchr(bytes.baseAddress! + start, 0x0A, count - start) else {
                appendPending(
                    UnsafeRawBufferPointer(rebasing: bytes[start..<count]), index: index, stream: stream, micros: micros)
                break
            }
            let end = bytes.baseAddress!.distance(to: UnsafeRawPointer(newline))
            if pending[index].isEmpty && end - start <= Self.maxLine {
                output.append(header)
                output.append(UnsafeRawBufferPointer(rebasing: bytes[start..<end]))
                output.append(0x0A)
                if !readinessMet && readiness != nil {
                    checkReadiness(UnsafeRawBufferPointer(rebasing: bytes[start..<end]), index: index, lineEnds: true)
                }
            } else {
                appendPending(UnsafeRawBufferPointer(rebasing: bytes[start..<end]), index: index, stream: stream, micros: micros)
                emitPending(index: index, stream: stream, continued: false, micros: micros)
            }
            start = end + 1
            // Flush at the size limit too, so that a rotated file ends within a line of it.
            if size + inflight.count + output.count >= maxSize {
                flush()
            } else if output.count >= Self.writeBatch {
                flush(handOff: true)
            }
        }
    }

    /// Writes any partial line that has waited long enough (or all of them, when `force`).
    mutating func flushPartials(now: Int64, force: Bool) {
        for index in 0..<2 where !pending[index].isEmpty {
            if force || now >= pendingSince[index] + Self.partialDelayMillis {
                emitPending(index: index, stream: index == 0 ? .out : .err, continued: true, micros: Platform.nowMicros())
            }
        }
        flush()
    }

    /// Writes a line of runit's own (a start, a signal sent, the end of input). A partial line
    /// that has waited its delay goes first, as it would have anyway; a younger one stays
    /// pending, so that a note never cuts a line the process is still writing in pieces (an
    /// unbuffered Python prints `read last` as `read`, ` `, `last`, `\n`). At an exit the
    /// supervisor writes every partial line before the exit's record.
    mutating func system(_ text: String) {
        flushPartials(now: Platform.monotonicMillis(), force: false)
        var record: [UInt8] = []
        LogRecord(micros: Platform.nowMicros(), stream: .sys, text: Array(text.utf8)).append(to: &record)
        output.append(record)
        flush()
    }

    /// Writes the composed records to the file, rotating it when it passes the size limit.
    ///
    /// With `handOff`, a batch of a heavy writer's output goes to the writer thread instead, which
    /// copies it into the file while this thread reads and composes the next: the two copies, out
    /// of the pipe and into the page cache, then run on two cores. Only a batch of at least
    /// `handOffMinimum` goes, and the thread is started at the first full batch.
    mutating func flush(handOff: Bool = false) {
        settle()
        // With nothing to write, still tell what a full disk dropped once there is room, so that
        // the record comes before a `sys` record composed next, in time order.
        guard !output.isEmpty || droppedLines > 0 else { return }
        // A deleted log (or folder), or one that failed to open at a rotation, would swallow
        // every line until the next rotation: open a new one first. One fstat per batch.
        if fd < 0 || !Platform.isLinked(fd) {
            if fd >= 0 { close(fd) }
            fd = -1
            _ = openCurrent()
        }
        if fd >= 0 && droppedLines > 0 { reportDropped() }
        guard !output.isEmpty else { return }
        if fd >= 0 && droppedLines == 0 && handOff, let writer = handOffWriter() {
            swap(&output, &inflight)
            crunit_writer_post(writer, fd, inflight.base, UInt(inflight.count))
            holdsBatchMemory = true
            return
        }
        let failure = fd < 0 ? ENOENT : droppedLines > 0 ? droppedError : write(output.bytes)
        account(output.bytes, failure)
        output.removeAll()
    }

    /// Counts a batch as written, or as dropped with `failure`, and rotates the log once it
    /// passed the size limit.
    private mutating func account(_ batch: UnsafeRawBufferPointer, _ failure: Int32) {
        if failure == 0 {
            size += batch.count
        } else {
            drop(batch, failure)
        }
        if size >= maxSize { rotate() }
    }

    /// Whether the batches hold a heavy writer's output in memory that, once the supervisor is
    /// idle, it can give back (`releaseBatchMemory`).
    private(set) var holdsBatchMemory = false

    /// Waits for the writer thread, then gives the batches' pages back to the system.
    mutating func releaseBatchMemory() {
        flush()
        output.releasePages()
        inflight.releasePages()
        holdsBatchMemory = false
    }

    /// The least output worth handing to the writer thread rather than writing at once.
    static let handOffMinimum = 64 * 1024

    /// The writer thread, when this batch should go to it: started at the first full batch.
    private mutating func handOffWriter() -> OpaquePointer? {
        if writer == nil && output.count >= Self.writeBatch, let started = crunit_writer_new() {
            writer = started
            inflight = ByteBatch(capacity: Self.writeBatch + 2 * Self.maxLine)
        }
        return output.count >= Self.handOffMinimum ? writer : nil
    }

    /// Waits for the batch the writer thread is writing, and counts it as written (or, if the
    /// write failed, cuts the file back and counts it as dropped), rotating the log when it
    /// passed the size limit. Everything that reads or changes the log's file comes after it.
    /// A batch is in flight exactly while `inflight` holds bytes.
    mutating func settle() {
        guard !inflight.isEmpty, let writer else { return }
        let failure = crunit_writer_wait(writer)
        if failure != 0 { _ = ftruncate(fd, off_t(size)) }
        account(inflight.bytes, failure)
        inflight.removeAll()
    }

    /// Appends whole records to the log, or nothing: a write cut short (a full disk) is cut back
    /// to the end of the last whole record, so the next write never merges into a torn one.
    /// Returns 0, or the errno of the failed write.
    private func write(_ bytes: UnsafeRawBufferPointer) -> Int32 {
        if Platform.writeAll(fd, bytes) { return 0 }
        let failure = crunit_errno()
        _ = ftruncate(fd, off_t(size))
        return failure
    }

    /// Counts records that could not be written.
    private mutating func drop(_ bytes: UnsafeRawBufferPointer, _ failure: Int32) {
        if droppedLines == 0 {
            droppedSince = Platform.nowMicros()
            droppedError = failure
        }
        var lines = 0
        for byte in bytes where byte == 0x0A { lines += 1 }
        droppedLines += lines
        droppedBytes += bytes.count
    }

    /// Writes the `sys` record that says what was dropped, once the log takes writes again.
    private mutating func reportDropped() {
        let text =
            "dropped \(droppedLines) lines (\(droppedBytes) bytes) of output written from "
            + "\(Timestamp.string(micros: droppedSince)) on: \(Platform.describe(errno: droppedError))"
        // It goes before the batch composed while the disk was full, so it takes no later a time
        // than that batch's first record: the times in a log never go back.
        var micros = Platform.nowMicros()
        if output.count >= Timestamp.width, let first = Timestamp.parse(Array(output.bytes.prefix(Timestamp.width))) {
            micros = min(micros, first)
        }
        var record: [UInt8] = []
        LogRecord(micros: micros, stream: .sys, text: Array(text.utf8)).append(to: &record)
        guard record.withUnsafeBytes({ write($0) }) == 0 else { return }
        size += record.count
        droppedLines = 0
        droppedBytes = 0
    }

    private mutating func appendPending(_ bytes: UnsafeRawBufferPointer, index: Int, stream: LogStream, micros: Int64) {
        var rest = bytes
        while !rest.isEmpty {
            if pending[index].isEmpty { pendingSince[index] = Platform.monotonicMillis() }
            let room = Self.maxLine - pending[index].count
            let take = min(room, rest.count)
            pending[index].append(
                contentsOf: UnsafeRawBufferPointer(rebasing: rest[0..<take]).assumingMemoryBound(to: UInt8.self))
            rest = UnsafeRawBufferPointer(rebasing: rest[take...])
            if pending[index].count == Self.maxLine && !rest.isEmpty {
                emitPending(index: index, stream: stream, continued: true, micros: micros)
            }
        }
    }

    private mutating func emitPending(index: Int, stream: LogStream, continued: Bool, micros: Int64) {
        if !readinessMet && readiness != nil {
            let piece = pending[index]
            piece.withUnsafeBytes { checkReadiness($0, index: index, lineEnds: !continued) }
        }
        pieceHeader.removeAll(keepingCapacity: true)
        LogRecord.appendHeader(micros: micros, stream: stream, continued: continued, to: &pieceHeader)
        output.append(pieceHeader)
        output.append(pending[index])
        output.append(0x0A)
        pending[index].removeAll(keepingCapacity: true)
    }

    /// Matches a line, or a piece of one, against `readiness`: a piece is matched with the pieces
    /// of its line before it (up to the matcher's limit), and kept until its line ends.
    private mutating func checkReadiness(_ bytes: UnsafeRawBufferPointer, index: Int, lineEnds: Bool) {
        if readinessCarry[index].isEmpty {
            readinessMet = readiness!.matches(bytes, lineEnds: lineEnds)
            if !lineEnds && !readinessMet {
                readinessCarry[index].append(contentsOf: bytes.prefix(LineMatcher.lineLimit + 1))
            }
            return
        }
        let room = max(0, LineMatcher.lineLimit + 1 - readinessCarry[index].count)
        readinessCarry[index].append(contentsOf: bytes.prefix(room))
        readinessMet = readinessCarry[index].withUnsafeBytes { readiness!.matches($0, lineEnds: lineEnds) }
        if lineEnds || readinessMet { readinessCarry[index].removeAll() }
    }

    /// Renames current → previous.1 → previous.2 …, dropping the oldest beyond `keep`.
    private mutating func rotate() {
        if fd >= 0 { close(fd) }
        fd = -1
        if keep == 0 {
            unlink(paths.currentLog)
        } else {
            unlink(paths.rotatedLog(keep))
            var index = keep - 1
            while index >= 1 {
                rename(paths.rotatedLog(index), paths.rotatedLog(index + 1))
                index -= 1
            }
            rename(paths.currentLog, paths.rotatedLog(1))
        }
        size = 0
        _ = openCurrent()
    }
}
