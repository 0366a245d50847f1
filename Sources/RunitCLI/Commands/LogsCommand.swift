import ArgumentParser
import Foundation
import RunitCore
import RunitFront
import RunitKit

/// `runit logs [NAME] [--follow] [--lines N] [--since 10m] [--grep REGEX] [--stream out|err]`.
struct LogsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "logs",
        abstract: "Show a process's output (or every process's, without a name); --follow streams new lines."
    )

    @Argument(help: "Process names or glob patterns; without one, the last lines of every process.", completion: .processNames)
    var names: [String] = []

    @Option(name: .long, help: "Every process of this project.", completion: .projectNames)
    var project: String?

    @Option(name: [.customShort("n"), .long], help: "How many lines from the end, of each process; 0 for all.")
    var lines: Int = 100

    @Flag(name: [.customShort("f"), .long], help: "Keep printing new lines, across rotations and restarts, until interrupted.")
    var follow = false

    @Option(
        name: .long,
        help: "Only lines since a duration ago (10m, 2h), a local time (05:57, 2026-12-02 05:57) or an RFC 3339 time.")
    var since: String?

    @Option(name: .long, help: "Only lines before a duration ago, a local time or an RFC 3339 time.")
    var until: String?

    @Option(name: [.customShort("g"), .long], help: "Only lines matching this regular expression.")
    var grep: String?

    @Flag(name: .customShort("i"), help: "Match --grep ignoring case.")
    var ignoreCase = false

    @Option(name: .long, help: "Only one stream: out or err.")
    var stream: String?

    @Flag(name: [.customShort("t"), .long], help: "Show each line's time (local, from TZ).")
    var timestamps = false

    @Flag(name: .long, help: "Show times in UTC (RFC 3339) instead of local time.")
    var utc = false

    @Flag(name: .long, help: "One JSON record per line: time, stream, text.")
    var json = false

    func validate() throws {
        guard lines >= 0 else { throw ValidationError("--lines must be 0 or more, not \(lines)") }
    }

    func run() async throws {
        let registry = Registry(context: .fromEnvironment())
        let query = try makeQuery()
        if follow { Self.exitCleanlyOnSignals() }
        guard names.count == 1, project == nil, !names[0].contains(where: { "*?[".contains($0) }) else {
            let only = names.isEmpty && project == nil ? nil : try registry.select(names, project: project)
            try printAll(registry, query: query, only: only)
            return
        }
        let name = registry.resolve(names[0])
        let reader = try registry.logReader(name)
        let printer = LogPrinter(timestamps: timestamps, json: json, prefix: nil, utc: utc, markErrors: stream == nil)
        let cursor = follow ? (reader.endCursor() ?? LogCursor(inode: 0, offset: 0)) : nil
        let joining = query.pattern == nil
        if query.lines == Int.max {
            // All of it: streamed from the oldest record on, so a log of gigabytes needs no
            // more memory than one block.
            reader.stream(query, end: cursor ?? reader.endCursor()) { batch in
                printer.print(batch, joining: joining)
                return true
            }
        } else {
            try printTail(reader, query: query, printer: printer, cursor: cursor)
        }
        guard let cursor else { return }

        var followQuery = query
        followQuery.sinceMicros = nil
        let end = reader.follow(from: cursor, query: followQuery, until: query.untilMicros) { records in
            printer.print(records, joining: joining)
            return true
        }
        if end == .removed { throw RunitError(.notFound, "'\(name)' was removed") }
    }

    /// The last `query.lines` records (of what matches), and a note on stderr when more matched.
    func printTail(_ reader: LogReader, query: LogQuery, printer: LogPrinter, cursor: LogCursor?) throws {
        var records = reader.tail(Self.oneMore(query), end: cursor).records
        if records.count > query.lines {
            // One more than asked for was read, so that a cut is known without counting them all.
            records.removeFirst(records.count - query.lines)
            if query.pattern != nil {
                Terminal.standardError.write(
                    "runit: more lines match than the \(query.lines) shown (the last ones); --lines 0 shows them all\n")
            }
        }
        printer.print(records, joining: query.pattern == nil)
    }

    /// A follow ends with Ctrl-C or SIGTERM: exit 0 then, as `tail -f` users expect.
    static func exitCleanlyOnSignals() {
        for number in [SIGINT, SIGTERM, SIGHUP] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { Foundation.exit(0) }
            source.resume()
            signalSources.append(source)
        }
    }

    /// Keeps the signal sources alive for the life of the command. Written once, on the
    /// command's task, before the follow starts; never read.
    nonisolated(unsafe) static var signalSources: [any DispatchSourceSignal] = []

    /// `query` reading one line more, when it has a limit.
    static func oneMore(_ query: LogQuery) -> LogQuery {
        var more = query
        if more.lines < Int.max { more.lines += 1 }
        return more
    }

    func makeQuery() throws -> LogQuery {
        var query = LogQuery(lines: lines == 0 ? Int.max : lines)
        if let since { query.sinceMicros = try LogQuery.time(since, option: "--since") }
        if let until { query.untilMicros = try LogQuery.time(until, option: "--until") }
        if let grep { query.pattern = try LogPattern(grep, ignoreCase: ignoreCase) }
        if let stream {
            guard let value = LogStream(rawValue: stream), value != .sys else {
                throw RunitError(.invalidInput, "--stream '\(stream)' is not a stream; use out or err")
            }
            query.stream = value
        }
        return query
    }

    /// The last lines of every process, merged by time, each prefixed with its name in its own
    /// color, as `docker compose logs` shows them; with `--follow`, new lines as they come.
    func printAll(_ registry: Registry, query: LogQuery, only: [String]?) throws {
        let palette = ["36", "33", "32", "35", "34", "96", "93", "92", "95", "94"]
        // By position among the names (sorted), then in order of appearance, as docker compose
        // does: a hash of the name made "web" and "db" share a color.
        var colors: [String: String] = [:]
        let names = try only ?? registry.names()
        for name in names { colors[name] = palette[colors.count % palette.count] }
        var width = names.map(\.count).max() ?? 0
        func emit(_ batch: [(name: String, record: LogRecord)]) {
            width = max(width, batch.map(\.name.count).max() ?? 0)
            var text = ""
            for (name, record) in batch {
                if colors[name] == nil { colors[name] = palette[colors.count % palette.count] }
                let color = colors[name] ?? palette[0]
                let prefix = Terminal.paint(name + String(repeating: " ", count: max(0, width - name.count)) + " |", color) + " "
                text += LogPrinter(
                    timestamps: timestamps, json: json, prefix: json ? name : prefix, utc: utc, markErrors: stream == nil
                ).line(record)
            }
            Terminal.write(text)
        }
        let cursors = follow ? registry.endCursors(only: only) : [:]
        emit(try registry.tailAll(query, ends: cursors, only: only, perProcess: true))
        guard follow else { return }
        var followQuery = query
        followQuery.sinceMicros = nil
        registry.followAll(from: cursors, query: followQuery, until: query.untilMicros, only: only) { batch in
            emit(batch)
            return true
        }
    }
}

