import ArgumentParser
import Foundation
import RunitCore
import RunitKit

/// `runit top`: a live view of every process and its log, with keys to act on them.
struct TopCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "top",
        abstract: "A live view of the processes and their logs, with keys to restart, stop and start them.",
        discussion: """
            Keys: ↑/k and ↓/j select, enter shows the selected process's log (again: every log), r restarts, \
            s stops or starts, / filters by name, ? shows the keys, q quits. It updates when the processes' \
            files change and refreshes CPU and memory every second. NO_COLOR turns colours off.
            """
    )

    func run() throws {
        let registry = Registry(context: .fromEnvironment())
        try registry.checkHome()
        guard TopTerminal.enter() else {
            throw RunitError(.invalidInput, "runit top needs a terminal on stdin and stdout; use 'runit list' or 'runit logs -f'")
        }
        defer { TopTerminal.leave() }
        var loop = TopLoop(registry: registry)
        loop.run()
    }
}

/// The loop of `runit top`: waits for a key, a change of the processes' files, a signal or the
/// next second, then draws the frame again.
struct TopLoop {
    let registry: Registry
    var view = TopView()
    var selectedName: String?
    var samples: [String: (cpu: Double, at: Double)] = [:]
    var watched: [String] = []
    var watcher: DirectoryWatcher?
    let actions = ActionResults()

    static let refreshMillis: Int64 = 1000
    static let frameMillis: Int64 = 100

    init(registry: Registry) {
        self.registry = registry
        view.colours = (ProcessInfo.processInfo.environment["NO_COLOR"] ?? "").isEmpty
    }

    mutating func run() {
        var lastRefresh: Int64 = 0
        var dirty = true
        while TopTerminal.quitSignal == 0 {
            let now = Platform.monotonicMillis()
            if dirty || now - lastRefresh >= Self.refreshMillis {
                refresh()
                lastRefresh = now
                dirty = false
                TopTerminal.write(TopScreen.render(view))
            }
            let wait = Int32(clamping: max(0, lastRefresh + Self.refreshMillis - Platform.monotonicMillis()))
            var fds = [
                pollfd(fd: 0, events: Int16(POLLIN), revents: 0),
                pollfd(fd: TopTerminal.wakeRead, events: Int16(POLLIN), revents: 0),
                pollfd(fd: watcher?.descriptor ?? -1, events: Int16(POLLIN), revents: 0),
            ]
            guard poll(&fds, 3, wait) >= 0 || errno == EINTR else { return }
            if fds[1].revents != 0 {
                var buffer = [UInt8](repeating: 0, count: 64)
                _ = read(TopTerminal.wakeRead, &buffer, buffer.count)
                if let message = actions.take() { view.message = message }
                dirty = true
            }
            if TopTerminal.resized != 0 {
                TopTerminal.resized = 0
                TopTerminal.write("\u{1B}[2J")
                dirty = true
            }
            if fds[2].revents != 0 {
                watcher?.wait(timeoutMillis: 0)
                // Changes come in bursts (a log being written): at most one frame every 100 ms.
                usleep(UInt32(Self.frameMillis * 1000))
                dirty = true
            }
            if fds[0].revents & Int16(POLLIN) != 0 {
                var buffer = [UInt8](repeating: 0, count: 256)
                let count = read(0, &buffer, buffer.count)
                if count <= 0 { return }
                for key in TopKey.decode(Array(buffer[0..<count])) {
                    guard handle(key) else { return }
                }
                dirty = true
            } else if fds[0].revents != 0 {
                return  // The terminal is gone.
            }
        }
    }

    /// Reads the processes, their metrics and the log lines for the pane.
    mutating func refresh() {
        let size = TopTerminal.size()
        (view.columns, view.lines) = size
        let reports = (try? registry.reports(withMetrics: true)) ?? []
        let now = Date().timeIntervalSince1970
        var rows: [TopRow] = []
        var seen: [String: (cpu: Double, at: Double)] = [:]
        for report in reports {
            var percent: Double?
            if let cpu = report.cpuSeconds {
                if let before = samples[report.name], now > before.at, cpu >= before.cpu {
                    percent = (cpu - before.cpu) / (now - before.at) * 100
                }
                seen[report.name] = (cpu, now)
            }
            var last = LogQuery(lines: 1)
            last.ownOutput = true
            let line = (try? registry.logReader(report.name).tail(last).records.last).flatMap { $0 }
            rows.append(
                TopRow(
                    name: report.name, project: report.project, state: report.state.rawValue,
                    health: report.health?.status ?? "", pid: report.pid, ports: report.ports, cpuPercent: percent,
                    memoryBytes: report.memoryBytes, restarts: report.restarts, uptimeSeconds: report.uptimeSeconds,
                    lastLine: line.map { LogText.clean($0.textString) } ?? ""))
        }
        samples = seen
        view.rows = rows
        select(selectedName)
        if view.focused.map({ name in !rows.contains { $0.name == name } }) == true { view.focused = nil }
        view.logLines = logLines(room: max(1, view.lines))
        watch(rows.map(\.name))
    }

