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

    // Unconditional, so that `-n -1` is told what is allowed rather than that a value is missing.
    @Option(
        name: [.customShort("n"), .long], parsing: .unconditional,
        help: "How many lines from the end, of each process; 0 for all.")
    var lines: Int = 100

    @Flag(name: [.customShort("f"), .long], help: "Keep printing new lines, across rotations and restarts, until interrupted.")
    var follow = false

    @Option(
        name: .long,
        help: "Only lines since a duration ago (10m, 2h), a local time (05:57, 2026-12-02 05:57) or an RFC 3339 time.")
    var since: String?

    @Option(name: .long, help: "Only lines before a duration ago, a local time or an RFC 3339 time.")
    var until: String?

    // Unconditional, as grep's `-e`: `--grep -foo` searches for `-foo`.
    @Option(
        name: [.customShort("g"), .long], parsing: .unconditional, help: "Only lines matching this regular expression.")
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
        guard lines >= 0 else { throw ValidationError("--lines must be 0 or more (0 for all), not \(lines)") }
        if ignoreCase && grep == nil {
            throw ValidationError("-i makes --grep ignore case, and no --grep was given; add --grep PATTERN, or leave out -i")
        }
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
        let reader = try registry.checkedLogReader(name)
        let printer = LogPrinter(timestamps: timestamps, json: json, utc: utc, markErrors: stream == nil)
        let cursor = follow ? (reader.endCursor() ?? LogCursor(inode: 0, offset: 0)) : nil
        let joining = query.pattern == nil
        if query.lines == Int.max {
            // All of it: streamed from the oldest record on, so a log of gigabytes needs no
            // more memory than one block.
            reader.stream(query, end: cursor ?? reader.endCursor()) { batch in
                printer.print(batch, joining: joining, follow: follow)
                return true
            }
        } else {
            try printTail(reader, query: query, printer: printer, cursor: cursor)
        }
        guard let cursor else { return }

        // `--since` still holds: a line written now with an older time (a clock stepped back,
        // or a window that begins later) is not shown.
        let end = reader.follow(from: cursor, query: query, until: query.untilMicros) { records in
            printer.print(records, joining: joining, follow: true)
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
        printer.print(records, joining: query.pattern == nil, follow: follow)
    }

    /// A follow ends with Ctrl-C or SIGTERM: exit 0 then, as `tail -f` users expect.
    static func exitCleanlyOnSignals() {
        for number in [SIGINT, SIGTERM, SIGHUP] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler {
                // A line left open (a prompt) is ended, so the shell's prompt starts on its own.
                if LogPrinter.lineOpen { Terminal.write("\n") }
                Foundation.exit(0)
            }
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
        // A follow holds one log file per process open: more than the usual limit of 1,024 with many.
        if follow { Platform.raiseOpenFileLimit() }
        let palette = ["36", "33", "32", "35", "34", "96", "93", "92", "95", "94"]
        // By position among the names (sorted), then in order of appearance, as docker compose
        // does: a hash of the name made "web" and "db" share a color.
        var colors: [String: String] = [:]
        let names = try only ?? registry.names()
        for name in names { colors[name] = palette[colors.count % palette.count] }
        // A log that cannot be read (a FIFO or a link in its place) is named; the others are shown.
        for name in names {
            do throws(RunitError) { _ = try registry.checkedLogReader(name) } catch {
                Terminal.standardError.write("runit: \(ByteText.visible(error.message))\n")
            }
        }
        var width = names.map(\.count).max() ?? 0
        let printer = LogPrinter(timestamps: timestamps, json: json, utc: utc, markErrors: stream == nil) { name in
            if colors[name] == nil { colors[name] = palette[colors.count % palette.count] }
            let padded = name + String(repeating: " ", count: max(0, width - name.count)) + " |"
            return Terminal.paint(padded, colors[name] ?? palette[0]) + " "
        }
        let cursors = follow ? registry.endCursors(only: only) : [:]
        let (merged, cut) = registry.tailAll(query, names: names, ends: cursors)
        if cut && query.pattern != nil {
            Terminal.standardError.write(
                "runit: more lines match than the \(query.lines) shown of a process (the last ones); --lines 0 shows them all\n")
        }
        printer.print(merged: merged.map { ($0.name, $0.record) }, joining: query.pattern == nil, follow: follow)
        guard follow else { return }
        registry.followAll(from: cursors, query: query, until: query.untilMicros, only: only) { batch in
            width = max(width, batch.map(\.name.count).max() ?? 0)
            printer.print(merged: batch.map { ($0.name, $0.record) }, joining: query.pattern == nil, follow: true)
            return true
        }
    }
}
