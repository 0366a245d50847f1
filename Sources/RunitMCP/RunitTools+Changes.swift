import Foundation
import MCP
import RunitCore
import RunitKit

/// `wait_for_change`: one call that tells a model its server died in the background.
extension RunitTools {
    static let changeTool = Tool(
        name: "wait_for_change",
        title: "Wait for a change",
        description: """
            Wait until something happens to any of `names` (default: every process, also ones started while \
            waiting): `exit` (a run ended), `crash` (it ended with a code other than 0 or a signal), `ready`, \
            `unhealthy`, `restart` (a new run started), or `log_match` (a line of its own output matched \
            `log_regex`). `events` narrows what counts (default: all but log_match, which `log_regex` adds). \
            Returns the first: `event`, `name`, `detail`, `exit_code` or `exit_signal`, and the process's last \
            lines; or `event: timeout`. Nothing is polled: it sleeps until a process's log changes. Fails \
            with isError for an unknown name or a bad regex.
            """,
        inputSchema: ToolCatalog.object(
            [
                "names": ["type": "array", "items": ToolCatalog.name, "description": "Only these processes."],
                "events": [
                    "type": "array",
                    "items": ["type": "string", "enum": .array(ChangeEvent.allCases.map { .string($0.rawValue) })],
                ],
                "log_regex": ["type": "string", "description": "A line of a process's own output to wait for."],
                "timeout_s": [
                    "type": "number", "exclusiveMinimum": 0, "maximum": 300,
                    "description": "How long to wait (default 30, at most 300).",
                ],
            ], additionalProperties: false),
        annotations: .init(readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false),
        outputSchema: ToolCatalog.output([
            "event": ["type": "string"], "name": ["type": "string"], "detail": ["type": "string"],
            "exit_code": ["type": "integer"], "exit_signal": ["type": "integer"], "last_lines": ToolCatalog.lines,
            "waited_s": ["type": "number"],
        ])
    )

    func waitForChange(_ arguments: ToolArguments, cancelled: CancellationFlag) throws(RunitError) -> ToolAnswer {
        let pattern = try arguments.string("log_regex").map { text throws(RunitError) in try LogPattern(text) }
        var events = Set(ChangeEvent.allCases.filter { $0 != .logMatch })
        if let given = try arguments.strings("events") {
            events = []
            for text in given {
                guard let event = ChangeEvent(rawValue: text) else {
                    let known = ChangeEvent.allCases.map(\.rawValue).joined(separator: ", ")
                    throw RunitError(.invalidInput, "wait_for_change: '\(text)' is not an event; give any of: \(known)")
                }
                events.insert(event)
            }
        }
        if pattern != nil { events.insert(.logMatch) }
        guard !events.contains(.logMatch) || pattern != nil else {
            throw RunitError(
                .invalidInput, "wait_for_change: the event 'log_match' needs 'log_regex', the pattern a line must match")
        }
        let timeout = try arguments.timeoutMillis()
        let started = Platform.monotonicMillis()
        let change = try registry.firstChange(
            names: try arguments.strings("names"), events: events, pattern: pattern, timeoutMillis: timeout,
            isCancelled: cancelled.isSet)
        let waited = Double(Platform.monotonicMillis() - started) / 1000
        guard let change else {
            return ToolAnswer(
                text: "nothing happened within \(Double(timeout) / 1000)s",
                structured: ["event": "timeout", "waited_s": .double(waited)])
        }
        let detail = AnswerText.line(change.record)
        var structured: [String: Value] = [
            "event": .string(change.event.rawValue), "name": .string(change.name), "detail": .string(detail),
            "waited_s": .double(waited),
        ]
        if let code = change.code { structured["exit_code"] = .int(Int(code)) }
        if let signal = change.signal { structured["exit_signal"] = .int(Int(signal)) }
        let ended = change.event == .exit || change.event == .crash
        let lines = lastLines(change.name, endingAt: ended ? change.record.micros : nil)
        structured["last_lines"] = .array(lines.map { .string($0) })
        return ToolAnswer(
            text: "\(change.name): \(change.event.rawValue): \(detail)" + Self.outputBlock(lines), structured: structured)
    }
}
