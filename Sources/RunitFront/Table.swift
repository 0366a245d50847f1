import RunitState

/// A plain text table whose last column is cut to the terminal's width.
public struct Table {
    let headers: [String]
    private var rows: [[String]] = []
    private var colors: [[String?]] = []

    public init(headers: [String]) {
        self.headers = headers
    }

    public mutating func add(_ row: [String], colors: [String?]) {
        rows.append(row.map(LogText.visible))
        self.colors.append(colors)
    }

    /// The table's text; with a `width`, the last column is cut so that no line wraps.
    public func render(width: Int?) -> String {
        var widths = headers.map(\.count)
        for row in rows {
            for (index, cell) in row.enumerated() { widths[index] = max(widths[index], cell.count) }
        }
        var out = line(headers, colors: Array(repeating: nil, count: headers.count), widths: widths, width: width)
        for (row, rowColors) in zip(rows, colors) { out += line(row, colors: rowColors, widths: widths, width: width) }
        return out
    }

    private func line(_ cells: [String], colors: [String?], widths: [Int], width: Int?) -> String {
        var out = ""
        var used = 0
        for (index, cell) in cells.enumerated() {
            let isLast = index == cells.count - 1
            var text = cell
            if isLast, let width, used + text.count > width {
                text = String(text.prefix(max(1, width - used - 1))) + "…"
            }
            let padded = isLast ? text : text + String(repeating: " ", count: max(0, widths[index] + 2 - text.count))
            used += padded.count
            out += colors[index].map { Terminal.paint(padded, $0) } ?? padded
        }
        return out + "\n"
    }
}
