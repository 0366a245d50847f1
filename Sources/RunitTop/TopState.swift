import RunitCore
import RunitKit

/// One process as `runit top` shows it: its report, and what top works out from its samples.
struct TopRow: Equatable, Sendable {
    var report: ProcessReport
    /// CPU use since the last sample, in percent of one core; nil before the second sample.
    var cpuPercent: Double?

    var name: String { report.name }
}

/// What a key asks of the command, beyond a change of what is shown.
enum TopAction: Equatable, Sendable {
    case quit
    case restart(String)
    case stop(String)
    case start(String)
    /// The screen may be damaged: draw all of it again.
    case redraw
    /// Stop the program until the shell continues it.
    case suspend
}

/// Everything `runit top` shows, and how keys change it; no terminal and no files, so that
/// it can be tested as a value.
struct TopState: Equatable, Sendable {
    /// How many records of each process's log are kept (and can be scrolled back to).
    static let logLimit = 500
    /// How many lines PgUp and PgDn scroll the log by.
    static let scrollStep = 10

    /// Every process, loose ones first, then each project's, by name (as `runit list`).
    private(set) var rows: [TopRow] = []
    /// The last records of each process's log, oldest first.
    private(set) var logs: [String: [LogRecord]] = [:]
    /// The selected process, by name, so that it stays selected when the list changes.
    private(set) var selected: String?
    /// The process whose log alone is shown; nil for every process's.
    private(set) var focus: String?
    /// The applied name filter; empty for none.
    private(set) var filter = ""
    /// The filter being typed after `/`; nil when not typing.
    private(set) var filterDraft: String?
    /// Whether the keys' help is shown instead of the table and the logs.
    private(set) var showsHelp = false
    /// How many lines the log pane is scrolled back from the newest; 0 follows the log. A line is
    /// a record with the continued pieces it was logged in joined (as the pane shows it).
    private(set) var logScroll = 0
    /// How many lines the log pane has, as last drawn (0 before the first frame): the pane
    /// scrolls back until its first line is the first kept, and no further.
    private(set) var logPaneLines = 0
    /// A line about the last action (`restarted web (pid 42)`), shown at the bottom.
    var message: String?

    /// The rows that pass the filter (the one being typed, while it is typed), in order.
    var visibleRows: [TopRow] {
        let text = (filterDraft ?? filter).lowercased()
        guard !text.isEmpty else { return rows }
        return rows.filter { $0.name.lowercased().contains(text) }
    }

    /// The selected row, when it is shown (a key acts on nothing it cannot see).
    var selectedRow: TopRow? {
        visibleRows.first { $0.name == selected }
    }

    /// The log records to show, oldest first, at most `limit`: the focused process's, or every
    /// shown process's merged by time; ``logScroll`` lines back from the newest, as far as
    /// the kept records go.
    func logLines(limit: Int) -> [(name: String, record: LogRecord)] {
        guard limit > 0 else { return [] }
        let names = shownLogNames
        let wanted = limit + logScroll
        var merged: [(name: String, record: LogRecord)] = []
        for name in names {
            let records = LogRecord.joiningPieces(logs[name] ?? [])
            merged += records.suffix(wanted).map { (name, $0) }
        }
        if names.count > 1 { merged.sort { $0.record.micros < $1.record.micros } }
        let back = min(logScroll, max(0, merged.count - limit))
        return Array(merged.dropLast(back).suffix(limit))
    }

    /// The processes whose logs the pane shows: the focused one, or every shown one.
    private var shownLogNames: [String] {
        focus.map { [$0] } ?? visibleRows.map(\.name)
    }

    /// The last line a process printed (not runit's own records), if any is kept.
    func lastLine(of name: String) -> String? {
        guard let record = logs[name]?.last(where: { $0.stream != .sys }) else { return nil }
        return LogText.clean(record.textString)
    }