/// Prints log records as text or JSON lines.
///
/// In the text view a line of standard error is marked `[err]` (red on a terminal), as both
/// streams are shown together; with `--stream err` every line is one, and none is marked.
/// `--json` tells the streams apart in its `stream` field.
struct LogPrinter {
    let timestamps: Bool
    let json: Bool
    let prefix: String?
    var utc = false
    var markErrors = true

    /// The mark before a line of standard error.
    static let errorMark = Terminal.paint("[err]", "31") + " "

    /// Prints a batch of records with one write; in the text view, a continued piece (`+`) and
    /// the pieces after it of the same stream print as one line (not under a grep, which may
    /// have left out the rest of the line: pieces of two lines must not be glued together).
    func print(_ records: [LogRecord], joining: Bool = true) {
        guard !records.isEmpty else { return }
        var out: [UInt8] = []
        out.reserveCapacity(records.count * 100)
        for record in json || !joining ? records : Self.joiningPieces(records) { append(record, to: &out) }
        Terminal.write(bytes: out)
    }

    /// Appends one record's line, newline included. A line of printable ASCII needs no
    /// cleaning, and is copied as it is (a search that shows 800,000 lines spends its time here).
    func append(_ record: LogRecord, to out: inout [UInt8]) {
        guard !json, record.stream != .sys, record.text.allSatisfy({ ($0 >= 0x20 && $0 < 0x7F) || $0 == 0x09 }) else {
            out.append(contentsOf: line(record).utf8)
            return
        }
        if let prefix { out.append(contentsOf: prefix.utf8) }
        if timestamps { out.append(contentsOf: (LocalTime.text(micros: record.micros, utc: utc) + " ").utf8) }
        if markErrors && record.stream == .err { out.append(contentsOf: Self.errorMark.utf8) }
        out.append(contentsOf: record.text)
        out.append(0x0A)
    }

    /// `records` with each line written in pieces joined (see ``LogRecord/joiningPieces(_:)``).
    static func joiningPieces(_ records: [LogRecord]) -> [LogRecord] {
        LogRecord.joiningPieces(records)
    }

    /// One record's line, newline included.
    func line(_ record: LogRecord) -> String {
        if json {
            var object: [String: Any] = [
                "time": Timestamp.string(micros: record.micros), "stream": record.stream.rawValue,
                "text": record.textString, "continued": record.continued,
            ]
            if let prefix { object["name"] = prefix }
            let data =
                (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
            return String(decoding: data, as: UTF8.self) + "\n"
        }
        var out = prefix ?? ""
        if timestamps { out += LocalTime.text(micros: record.micros, utc: utc) + " " }
        if record.stream == .sys {
            var text = record.textString
            if text.hasPrefix("started pid") { text += " at " + LocalTime.text(micros: record.micros, utc: utc) }
            out += Terminal.paint("── \(text) ──", "90")
        } else {
            if markErrors && record.stream == .err { out += Self.errorMark }
            out += LogText.clean(record.textString)
        }
        return out + "\n"
    }
}
