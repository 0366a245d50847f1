import Foundation
import RunitCore
import RunitKit

/// The process table of `runit top`, laid out for a width: the columns that fit, each cell cut
/// and padded to its column, the last output line taking what is left.
struct TopTable {
    /// A cell's text, padded to its column (with the gap after it), and its colour.
    struct Cell: Equatable {
        var text: String
        var color: String?
    }

    /// A line of the table: a process's (with its name) or the blank line between two groups.
    struct Line: Equatable {
        var name: String?
        var cells: [Cell]
    }

    /// The column titles, after the two columns of the selection mark.
    let header: String
    let lines: [Line]

    private struct Column {
        var title: String
        var values: [String]
        var colors: [String?]
        var rightAligned = false
        var cap = 12
        /// Columns with a lower rank are left out first when the width is short; 0: never.
        var dropRank = 0
        /// Left out when no process has a value in it.
        var dropWhenEmpty = false
    }

    /// The table of `rows` (already filtered and in order) for a terminal `width` columns wide.
    init(rows: [TopRow], state: TopState, width: Int) {
        let room = max(0, width - 2)
        let gap = 2
        let minimumLast = 12
        var columns = Self.columns(rows, state: state)
        var widths = columns.map { column in
            min(column.cap, max(TopText.columns(column.title), column.values.map(TopText.columns).max() ?? 0))
        }
        func used() -> Int { widths.reduce(0, +) + gap * widths.count }
        for index in columns.indices.reversed()
        where columns[index].dropWhenEmpty && columns[index].values.allSatisfy({ $0 == "-" }) {
            columns.remove(at: index)
            widths.remove(at: index)
        }
        for rank in 1...8 where used() + minimumLast > room {
            guard let index = columns.firstIndex(where: { $0.dropRank == rank }) else { continue }
            columns.remove(at: index)
            widths.remove(at: index)
        }
        // Still too wide: the name gives way, down to a few letters.
        // Without its column, a project's process is named in full (`api/web`).
        if !columns.contains(where: { $0.title == "PROJECT" }) {
            columns[0].values = rows.map(\.name)
            widths[0] = min(columns[0].cap, max(4, columns[0].values.map(TopText.columns).max() ?? 0))
        }
        if used() + minimumLast > room { widths[0] = max(4, widths[0] - (used() + minimumLast - room)) }
        // A very narrow terminal: the columns on the right go, then the name is cut to what is left.
        while used() > room && columns.count > 1 {
            columns.removeLast()
            widths.removeLast()
        }
        if used() > room { widths[0] = max(0, room - gap) }
        let lastWidth = max(0, room - used())
        let lastValues = rows.map { row in row.report.problem ?? state.lastLine(of: row.name) ?? "" }
        let lastColors: [String?] = rows.map { $0.report.problem == nil ? nil : "31" }
        func cell(_ text: String, width: Int, right: Bool, withGap: Bool) -> String {
            let cut = TopText.cut(LogText.visible(text), to: width)
            let padding = String(repeating: " ", count: max(0, width - TopText.columns(cut)))
            return (right ? padding + cut : cut + padding) + (withGap ? String(repeating: " ", count: gap) : "")
        }
        var head = "  "
        for (column, width) in zip(columns, widths) {
            head += cell(column.title, width: width, right: column.rightAligned, withGap: true)
        }
        header = head + (lastWidth > 0 ? cell("LAST OUTPUT", width: lastWidth, right: false, withGap: false) : "")
        var lines: [Line] = []
        for (index, row) in rows.enumerated() {
            if index > 0 && rows[index - 1].report.project != row.report.project { lines.append(Line(name: nil, cells: [])) }
            var cells = zip(columns, widths).map { column, width in
                Cell(
                    text: cell(column.values[index], width: width, right: column.rightAligned, withGap: true),
                    color: column.colors[index])
            }
            if lastWidth > 0 {
                cells.append(
                    Cell(text: cell(lastValues[index], width: lastWidth, right: false, withGap: false), color: lastColors[index]))
            }
            lines.append(Line(name: row.name, cells: cells))
        }
        self.lines = lines
    }

