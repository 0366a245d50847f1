import Foundation
import RunitFront
import RunitKit
import RunitState

/// Prints log records as text or JSON lines, of one process or of several merged.
///
/// In the text view a line of standard error is marked `[err]` (red on a terminal), as both
/// streams are shown together; with `--stream err` every line is one, and none is marked.
/// `--json` tells the streams apart in its `stream` field, and each piece of a line written in
/// pieces is its own record there.
final class LogPrinter {
    let timestamps: Bool
    let json: Bool
    let utc: Bool
    let markErrors: Bool
    /// What goes before a process's line in the merged view (its name, padded and colored).
    let prefix: (String) -> String
    /// The line a follow left open: the last piece it printed was of a line still being written
    /// (a prompt, a progress line), so it printed no newline, as a terminal would not.
    private var open: (name: String?, stream: LogStream)?

    /// Whether a follow left a line open; read by the signal handler that ends it, which then
    /// ends the line, so the shell's prompt starts on its own.
    nonisolated(unsafe) static var lineOpen = false

    /// The mark before a line of standard error.
    static let errorMark = Terminal.paint("[err]", "31") + " "

    init(timestamps: Bool, json: Bool, utc: Bool, markErrors: Bool, prefix: @escaping (String) -> String = { $0 }) {
        self.timestamps = timestamps
        self.json = json
        self.utc = utc
        self.markErrors = markErrors
        self.prefix = prefix
    }

    /// Prints one process's records (see ``print(merged:joining:follow:)``).
    func print(_ records: [LogRecord], joining: Bool = true, follow: Bool = false) {
        print(merged: records.map { (nil, $0) }, joining: joining, follow: follow)
    }

    /// Prints a batch of records with one write; `name` is nil for the view of one process.
    ///
    /// In the text view, with `joining`, a continued piece (`+`) and the pieces after it of the
    /// same process and stream print as one line (not under a grep, which may have left out the
    /// rest of the line: pieces of two lines must not be glued together). With `follow`, a
    /// batch that ends with a line still being written leaves it open, and the next batch
    /// finishes it when it begins with the rest of it.
    func print(merged records: [(name: String?, record: LogRecord)], joining: Bool = true, follow: Bool = false) {
        guard !records.isEmpty else { return }
        let joins = joining && !json
        let lines = joins ? Self.joiningPieces(records) : records
        var out: [UInt8] = []
        out.reserveCapacity(lines.count * 100)
        for (index, (name, record)) in lines.enumerated() {
            if let open {
                self.open = nil
                if open.name == name, open.stream == record.stream, record.stream != .sys, Self.isPlain(record.text) {
                    out.append(contentsOf: LogText.clean(record.textString).utf8)
                    endLine(record, leavingOpen: follow && index == lines.count - 1, name: name, to: &out)
                    continue
                }
                out.append(0x0A)
            }
            append(record, name: name, to: &out)
            endLine(record, leavingOpen: joins && follow && index == lines.count - 1, name: name, to: &out)
        }
        Self.lineOpen = open != nil
        Terminal.write(bytes: out)
    }

    /// Ends a record's line, unless it is a piece of a line still being written that a follow
    /// may finish.
    private func endLine(_ record: LogRecord, leavingOpen: Bool, name: String?, to out: inout [UInt8]) {
        if leavingOpen && record.continued && record.stream != .sys && Self.isPlain(record.text) {
            open = (name, record.stream)
        } else {
            out.append(0x0A)
        }
    }

    /// Whether a piece can be printed as it is and another written after it on the same line:
    /// whole UTF-8 characters, and nothing cleaning would change (a `\r` redraw, an escape, a
    /// control). Any other piece ends its line: once printed, a redraw cannot be taken back.
    static func isPlain(_ text: [UInt8]) -> Bool {
        var previous: UInt8 = 0
        for byte in text {
            if (byte < 0x20 && byte != 0x09) || byte == 0x7F || (previous == 0xC2 && byte >= 0x80 && byte <= 0x9F) {
                return false
            }
            previous = byte
        }
        return String(validating: text, as: UTF8.self) != nil
    }

    /// Appends one record's line, without its newline. A line of printable ASCII needs no
    /// cleaning, and is copied as it is (a search that shows 800,000 lines spends its time here).
    func append(_ record: LogRecord, name: String?, to out: inout [UInt8]) {
        guard !json, record.stream != .sys, record.text.allSatisfy({ ($0 >= 0x20 && $0 < 0x7F) || $0 == 0x09 }) else {
            out.append(contentsOf: line(record, name: name).utf8)
            return
        }
        if let name { out.append(contentsOf: prefix(name).utf8) }
        if timestamps { out.append(contentsOf: (LocalTime.text(micros: record.micros, utc: utc) + " ").utf8) }
        if markErrors && record.stream == .err { out.append(contentsOf: Self.errorMark.utf8) }
        out.append(contentsOf: record.text)
    }

    /// `records` with each line written in pieces joined (see ``LogRecord/joiningPieces(_:)``),
    /// process by process, in the order of their first pieces.
    static func joiningPieces(_ records: [(name: String?, record: LogRecord)]) -> [(name: String?, record: LogRecord)] {
        var order: [String?] = []
        var byName: [String?: [LogRecord]] = [:]
        for (name, record) in records {
            if byName[name] == nil { order.append(name) }
            byName[name, default: []].append(record)
        }
        guard order.count > 1 else { return LogRecord.joiningPieces(records.map(\.record)).map { (order.first ?? nil, $0) } }
        var joined: [(name: String?, record: LogRecord)] = []
        for name in order { joined += LogRecord.joiningPieces(byName[name] ?? []).map { (name, $0) } }
        // Sorting is stable: records of the same time keep their order.
        joined.sort { $0.record.micros < $1.record.micros }
        return joined
    }

    /// One record's line, without its newline.
    func line(_ record: LogRecord, name: String?) -> String {
        if json {
            var object: [String: Any] = [
                "time": Timestamp.string(micros: record.micros), "stream": record.stream.rawValue,
                "text": record.textString, "continued": record.continued,
            ]
            if let name { object["name"] = name }
            let data =
                (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
            return String(decoding: data, as: UTF8.self)
        }
        var out = name.map(prefix) ?? ""
        if timestamps { out += LocalTime.text(micros: record.micros, utc: utc) + " " }
        if record.stream == .sys {
            var text = record.textString
            if text.hasPrefix("started pid") { text += " at " + LocalTime.text(micros: record.micros, utc: utc) }
            out += Terminal.paint("── \(text) ──", "90")
        } else {
            if markErrors && record.stream == .err { out += Self.errorMark }
            out += LogText.clean(record.textString)
        }
        return out
    }
}
