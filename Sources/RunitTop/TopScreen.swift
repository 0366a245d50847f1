import Foundation
import RunitCore
import RunitKit

/// Draws a frame of `runit top` as text: a pure function of the state and the terminal's size,
/// so that a test can check it fits.
struct TopScreen {
    /// The terminal's columns and rows.
    var width: Int
    var height: Int
    /// Whether to use ANSI colours (off under `NO_COLOR`).
    var colors: Bool

    /// The frame's lines, exactly `height` of them, each exactly `width` columns wide once its
    /// escape sequences are left out.
    func render(_ state: TopState) -> [String] {
        guard width >= 20, height >= 5 else {
            return (0..<max(height, 0)).map { $0 == 0 ? fit("runit top: the terminal is too small") : fit("") }
        }
        var lines = [titleLine(state)]
        let body = height - 4
        if state.showsHelp {
            lines += Self.help.prefix(body + 2).map { fit($0) }
        } else {
            let table = TopTable(rows: state.visibleRows, state: state, width: width)
            let tableRows = Self.tableRows(table, body: body)
            lines.append(paint(fit(table.header), "1"))
            lines += tableLines(table, state: state, count: tableRows)
            lines.append(paint(logTitle(state), "90"))
            lines += logLines(state, count: body - tableRows)
        }
        while lines.count < height - 1 { lines.append(fit("")) }
        lines.append(footer(state))
        return lines
    }

    /// How many lines the log pane gets in the frame of `state` (0 when the frame has none).
    func logPaneLines(_ state: TopState) -> Int {
        guard width >= 20, height >= 5, !state.showsHelp else { return 0 }
        let body = height - 4
        return body - Self.tableRows(TopTable(rows: state.visibleRows, state: state, width: width), body: body)
    }

    /// The table's share of the `body` lines: what it needs, leaving the logs a third (3 at least).
    private static func tableRows(_ table: TopTable, body: Int) -> Int {
        min(max(table.lines.count, 1), max(1, body - max(3, body / 3)))
    }

    /// What each key does, for `?`.
    static let help = [
        "Keys",
        "",
        "  up, down, j, k    select a process (Home, End: the first, the last)",
        "  enter             show only its log; enter again or esc: every log",
        "  PgUp, PgDn        scroll the log back and forward; f or esc: follow it again",
        "  r                 restart it",
        "  s                 stop it if it runs, start it if not",
        "  /                 filter by name: type, enter to apply, esc to clear",
        "  ctrl-l            draw the screen again",
        "  ?                 this help; any key closes it",
        "  q, ctrl-c         quit",
        "",
        "The table follows the state files as they change; CPU and memory every second.",
    ]

    private func titleLine(_ state: TopState) -> String {
        let running = state.rows.filter { [.running, .ready, .unhealthy].contains($0.report.state) }.count
        var left = " runit top   \(state.rows.count) process\(state.rows.count == 1 ? "" : "es"), \(running) running"
        if !state.filter.isEmpty { left += "   filter: \(LogText.visible(state.filter))" }
        let right = "? keys  q quit "
        let gap = width - TopText.columns(left) - TopText.columns(right)
        return paint(fit(gap >= 1 ? left + String(repeating: " ", count: gap) + right : left), "7")
    }

    private func tableLines(_ table: TopTable, state: TopState, count: Int) -> [String] {
        guard !table.lines.isEmpty else {
            let empty =
                state.rows.isEmpty
                ? "  no processes; start one with: runit start NAME -- PROGRAM ARG..." : "  no process matches the filter"
            return [fit(empty)] + Array(repeating: fit(""), count: max(0, count - 1))
        }
        // The list scrolls as little as it can to keep the selection in view.
        let selectedLine = table.lines.firstIndex { $0.name != nil && $0.name == state.selected } ?? 0
        let first = min(max(0, selectedLine - count + 1), max(0, table.lines.count - count))
        var out = table.lines.dropFirst(first).prefix(count).map { line -> String in
            let isSelected = line.name != nil && line.name == state.selected
            if isSelected { return paint(fit("> " + line.cells.map(\.text).joined()), "7") }
            return "  " + line.cells.map { cell in cell.color.map { paint(cell.text, $0) } ?? cell.text }.joined()
                + String(repeating: " ", count: max(0, width - 2 - line.cells.map { TopText.columns($0.text) }.reduce(0, +)))
        }
        while out.count < count { out.append(fit("")) }
        return out
    }

    private func logTitle(_ state: TopState) -> String {
        let title: String
        if let focus = state.focus {
            title = "── log of \(LogText.visible(focus)) (enter or esc: every log) "
        } else {
            title = state.filter.isEmpty ? "── logs " : "── logs of the processes shown "
        }
        if state.logScroll > 0 {
            let back = "── \(state.logScroll) lines back (PgDn: newer, f: follow) "
            let fill = max(0, width - TopText.columns(title) - TopText.columns(back))
            return fit(title + String(repeating: "─", count: fill) + back)
        }
        let fill = max(0, width - TopText.columns(title))
        return fit(title + String(repeating: "─", count: fill))
    }

    private func logLines(_ state: TopState, count: Int) -> [String] {
        let records = state.logLines(limit: count)
        let names = state.rows.map(\.name)
        let nameWidth = min(16, records.map { TopText.columns($0.name) }.max() ?? 0)
        var out: [String] = []
        for (name, record) in records {
            var prefix = ""
            var prefixColor: String?
            if state.focus == nil {
                prefix =
                    TopText.cut(name, to: nameWidth) + String(repeating: " ", count: max(0, nameWidth - TopText.columns(name)))
                prefix += " | "
                let palette = ["36", "33", "32", "35", "34", "96", "93", "92", "95", "94"]
                prefixColor = palette[(names.firstIndex(of: name) ?? 0) % palette.count]
            }
            let room = max(0, width - TopText.columns(prefix))
            var text: String
            var color: String?
            if record.stream == .sys {
                text = TopText.cut("── " + LogText.visible(record.textString) + " ──", to: room)
                color = "90"
            } else {
                text = TopText.cut(LogText.visible(LogText.clean(record.textString)), to: room)
                color = record.stream == .err ? "31" : nil
            }
            text += String(repeating: " ", count: max(0, room - TopText.columns(text)))
            out.append((prefixColor.map { paint(prefix, $0) } ?? prefix) + (color.map { paint(text, $0) } ?? text))
        }
        while out.count < count { out.append(fit("")) }
        return out
    }

    private func footer(_ state: TopState) -> String {
        if let draft = state.filterDraft {
            return fit("/" + LogText.visible(draft) + "_   enter: apply   esc: clear")
        }
        if let message = state.message { return paint(fit(" " + LogText.visible(message)), "1") }
        return paint(fit(" j/k select  enter focus  r restart  s stop/start  / filter  ? keys  q quit"), "90")
    }

    /// `text` cut or padded to the width.
    private func fit(_ text: String) -> String {
        let cut = TopText.cut(text, to: width)
        return cut + String(repeating: " ", count: max(0, width - TopText.columns(cut)))
    }

    private func paint(_ text: String, _ code: String) -> String {
        colors ? "\u{1B}[\(code)m\(text)\u{1B}[0m" : text
    }
}
