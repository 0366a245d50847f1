import Foundation
import MCP
import RunitCore
import RunitKit

/// Where a long tool call reports its progress: the request's progress token and the server.
public struct ProgressSink: Sendable {
    let report: @Sendable (Double, String) -> Void

    /// A sink that hands each progress value and message to `report`.
    public init(report: @escaping @Sendable (Double, String) -> Void) {
        self.report = report
    }
}

extension RunitTools {
    func logs(_ arguments: ToolArguments, cancelled: CancellationFlag = CancellationFlag()) throws(RunitError) -> ToolAnswer {
        let name = try arguments.requiredString("name")
        let lines = try arguments.int("lines") ?? 50
        guard (1...1000).contains(lines) else {
            throw RunitError(.invalidInput, "get_process_logs: 'lines' must be 1 to 1000, not \(lines)")
        }
        var query = LogQuery(lines: lines)
        if let since = try arguments.string("since") {
            query.sinceMicros = try LogQuery.time(since, option: "get_process_logs: 'since'")
        }
        if let grep = try arguments.string("grep") { query.pattern = try LogPattern(grep) }
        // A search of a large log ends when its request is cancelled (or the server stops).
        query.isCancelled = { cancelled.isSet() }
        if let context = try arguments.int("context") {
            guard query.pattern != nil else {
                throw RunitError(.invalidInput, "get_process_logs: 'context' needs 'grep': it is the lines around each match")
            }
            guard (0...20).contains(context) else {
                throw RunitError(.invalidInput, "get_process_logs: 'context' must be 0 to 20, not \(context)")
            }
            query.context = context
        }
        if let stream = try arguments.string("stream") {
            guard let value = LogStream(rawValue: stream), value != .sys else {
                throw RunitError(.invalidInput, "get_process_logs: 'stream' must be out or err, not '\(stream)'")
            }
            query.stream = value
        }
        let reader = try registry.checkedLogReader(name)
        var records: [LogRecord]
        var next: LogCursor
        var truncated = false
        let sinceLast = try arguments.bool("since_last") ?? false
        if sinceLast && arguments.values["cursor"] != nil {
            throw RunitError(.invalidInput, "get_process_logs: give 'cursor' or 'since_last', not both")
        }
        let key = registry.resolve(name)
        if let text = try arguments.string("cursor") ?? (sinceLast ? sessionCursors.get(key)?.description : nil) {
            guard let cursor = LogCursor(text) else {
                throw RunitError(
                    .invalidInput, "get_process_logs: '\(text)' is not a cursor; pass back the 'cursor' an earlier call returned")
            }
            // The first record is always taken (cut to a line's cap), so that a cursor before a
            // huge record still moves on.
            var budget = AnswerText.maxCharacters
            var taken = 0
            (records, next) = reader.read(from: cursor, limit: lines, query: query) { record in
                budget -= AnswerText.cost(AnswerText.line(record))
                taken += 1
                return budget >= 0 || taken == 1
            }
            // Truncated only if something is really left: a next record that passes the filters.
            truncated = !reader.read(from: next, limit: 1, query: query).records.isEmpty
        } else {
            next = reader.endCursor() ?? LogCursor(inode: 0, offset: 0)
            records = reader.tail(query, end: next).records
            let fitted = AnswerText.fit(records.map(AnswerText.line), fromEnd: true)
            truncated = fitted.truncated
            records = Array(records.suffix(fitted.lines.count))
        }
        sessionCursors.set(key, next)
        let texts = records.map(AnswerText.line)
        let entries: [Value] = zip(records, texts).map { record, line in
            [
                "time": .string(Timestamp.string(micros: record.micros)), "stream": .string(record.stream.rawValue),
                "text": .string(line),
            ]
        }
        let state = (try? registry.existing(name))?.state.rawValue ?? "unknown"
        var text = zip(records, texts).map { record, line in record.stream == .sys ? "── \(line) ──" : line }
            .joined(separator: "\n")
        if records.isEmpty { text = "(no lines)" }
        if truncated {
            text +=
                arguments.values["cursor"] == nil
                ? "\n(older lines were left out to keep this answer short; narrow with fewer lines, grep or since)"
                : "\n(more lines follow; call again with the returned cursor to read on)"
        }
        return ToolAnswer(
            text: text,
            structured: [
                "name": .string(name), "lines": .array(entries), "cursor": .string(next.description),
                "truncated": .bool(truncated), "state": .string(state),
            ])
    }

    static func condition(_ arguments: ToolArguments, exit: Bool) throws(RunitError) -> WaitCondition {
        var condition = WaitCondition(exit: exit)
        condition.ready = try arguments.bool("ready") ?? false
        condition.healthy = try arguments.bool("healthy") ?? false
        if let regex = try arguments.string("log_regex") { condition.logPattern = try LogPattern(regex) }
        if let port = try arguments.int("port") {
            guard (1...65535).contains(port) else {
                throw RunitError(.invalidInput, "\(arguments.tool): 'port' must be 1 to 65535, not \(port)")
            }
            condition.port = port
        }
        return condition
    }

