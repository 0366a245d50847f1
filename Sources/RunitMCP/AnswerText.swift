import RunitCore
import RunitKit

/// Log text fitted into a tool answer: each line cleaned and cut to `maxLineCharacters`, and
/// all the lines of one answer together within `maxCharacters`, so that one huge line (a
/// minified bundle, a JSON dump) can neither flood the model's context nor hide the lines
/// around it.
enum AnswerText {
    /// The most characters of one line that an answer carries.
    static let maxLineCharacters = 2_000
    /// The most characters of log text that one answer carries.
    static let maxCharacters = 20_000
    /// What each line costs beyond its text (time, stream, JSON punctuation).
    static let lineOverhead = 40

    /// A record's text as an answer shows it: cleaned, and cut with a marker when too long.
    static func line(_ record: LogRecord) -> String {
        line(LogText.clean(record.textString))
    }

    /// `text` cut to `maxLineCharacters`, with a marker saying how much was left out.
    static func line(_ text: String) -> String {
        guard text.count > maxLineCharacters else { return text }
        let rest = text.count - maxLineCharacters
        return String(text.prefix(maxLineCharacters)) + "… (\(rest) more characters)"
    }

    /// What a line (already cut) costs in the budget.
    static func cost(_ text: String) -> Int {
        text.count + lineOverhead
    }

    /// The lines that fit the budget, taken from the start (`fromEnd` false) or the end; at
    /// least one is always kept. Says whether any were left out.
    static func fit(_ lines: [String], fromEnd: Bool = false) -> (lines: [String], truncated: Bool) {
        var budget = maxCharacters
        var kept = 0
        for text in fromEnd ? lines.reversed() : lines {
            budget -= cost(text)
            if budget < 0 && kept > 0 { break }
            kept += 1
        }
        let result = fromEnd ? Array(lines.suffix(kept)) : Array(lines.prefix(kept))
        return (result, kept < lines.count)
    }
}

extension RunitTools {
    /// The first output lines (not runit's own) of the run that began at `cursor`, cut to fit
    /// an answer. Without a cursor (a name never seen before), from the start of the log.
    func firstLines(_ name: String, from cursor: LogCursor?, count: Int = 20) -> [String] {
        guard let reader = try? registry.logReader(name) else { return [] }
        var seen = 0
        let (records, _) = reader.read(from: cursor ?? LogCursor(inode: 0, offset: 0), limit: Int.max) { record in
            if record.stream == .sys {
                // A replaced or restarted run may print while it stops: count from the new start.
                if Self.isStartMarker(record) { seen = 0 }
                return true
            }
            seen += 1
            return seen <= count
        }
        let run = records.lastIndex(where: Self.isStartMarker).map { records[($0 + 1)...] } ?? records[...]
        return AnswerText.fit(run.filter { $0.stream != .sys }.map(AnswerText.line)).lines
    }

    /// Whether `record` is the supervisor's line for a start of the process.
    static func isStartMarker(_ record: LogRecord) -> Bool {
        record.stream == .sys && record.text.starts(with: "started pid ".utf8)
    }

    /// The last output lines (not runit's own) of the current run, cut to fit an answer.
    func lastLines(_ name: String, count: Int = 10, endingAt end: Int64? = nil) -> [String] {
        // Only the process's own lines of that one run: runit's records are left out.
        let records = registry.runLines(name, count: count, endingAt: end)
        return AnswerText.fit(records.map(AnswerText.line), fromEnd: true).lines
    }

    static func outputBlock(_ lines: [String]) -> String {
        lines.isEmpty ? "" : "\noutput:\n" + lines.map { "  " + $0 }.joined(separator: "\n")
    }
}
