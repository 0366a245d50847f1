import Foundation
import RunitCore
import RunitKit

/// One run of `runit top`: a single-threaded poll loop over the keys, the state files' changes
/// (inotify), a pipe that wakes it (a resize, an action's end) and a one-second clock for the
/// CPU and memory. Restarts, stops and starts run on other threads, so the view keeps moving.
public final class TopSession {
    private let registry: Registry
    private let colors: Bool
    private var state = TopState()
    private var cursors: [String: LogCursor] = [:]
    /// The process directory and each process's own (status and spec); then their logs.
    private var statusWatcher = DirectoryWatcher(paths: [])
    private var logWatcher = DirectoryWatcher(paths: [])
    private var watched: Set<String>?
    private let wakeRead: Int32
    private let wakeWrite: Int32
    private let results: TopResults
    private var pendingInput: [UInt8] = []
    /// When bytes that may begin a longer key (an `ESC`) stop waiting for the rest of it.
    private var escapeDeadline: Int64 = 0
    private var shown: [String] = []
    private var shownSize = (width: 0, height: 0)
    private var lastSample: Int64 = 0
    private var lastRefresh: Int64 = 0
    private var messageUntil: Int64 = 0

    /// How long a message about an action stays at the bottom.
    static let messageMillis: Int64 = 5000
    /// How long an `ESC` waits for the rest of an arrow's sequence.
    static let escapeMillis: Int64 = 40
    /// The shortest time between two reads of the files on their changes: a process that
    /// prints without pause is shown ten times a second, not on every write.
    static let refreshMillis: Int64 = 100
    /// How far behind its log's end a process may be for its new records to be read one by one;
    /// further, only the end is read (a process that floods its log costs top little).
    static let skipBytes = 256 * 1024
    /// The time between two samples of CPU and memory.
    static let sampleMillis: Int64 = 1000

    public init(registry: Registry, colors: Bool) throws(RunitError) {
        self.registry = registry
        self.colors = colors
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else {
            throw RunitError(.failed, "cannot make a pipe: \(Platform.describe(errno: Platform.lastError))")
        }
        for fd in fds {
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        }
        wakeRead = fds[0]
        wakeWrite = fds[1]
        results = TopResults(wake: fds[1])
    }

    deinit {
        results.close()
        statusWatcher.close()
        logWatcher.close()
        Platform.closeDescriptor(wakeRead)
        Platform.closeDescriptor(wakeWrite)
    }