    func wait(_ arguments: ToolArguments, progress: ProgressSink?, cancelled: CancellationFlag) throws(RunitError) -> ToolAnswer {
        let name = try arguments.requiredString("name")
        let condition = try Self.condition(arguments, exit: try arguments.bool("exit") ?? false)
        guard condition.logPattern != nil || condition.port != nil || condition.exit || condition.ready || condition.healthy
        else {
            throw RunitError(
                .invalidInput, "wait_for_process needs 'log_regex', 'port', 'ready: true', 'healthy: true' or 'exit: true'")
        }
        let timeout = try arguments.timeoutMillis()
        var cursor: LogCursor?
        let sinceLast = try arguments.bool("since_last") ?? false
        if sinceLast && arguments.values["cursor"] != nil {
            throw RunitError(.invalidInput, "get_process_logs: give 'cursor' or 'since_last', not both")
        }
        let key = registry.resolve(name)
        if let text = try arguments.string("cursor") ?? (sinceLast ? sessionCursors.get(key)?.description : nil) {
            guard let value = LogCursor(text) else {
                throw RunitError(
                    .invalidInput, "wait_for_process: '\(text)' is not a cursor; pass back the 'cursor' get_process_logs returned"
                )
            }
            cursor = value
        }
        let started = Date()
        let outcome = try registry.wait(
            for: name, until: condition, timeoutMillis: timeout, from: cursor,
            tick: { waited in progress?.report(Double(waited) / 1000, "waiting for \(name)") },
            isCancelled: cancelled.isSet)
        let waited = (Date().timeIntervalSince(started) * 10).rounded() / 10
        var structured: [String: Value] = ["waited_s": .double(waited)]
        var text: String
        switch outcome {
        case .logMatched(let record):
            structured["outcome"] = "log_match"
            structured["line"] = .string(AnswerText.line(record))
            text = "matched after \(waited)s: \(AnswerText.line(record))"
        case .portOpen(let port):
            structured["outcome"] = "port_open"
            structured["port"] = .int(port)
            text = "a process of \(name) listens on port \(port) after \(waited)s"
        case .ready:
            structured["outcome"] = "ready"
            text = "\(name) is ready after \(waited)s"
        case .healthy:
            structured["outcome"] = "healthy"
            text = "\(name) is healthy after \(waited)s"
        case .unhealthy(let detail):
            structured["outcome"] = "unhealthy"
            structured["detail"] = .string(detail)
            let lines = lastLines(name, count: 10)
            structured["last_lines"] = .array(lines.map { .string($0) })
            text = "\(name) is unhealthy: \(detail)" + Self.outputBlock(lines)
        case .runEnded(let code, let signal, let micros):
            // A run ended: reported with its code and its last lines, even when the restart policy
            // has started the next run already.
            structured["outcome"] = "exited"
            let now = try registry.existing(name)
            structured["state"] = .string(now.state.rawValue)
            structured["exit_code"] = code.map { .int(Int($0)) } ?? .null
            structured["exit_signal"] = signal.map { .int(Int($0)) } ?? .null
            let lines = lastLines(name, count: 10, endingAt: micros)
            structured["last_lines"] = .array(lines.map { .string($0) })
            let restarted = [.starting, .running, .ready, .backoff].contains(now.state)
            text =
                "\(name) \(Self.how(code, signal))"
                + (restarted ? "; its restart policy started it again (\(now.state.rawValue))" : "")
                + Self.outputBlock(lines)
        case .exited(let state, let code, let signal):
            structured["outcome"] = "exited"
            structured["state"] = .string(state.rawValue)
            structured["exit_code"] = code.map { .int(Int($0)) } ?? .null
            structured["exit_signal"] = signal.map { .int(Int($0)) } ?? .null
            let how =
                signal.map { "was killed by signal \($0)" } ?? code.map { "exited with code \($0)" } ?? "is \(state.rawValue)"
            let lines = lastLines(name, count: 10)
            structured["last_lines"] = .array(lines.map { .string($0) })
            text = "\(name) \(how)" + Self.outputBlock(lines)
        case .timedOut, .cancelled:
            structured["outcome"] = outcome == .cancelled ? "cancelled" : "timeout"
            let lines = lastLines(name, count: 10)
            structured["last_lines"] = .array(lines.map { .string($0) })
            text =
                (outcome == .cancelled ? "the wait was cancelled" : "nothing matched within \(Double(timeout) / 1000)s")
                + "; \(name) is still running" + Self.outputBlock(lines)
        }
        return ToolAnswer(text: text, structured: structured)
    }
}
