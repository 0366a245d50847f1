import Foundation
import MCP
import RunitCore
import RunitKit

/// `send_process_input` with `wait_for`: a REPL turn in one call.
extension RunitTools {
    /// Sends the input; with `wait_for`, waits until a line matches `regex` or the output has
    /// been quiet for `idle_ms`, and answers with what the process wrote after the input.
    func send(_ arguments: ToolArguments, cancelled: CancellationFlag) throws(RunitError) -> ToolAnswer {
        let name = try arguments.requiredString("name")
        let text = try arguments.string("text")
        var keys: [UInt8] = []
        for key in try arguments.strings("keys") ?? [] {
            guard let bytes = KeyNames.bytes(key) else {
                throw RunitError(.invalidInput, "send_process_input: '\(key.prefix(40))' is not a key; \(KeyNames.rule)")
            }
            keys += bytes
        }
        let closeInput = try arguments.bool("close_input") ?? false
        guard text != nil || !keys.isEmpty || closeInput else {
            throw RunitError(.invalidInput, "send_process_input needs 'text', 'keys' or 'close_input: true'")
        }
        let waitFor = try arguments.object("wait_for", keys: ["regex", "idle_ms", "timeout_s"])
        var pattern: LogPattern?
        var idleMillis: Int64?
        // Every argument checked before the input goes in: a refused call must change nothing
        // (a client that retries would send it twice).
        let timeout = try waitFor?.timeoutMillis() ?? 0
        if let waitFor {
            if let regex = try waitFor.string("regex") { pattern = try LogPattern(regex) }
            if let idle = try waitFor.int("idle_ms") {
                guard (10...60_000).contains(idle) else {
                    throw RunitError(.invalidInput, "send_process_input: 'idle_ms' must be 10 to 60000, not \(idle)")
                }
                idleMillis = Int64(idle)
            }
            guard (pattern == nil) != (idleMillis == nil) else {
                throw RunitError(.invalidInput, "send_process_input: wait_for takes one of 'regex' or 'idle_ms'")
            }
        }
        // Where the answer begins: the end of the log before the input goes in.
        let cursor = (try registry.logReader(name)).endCursor() ?? LogCursor(inode: 0, offset: 0)
        let newline = try arguments.bool("newline") ?? true
        let bytes = (text.map { Array(($0 + (newline ? "\n" : "")).utf8) } ?? []) + keys
        let count = bytes.isEmpty ? 0 : try registry.send(name, bytes: bytes)
        if closeInput { try registry.closeInput(name) }
        var structured: [String: Value] = ["name": .string(name), "bytes": .int(count), "closed_input": .bool(closeInput)]
        guard let waitFor else {
            let said = "sent \(count) bytes to \(name)" + (closeInput ? " and closed its input" : "")
            return ToolAnswer(text: said, structured: structured)
        }
        var outcome = "matched"
        if let pattern {
            let result = try registry.wait(
                for: name, until: WaitCondition(logPattern: pattern), timeoutMillis: timeout, from: cursor,
                isCancelled: cancelled.isSet)
            switch result {
            case .logMatched: outcome = "matched"
            case .runEnded, .exited: outcome = "exited"
            default: outcome = "timeout"
            }
        } else if let idleMillis {
            outcome = waitForQuiet(name, from: cursor, idleMillis: idleMillis, timeoutMillis: timeout, cancelled: cancelled)
        }
        let reader = try registry.logReader(name)
        let (records, _) = reader.read(from: cursor, limit: 1000)
        // A line written in pieces (a pause in the middle of it) is one line of the answer.
        let fitted = AnswerText.fit(LogRecord.joiningPieces(records).filter { $0.stream != .sys }.map(AnswerText.line))
        structured["outcome"] = .string(outcome)
        structured["output"] = .array(fitted.lines.map { .string($0) })
        structured["truncated"] = .bool(fitted.truncated)
        let summary =
            switch outcome {
            case "exited": "\(name) exited after the input"
            case "timeout": "nothing matched within \(Double(timeout) / 1000)s"
            default: "sent \(count) bytes to \(name)"
            }
        return ToolAnswer(
            text: summary + Self.outputBlock(fitted.lines), structured: structured, isError: outcome == "exited")
    }

    /// Waits until the process has written nothing for `idleMillis` (after its first line), it
    /// ends, or the time runs out: `quiet`, `exited` or `timeout`.
    private func waitForQuiet(
        _ name: String, from cursor: LogCursor, idleMillis: Int64, timeoutMillis: Int64, cancelled: CancellationFlag
    ) -> String {
        let start = Platform.monotonicMillis()
        var position = cursor
        var lastOutput = start
        while true {
            guard let reader = try? registry.logReader(name) else { return "exited" }
            let (records, next) = reader.read(from: position, limit: 1000)
            position = next
            let now = Platform.monotonicMillis()
            if records.contains(where: { $0.stream != .sys }) { lastOutput = now }
            if records.contains(where: { $0.stream == .sys && $0.text.starts(with: "exited".utf8) }) { return "exited" }
            if now - lastOutput >= idleMillis { return "quiet" }
            if now - start >= timeoutMillis || cancelled.isSet() { return "timeout" }
            usleep(UInt32(min(50, idleMillis) * 1000))
        }
    }
}