    /// Takes a new list of reports. The CPU use of a process whose pid is unchanged comes from
    /// the difference of the CPU seconds over `elapsedSeconds`; a report without metrics (a
    /// refresh on a change of the files, between the samples) keeps the last ones.
    mutating func update(reports: [ProcessReport], elapsedSeconds: Double?) {
        let previous = Dictionary(rows.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        let shownBefore = visibleRows.map(\.name)
        let sorted = reports.sorted { ($0.project ?? "", $0.name) < ($1.project ?? "", $1.name) }
        rows = sorted.map { report in
            var row = TopRow(report: report)
            guard let before = previous[report.name], before.report.pid == report.pid, report.pid != nil else { return row }
            if report.cpuSeconds == nil {
                row.report.cpuSeconds = before.report.cpuSeconds
                row.report.memoryBytes = before.report.memoryBytes
                row.report.processCount = before.report.processCount
                row.cpuPercent = before.cpuPercent
            } else if let now = report.cpuSeconds, let then = before.report.cpuSeconds, let elapsedSeconds,
                elapsedSeconds > 0
            {
                row.cpuPercent = max(0, (now - then) / elapsedSeconds * 100)
            }
            return row
        }
        let names = Set(rows.map(\.name))
        logs = logs.filter { names.contains($0.key) }
        if let focus, !names.contains(focus) { self.focus = nil }
        keepSelectionVisible(shownBefore: shownBefore)
    }

    /// Adds log records as they were read, keeping the last ``logLimit`` of each process. A
    /// scrolled-back pane stays on the lines it shows: it goes back by the lines that were added,
    /// not by the records (a piece that continues a line adds none).
    mutating func append(_ batch: [(name: String, record: LogRecord)]) {
        if logScroll > 0 {
            for name in Set(shownLogNames) {
                let added = batch.filter { $0.name == name }.map(\.record)
                guard !added.isEmpty else { continue }
                let kept = logs[name] ?? []
                logScroll += Self.lineCount(kept + added) - Self.lineCount(kept)
            }
        }
        for (name, record) in batch {
            var records = logs[name] ?? []
            records.append(record)
            if records.count > Self.logLimit { records.removeFirst(records.count - Self.logLimit) }
            logs[name] = records
        }
    }

    /// Replaces a process's kept records (its log's tail, read when top starts).
    mutating func setLog(_ records: [LogRecord], of name: String) {
        logs[name] = Array(records.suffix(Self.logLimit))
    }

    /// Acts on a key: changes what is shown, and returns what the command must do, if anything.
    mutating func handle(_ key: TopKey) -> TopAction? {
        if key == .interrupt { return .quit }
        if key == .redraw { return .redraw }
        if key == .suspend { return .suspend }
        if showsHelp {
            showsHelp = false
            return key == .character("q") ? .quit : nil
        }
        if filterDraft != nil { return editFilter(key) }
        switch key {
        case .character("q"): return .quit
        case .character("?"): showsHelp = true
        case .up, .character("k"): move(by: -1)
        case .down, .character("j"): move(by: 1)
        case .pageUp: scrollLog(by: Self.scrollStep)
        case .pageDown: scrollLog(by: -Self.scrollStep)
        case .character("f"): logScroll = 0
        case .home, .character("g"): move(by: -rows.count)
        case .end, .character("G"): move(by: rows.count)
        case .enter:
            guard let selected = selectedRow?.name else { return nil }
            focus = focus == selected ? nil : selected
            logScroll = 0
        case .escape:
            if logScroll > 0 {
                logScroll = 0
            } else if focus != nil {
                focus = nil
            } else if !filter.isEmpty {
                filter = ""
                keepSelectionVisible()
            }
        case .character("/"): filterDraft = filter
        case .character("r"):
            return selectedRow.map { .restart($0.name) }
        case .character("s"):
            guard let row = selectedRow else { return nil }
            return Self.isUp(row.report.state) ? .stop(row.name) : .start(row.name)
        default: break
        }
        return nil
    }

    /// Whether `s` stops a process in `state` (it runs, or is about to, or was lost running);
    /// otherwise it starts it.
    static func isUp(_ state: DisplayState) -> Bool {
        switch state {
        case .starting, .running, .ready, .unhealthy, .backoff, .stopping, .lost: return true
        case .stopped, .exited, .failed, .unknown: return false
        }
    }

    private mutating func editFilter(_ key: TopKey) -> TopAction? {
        switch key {
        case .enter:
            filter = filterDraft ?? ""
            filterDraft = nil
        case .escape:
            filter = ""
            filterDraft = nil
        case .backspace: filterDraft = String((filterDraft ?? "").dropLast())
        case .character(let character): filterDraft = (filterDraft ?? "") + String(character)
        case .up: move(by: -1)
        case .down: move(by: 1)
        default: break
        }
        keepSelectionVisible()
        return nil
    }

    /// Scrolls the log pane back (a positive `lines`) or forward, from following its end to
    /// as far back as the kept lines go.
    private mutating func scrollLog(by lines: Int) {
        logScroll = min(max(0, logScroll + lines), maxLogScroll)
    }

    /// Takes the log pane's height for the frame about to be drawn (a resize changes it).
    mutating func fitLog(paneLines: Int) {
        logPaneLines = paneLines
        logScroll = min(logScroll, maxLogScroll)
    }

    /// The furthest back the pane goes: its first line the first kept.
    private var maxLogScroll: Int {
        let kept = shownLogNames.reduce(0) { $0 + Self.lineCount(logs[$1] ?? []) }
        return max(0, kept - max(1, logPaneLines))
    }

    /// How many lines the pane shows for `records`: their continued pieces joined.
    private static func lineCount(_ records: [LogRecord]) -> Int {
        LogRecord.joiningPieces(records).count
    }

    private mutating func move(by offset: Int) {
        let names = visibleRows.map(\.name)
        guard !names.isEmpty else {
            selected = nil
            return
        }
        let current = selected.flatMap { names.firstIndex(of: $0) } ?? 0
        selected = names[min(max(current + offset, 0), names.count - 1)]
    }

    /// Selects another shown process when the selected one is no longer shown; while none is
    /// shown, the selection stays, to come back when the filter is cleared. One removed from the
    /// list (`shownBefore`, the rows shown before) gives way to its nearest neighbour still shown,
    /// the next one first, as in a list one deletes from; otherwise the first row is selected.
    private mutating func keepSelectionVisible(shownBefore: [String] = []) {
        let names = visibleRows.map(\.name)
        if names.isEmpty, let selected, rows.contains(where: { $0.name == selected }) { return }
        if let selected, names.contains(selected) { return }
        if let selected, let index = shownBefore.firstIndex(of: selected) {
            let shown = Set(names)
            let after = shownBefore[(index + 1)...].first { shown.contains($0) }
            if let neighbour = after ?? shownBefore[..<index].last(where: { shown.contains($0) }) {
                self.selected = neighbour
                return
            }
        }
        selected = names.first
    }
}