    /// Runs until `q`, Ctrl-C or the end of the input; the terminal is restored on the way out.
    public func run() throws {
        try load()
        try TopTerminal.enter(wake: wakeWrite)
        defer { TopTerminal.leave() }
        draw()
        var nextSample = Platform.monotonicMillis() + Self.sampleMillis
        // What changed on disk since the last read; while any is pending, the watchers are not
        // polled (their events wait in the kernel) until the next read is due.
        var statusChanged = false
        var logsChanged = false
        while true {
            let pending = statusChanged || logsChanged
            var deadline = nextSample
            if pending { deadline = min(deadline, lastRefresh + Self.refreshMillis) }
            if state.message != nil { deadline = min(deadline, messageUntil) }
            if !pendingInput.isEmpty { deadline = min(deadline, escapeDeadline) }
            var fds = [
                pollfd(fd: 0, events: Int16(POLLIN), revents: 0),
                pollfd(fd: wakeRead, events: Int16(POLLIN), revents: 0),
                pollfd(fd: pending ? -1 : statusWatcher.descriptor, events: Int16(POLLIN), revents: 0),
                pollfd(fd: pending ? -1 : logWatcher.descriptor, events: Int16(POLLIN), revents: 0),
            ]
            let timeout = Int32(clamping: max(0, deadline - Platform.monotonicMillis()))
            let ready = poll(&fds, nfds_t(fds.count), timeout)
            if ready < 0 && Platform.lastError != EINTR {
                throw RunitError(.failed, "cannot wait for input: \(Platform.describe(errno: Platform.lastError))")
            }
            let readable = fds.map { ready > 0 && $0.revents != 0 }
            var redraw = ready < 0  // A signal: maybe a resize.
            guard let keys = readKeys(available: readable[0]) else { return }
            for key in keys {
                redraw = true
                guard let action = state.handle(key) else { continue }
                switch action {
                case .quit: return
                case .redraw: shown = []
                case .suspend:
                    try TopTerminal.suspend()
                    shown = []
                default: perform(action)
                }
            }
            // An action that ended has changed the files: they are read at once, so that the
            // table agrees with its message (and the next `s` knows what it acts on).
            var actionEnded = false
            if readable[1] {
                drain(wakeRead)
                for message in results.take() {
                    show(message)
                    actionEnded = true
                }
                redraw = true
            }
            if readable[2] {
                statusWatcher.wait(timeoutMillis: 0)
                statusChanged = true
            }
            if readable[3] {
                logWatcher.wait(timeoutMillis: 0)
                logsChanged = true
            }
            let now = Platform.monotonicMillis()
            var refreshed = true
            if now >= nextSample {
                refresh(reports: true, withMetrics: true, logs: true)
                nextSample = now + Self.sampleMillis
            } else if actionEnded || ((statusChanged || logsChanged) && now >= lastRefresh + Self.refreshMillis) {
                refresh(reports: statusChanged || actionEnded, withMetrics: false, logs: logsChanged || actionEnded)
            } else {
                refreshed = false
            }
            if refreshed {
                (statusChanged, logsChanged) = (false, false)
                redraw = true
            }
            if state.message != nil && now >= messageUntil {
                state.message = nil
                redraw = true
            }
            if redraw { draw() }
        }
    }

    /// The keys typed since the last call (none when nothing came); nil at the end of the input
    /// (the terminal hung up). Bytes that may begin a longer key wait for the rest, up to
    /// ``escapeMillis``; then they stand for themselves (a lone `ESC` is the Escape key).
    private func readKeys(available: Bool) -> [TopKey]? {
        var keys: [TopKey] = []
        if available {
            var buffer = [UInt8](repeating: 0, count: 1024)
            let count = buffer.withUnsafeMutableBytes { read(0, $0.baseAddress, $0.count) }
            if count == 0 || (count < 0 && Platform.lastError != EINTR && Platform.lastError != EAGAIN) { return nil }
            if count > 0 {
                if pendingInput.isEmpty { escapeDeadline = Platform.monotonicMillis() + Self.escapeMillis }
                pendingInput += buffer.prefix(count)
            }
            (keys, pendingInput) = TopKeys.decode(pendingInput)
        }
        if !pendingInput.isEmpty && Platform.monotonicMillis() >= escapeDeadline {
            let (more, _) = TopKeys.decode(pendingInput, final: true)
            keys += more
            pendingInput = []
        }
        return keys
    }

    /// The first look: every report with its metrics, and the end of every log.
    private func load() throws(RunitError) {
        let reports = try registry.reports(withMetrics: true)
        lastSample = Platform.monotonicMillis()
        state.update(reports: reports, elapsedSeconds: nil)
        for report in reports { readTail(of: report.name) }
        watch(reports.map(\.name))
    }