    private static func columns(_ rows: [TopRow], state: TopState) -> [Column] {
        let reports = rows.map(\.report)
        func column(_ title: String, _ value: (ProcessReport) -> String?) -> Column {
            Column(title: title, values: reports.map { value($0) ?? "-" }, colors: reports.map { _ in nil })
        }
        var name = column("NAME") { report in report.project == nil ? report.name : ProcessName(report.name)?.base }
        name.cap = 16
        var project = column("PROJECT") { $0.project }
        (project.dropRank, project.dropWhenEmpty) = (2, true)
        var status = column("STATE") { $0.state.rawValue }
        status.colors = reports.map { $0.state.colorCode }
        var health = column("HEALTH") { $0.health?.status }
        (health.dropRank, health.dropWhenEmpty) = (3, true)
        health.colors = reports.map { report in
            report.health.map { $0.status == "healthy" ? "32" : $0.status == "unhealthy" ? "31" : "33" }
        }
        var pid = column("PID") { $0.pid.map(String.init) }
        (pid.rightAligned, pid.dropRank) = (true, 8)
        var ports = column("PORTS") { $0.ports.isEmpty ? nil : $0.ports.map(String.init).joined(separator: ",") }
        (ports.dropRank, ports.dropWhenEmpty) = (1, true)
        var cpu = Column(title: "CPU%", values: rows.map { Self.percent($0.cpuPercent) }, colors: rows.map { _ in nil })
        (cpu.rightAligned, cpu.dropRank) = (true, 7)
        var memory = column("MEM") { $0.memoryBytes.map(Self.bytes) }
        (memory.rightAligned, memory.dropRank) = (true, 6)
        var restarts = column("RST") { String($0.restarts) }
        (restarts.rightAligned, restarts.dropRank) = (true, 4)
        var uptime = column("UPTIME") { $0.uptimeSeconds.map { ProcessMetrics.formatDuration(TimeInterval($0)) } }
        (uptime.rightAligned, uptime.dropRank) = (true, 5)
        return [name, project, status, health, pid, ports, cpu, memory, restarts, uptime]
    }

    /// CPU use as a short number: `0.4`, `12`, `180`; `-` before there are two samples.
    static func percent(_ value: Double?) -> String {
        guard let value else { return "-" }
        return value < 9.95 ? String(format: "%.1f", value) : String(format: "%.0f", value)
    }

    /// Memory in at most five columns: `812K`, `12.5M`, `1.2G`.
    static func bytes(_ value: Int64) -> String {
        let units = ["B", "K", "M", "G", "T"]
        var amount = Double(value)
        var unit = 0
        while amount >= 1000, unit < units.count - 1 {
            amount /= 1024
            unit += 1
        }
        if unit == 0 { return "\(value)B" }
        return (amount < 9.95 ? String(format: "%.1f", amount) : String(format: "%.0f", amount)) + units[unit]
    }
}

/// Text measured in terminal columns: a wide (East Asian, emoji) character takes two.
enum TopText {
    /// The columns `text` takes on a terminal.
    static func columns(_ text: String) -> Int {
        text.reduce(0) { $0 + columns(of: $1) }
    }

    /// The columns one character takes.
    static func columns(of character: Character) -> Int {
        guard let scalar = character.unicodeScalars.first else { return 0 }
        if scalar.value < 0x1100 { return 1 }
        if scalar.properties.isEmojiPresentation { return 2 }
        switch scalar.value {
        case 0x1100...0x115F, 0x2E80...0x303E, 0x3041...0x33FF, 0x3400...0x4DBF, 0x4E00...0x9FFF, 0xA000...0xA4CF,
            0xAC00...0xD7A3, 0xF900...0xFAFF, 0xFE30...0xFE4F, 0xFF00...0xFF60, 0xFFE0...0xFFE6, 0x20000...0x3FFFD:
            return 2
        default: return 1
        }
    }

    /// `text` cut to at most `width` columns, with `…` at the end when something was cut.
    static func cut(_ text: String, to width: Int) -> String {
        guard width > 0 else { return "" }
        guard columns(text) > width else { return text }
        var out = ""
        var used = 0
        for character in text {
            let size = columns(of: character)
            if used + size > width - 1 { break }
            out.append(character)
            used += size
        }
        return out + "…"
    }
}
