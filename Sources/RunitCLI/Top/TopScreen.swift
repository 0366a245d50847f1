import Foundation
import RunitCore
import RunitKit

/// One process as `runit top` shows it.
struct TopRow: Equatable {
    var name: String
    var project: String?
    var state: String
    var health: String
    var pid: Int32?
    var ports: [Int]
    var cpuPercent: Double?
    var memoryBytes: Int64?
    var restarts: Int
    var uptimeSeconds: Int?
    var lastLine: String
}

/// What `runit top` shows: everything it needs to draw one frame, and nothing else.
struct TopView {
    var rows: [TopRow] = []
    var selected = 0
    /// The process whose log fills the pane below the table; nil: every process's.
    var focused: String?
    var filter = ""
    /// Typing a filter after `/`.
    var editingFilter = false
    var showHelp = false
    /// The log lines for the pane, oldest first, each `name  text` when showing every process.
    var logLines: [String] = []
    /// A line saying what the last key did.
    var message = ""
    var columns = 80
    var lines = 24
    var colours = true

    /// The rows the filter lets through, loose processes first, then each project's.
    var visibleRows: [TopRow] {
        let matching = filter.isEmpty ? rows : rows.filter { $0.name.localizedCaseInsensitiveContains(filter) }
        return matching.filter { $0.project == nil } + matching.filter { $0.project != nil }
    }

    /// The selected process's name.
    var selectedName: String? {
        let visible = visibleRows
        guard !visible.isEmpty else { return nil }
        return visible[min(max(selected, 0), visible.count - 1)].name
    }

    static let keysHelp = [
        "↑/k ↓/j  select a process", "enter    show its log (again: every log)", "r        restart it",
        "s        stop it, or start it when stopped", "/        filter by name (enter keeps, esc clears)", "?        this help",
        "q        quit",
    ]
}

/// Draws a ``TopView`` into exactly `lines` rows of at most `columns` characters.
enum TopScreen {
    /// The frame's rows, each already cut to the width (colour codes do not count).
    static func frame(_ view: TopView) -> [String] {
        // One column is left free: a character in the last one would leave the cursor waiting to wrap.
        let width = max(view.columns, 20) - 1
        let height = max(view.lines, 6)
        var out: [String] = []
        let visible = view.visibleRows
        let title = "runit top — \(view.rows.count) processes" + (view.filter.isEmpty ? "" : ", filter '\(view.filter)'")
        out.append(paint(fit(title + "   ? for keys", width), "1", view.colours))
        out.append(paint(fit(header(width), width), "7", view.colours))
        // The table takes up to half the screen; the log gets the rest.
        let tableRoom = max(1, min(visible.count + groups(visible), (height - 4) / 2))
        var table: [(text: String, colour: String?)] = []
        var selectedLine = 0
        var lastProject: String?? = .none
        for (index, row) in visible.enumerated() {
            if lastProject == .none || lastProject! != row.project {
                if let project = row.project { table.append(("▸ " + project, "1")) }
                lastProject = .some(row.project)
            }
            if index == min(max(view.selected, 0), visible.count - 1) { selectedLine = table.count }
            table.append((line(row, width), Terminal.stateColor(row.health == "unhealthy" ? "unhealthy" : row.state)))
        }
        if visible.isEmpty {
            table.append((view.rows.isEmpty ? "no processes: start one with runit start" : "nothing matches the filter", nil))
        }
        let first = max(0, min(selectedLine - tableRoom + 1, table.count - tableRoom))
        for (offset, entry) in table.dropFirst(first).prefix(tableRoom).enumerated() {
            let text = fit(entry.text, width)
            if first + offset == selectedLine && !visible.isEmpty {
                out.append(view.colours ? "\u{1B}[7m" + pad(text, width) + "\u{1B}[0m" : "> " + fit(text, width - 2))
            } else {
                out.append(entry.colour.map { paint(text, $0, view.colours) } ?? text)
            }
        }
        let paneTitle = view.focused.map { "── log of \($0) (enter: every log) " } ?? "── every log (enter: the selected one's) "
        let fitted = fit(paneTitle, width)
        out.append(paint(fitted + String(repeating: "─", count: max(0, width - fitted.count)), "2", view.colours))
        let paneRoom = height - out.count - 1
        if view.showHelp {
            for text in TopView.keysHelp.prefix(paneRoom) { out.append(fit(text, width)) }
        } else {
            for text in view.logLines.suffix(paneRoom) { out.append(fit(text, width)) }
        }
        while out.count < height - 1 { out.append("") }
        let status = view.editingFilter ? "/" + view.filter + "▏" : view.message
        out.append(fit(status, width))
        return out
    }

    /// The whole frame as bytes for the terminal: from the top left, each row cleared to its end.
    static func render(_ view: TopView) -> String {
        "\u{1B}[H" + frame(view).map { $0 + "\u{1B}[K" }.joined(separator: "\r\n") + "\u{1B}[J"
    }

    static func header(_ width: Int) -> String {
        let base =
            cell("NAME", 14) + cell("STATE", 10) + cell("PID", 8, right: true) + " " + cell("PORTS", 7)
            + cell("CPU", 6, right: true) + cell("MEM", 10, right: true) + cell("RST", 4, right: true)
            + cell("UP", 7, right: true)
        return base + "  LAST LINE"
    }

    static func line(_ row: TopRow, _ width: Int) -> String {
        let name = row.project.map { _ in "  " + (ProcessName(row.name)?.base ?? row.name) } ?? row.name
        let state = row.health.isEmpty || row.health == "healthy" ? row.state : row.health
        let cpu = row.cpuPercent.map { String(format: "%.0f%%", $0) } ?? "-"
        let memory = row.memoryBytes.map(ProcessMetrics.formatBytes) ?? "-"
        let uptime = row.uptimeSeconds.map { ProcessMetrics.formatDuration(TimeInterval($0)) } ?? "-"
        let ports = row.ports.isEmpty ? "-" : row.ports.map(String.init).joined(separator: ",")
        let base =
            cell(name, 14) + cell(state, 10) + cell(row.pid.map(String.init) ?? "-", 8, right: true) + " "
            + cell(ports, 7) + cell(cpu, 6, right: true) + cell(memory, 10, right: true) + cell("\(row.restarts)", 4, right: true)
            + cell(uptime, 7, right: true)
        return base + "  " + row.lastLine
    }

    private static func groups(_ rows: [TopRow]) -> Int {
        Set(rows.compactMap(\.project)).count
    }

    /// `text` in a cell of `width` characters (cut with a space kept before the next cell).
    static func cell(_ text: String, _ width: Int, right: Bool = false) -> String {
        let cut = text.count >= width ? String(text.prefix(width - 2)) + "…" : text
        let padding = String(repeating: " ", count: max(0, width - cut.count))
        return right ? padding + cut : cut + padding
    }

    /// `text` cut to `width` characters, its controls made visible as nothing.
    static func fit(_ text: String, _ width: Int) -> String {
        let clean = String(String.UnicodeScalarView(text.unicodeScalars.filter { $0.value >= 0x20 && $0.value != 0x7F }))
        return clean.count > width ? String(clean.prefix(max(0, width - 1))) + "…" : clean
    }

    static func pad(_ text: String, _ width: Int) -> String {
        text + String(repeating: " ", count: max(0, width - text.count))
    }

    static func paint(_ text: String, _ code: String, _ colours: Bool) -> String {
        colours ? "\u{1B}[\(code)m\(text)\u{1B}[0m" : text
    }
}