    /// Reads the files again: the reports (with CPU and memory for `withMetrics`), and the new
    /// log records.
    private func refresh(reports: Bool, withMetrics: Bool, logs: Bool) {
        lastRefresh = Platform.monotonicMillis()
        if reports {
            do throws(RunitError) {
                let fresh = try registry.reports(withMetrics: withMetrics)
                var elapsed: Double?
                if withMetrics {
                    elapsed = Double(lastRefresh - lastSample) / 1000
                    lastSample = lastRefresh
                }
                state.update(reports: fresh, elapsedSeconds: elapsed)
            } catch {
                // The state directory became unsafe or unreadable: said at the bottom, the last
                // table kept, and tried again on the next change or second.
                show("runit: " + error.message)
            }
        }
        let names = state.rows.map(\.name)
        // A process just added has its log read from the start.
        if logs || Set(names) != watched {
            cursors = cursors.filter { names.contains($0.key) }
            let behind = names.filter(isFarBehind)
            for name in behind { readTail(of: name) }
            let rest = names.filter { !behind.contains($0) }
            state.append(registry.readNew(from: &cursors, names: rest, query: LogQuery()))
        }
        watch(names)
    }

    /// Whether a log has moved on so far since it was read (a rotation, or more than ``skipBytes``)
    /// that only its end is worth reading: top keeps the last ``TopState/logLimit`` records.
    private func isFarBehind(_ name: String) -> Bool {
        guard let cursor = cursors[name], let end = try? registry.logReader(name).endCursor() else { return false }
        return end.inode != cursor.inode || end.offset - cursor.offset > Self.skipBytes
    }

    /// Reads the last records of a log, up to its end now, in place of those kept.
    private func readTail(of name: String) {
        guard let reader = try? registry.logReader(name) else { return }
        let end = reader.endCursor() ?? LogCursor(inode: 0, offset: 0)
        cursors[name] = end
        state.setLog(reader.tail(LogQuery(lines: TopState.logLimit), end: end).records, of: name)
    }

    /// Watches the process directory (a process added or removed) and each process's own
    /// directory (its status and spec, replaced on each change), and apart from them each
    /// process's logs; again when the names change.
    private func watch(_ names: [String]) {
        guard Set(names) != watched else { return }
        statusWatcher.close()
        logWatcher.close()
        var directories = [registry.context.processesDirectory]
        var logs: [String] = []
        for name in names {
            guard let valid = ProcessName(name) else { continue }
            let paths = registry.context.paths(valid)
            directories.append(paths.directory)
            logs.append(paths.logs)
        }
        statusWatcher = DirectoryWatcher(paths: directories)
        logWatcher = DirectoryWatcher(paths: logs)
        watched = Set(names)
    }

    /// Starts what an action asks for on another thread; its outcome comes back as a message.
    private func perform(_ action: TopAction) {
        let registry = registry
        let results = results
        switch action {
        case .restart(let name):
            show("restarting \(name)…")
            DispatchQueue.global().async { results.post(TopResults.restart(name, registry)) }
        case .stop(let name):
            show("stopping \(name)…")
            DispatchQueue.global().async { results.post(TopResults.stop(name, registry)) }
        case .start(let name):
            show("starting \(name)…")
            DispatchQueue.global().async { results.post(TopResults.start(name, registry)) }
        case .quit, .redraw, .suspend: break
        }
    }

    private func show(_ message: String) {
        state.message = message
        messageUntil = Platform.monotonicMillis() + Self.messageMillis
    }

    /// Draws the lines that changed since the last frame; all of them after a resize.
    private func draw() {
        let size = TopTerminal.size()
        if size != shownSize {
            shown = []
            shownSize = size
        }
        let screen = TopScreen(width: size.width, height: size.height, colors: colors)
        state.fitLog(paneLines: screen.logPaneLines(state))
        let lines = screen.render(state)
        var out = shown.isEmpty ? "\u{1B}[0m\u{1B}[2J" : ""
        for (row, line) in lines.enumerated() where row >= shown.count || shown[row] != line {
            out += "\u{1B}[\(row + 1);1H\u{1B}[2K" + line
        }
        shown = lines
        guard !out.isEmpty else { return }
        TopTerminal.write(out)
    }

    private func drain(_ fd: Int32) {
        var buffer = [UInt8](repeating: 0, count: 64)
        while buffer.withUnsafeMutableBytes({ read(fd, $0.baseAddress, $0.count) }) > 0 {}
    }
}