    /// The last `room` lines for the pane: the focused process's, or every process's by time.
    func logLines(room: Int) -> [String] {
        let query = LogQuery(lines: room)
        if let focused = view.focused {
            let records = (try? registry.logReader(focused).tail(query).records) ?? []
            return records.map { Self.text($0) }
        }
        let merged = (try? registry.tailAll(query)) ?? []
        let width = min(16, merged.map(\.name.count).max() ?? 0)
        return merged.map { TopScreen.cell($0.name, width + 1) + Self.text($0.record) }
    }

    static func text(_ record: LogRecord) -> String {
        let line = LogText.clean(record.textString)
        return record.stream == .sys ? "── \(line) ──" : line
    }

    /// Watches the folder of processes, and each one's folder and logs.
    mutating func watch(_ names: [String]) {
        guard names != watched || watcher == nil else { return }
        watcher?.close()
        let home = registry.context.home
        var paths = [registry.context.processesDirectory]
        for name in names {
            let process = ProcessPaths(home: home, name: name)
            paths += [process.directory, process.logs]
        }
        watcher = DirectoryWatcher(paths: paths)
        watched = names
    }

    mutating func select(_ name: String?) {
        let visible = view.visibleRows
        if let name, let index = visible.firstIndex(where: { $0.name == name }) {
            view.selected = index
        } else {
            view.selected = min(view.selected, max(0, visible.count - 1))
        }
        selectedName = view.selectedName
    }

    /// Acts on a key; false to quit.
    mutating func handle(_ key: TopKey) -> Bool {
        if view.editingFilter {
            switch key {
            case .enter: view.editingFilter = false
            case .escape, .interrupt:
                view.filter = ""
                view.editingFilter = false
            case .backspace: if !view.filter.isEmpty { view.filter.removeLast() }
            case .character(let character): view.filter.append(character)
            default: break
            }
            select(selectedName)
            return true
        }
        switch key {
        case .character("q"), .interrupt: return false
        case .up, .character("k"): move(-1)
        case .down, .character("j"): move(1)
        case .enter: view.focused = view.focused == nil || view.focused != selectedName ? selectedName : nil
        case .escape:
            if view.showHelp { view.showHelp = false } else { view.focused = nil }
        case .character("?"): view.showHelp.toggle()
        case .character("/"):
            view.editingFilter = true
            view.filter = ""
        case .character("r"):
            act("restarting") { registry, name in
                let outcome = try registry.restart(name)
                return "restarted \(name)" + (outcome.snapshot.pid.map { " (pid \($0))" } ?? "")
            }
        case .character("s"):
            let running = view.visibleRows.first { $0.name == selectedName }?.pid != nil
            act(running ? "stopping" : "starting") { registry, name in
                if running {
                    _ = try registry.stop(name)
                    return "stopped \(name)"
                }
                let outcome = try registry.start(StartRequest(name: name, command: nil, argv: nil))
                return outcome.failure.map { "\(name) did not start: \($0)" } ?? "started \(name)"
            }
        default: break
        }
        return true
    }

    mutating func move(_ step: Int) {
        let count = view.visibleRows.count
        guard count > 0 else { return }
        view.selected = min(max(view.selected + step, 0), count - 1)
        selectedName = view.selectedName
    }

    /// Runs an action on the selected process off the loop (a stop may take seconds); its
    /// result shows at the bottom when it is done.
    mutating func act(_ doing: String, _ work: @escaping @Sendable (Registry, String) throws -> String) {
        guard let name = selectedName else { return }
        view.message = "\(doing) \(name)…"
        let registry = registry
        let results = actions
        Thread.detachNewThread {
            let message: String
            do { message = try work(registry, name) } catch let error as RunitError { message = error.message } catch {
                message = "\(error)"
            }
            results.put(message)
            TopTerminal.wake()
        }
    }
}

/// Messages of finished actions, handed from their threads to the loop.
final class ActionResults: @unchecked Sendable {
    private let lock = NSLock()
    private var messages: [String] = []

    func put(_ message: String) {
        lock.lock()
        messages.append(message)
        lock.unlock()
    }

    func take() -> String? {
        lock.lock()
        defer { lock.unlock() }
        return messages.isEmpty ? nil : messages.removeLast()
    }
}
