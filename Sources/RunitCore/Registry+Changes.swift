import Foundation
import RunitKit

/// What happened to a process, as `wait_for_change` reports it.
public enum ChangeEvent: String, Sendable, CaseIterable {
    /// A run ended, whatever its code.
    case exit
    /// A run ended with a code other than 0, or by a signal.
    case crash
    /// Its readiness check passed.
    case ready
    /// Its health check failed its retries.
    case unhealthy
    /// A new run started (a restart, by its policy or by a client), or a new process started.
    case restart
    /// A line of its own output matched the pattern given.
    case logMatch = "log_match"
}

/// The first change seen: which process, what, and the record that said so.
public struct Change: Sendable {
    public var name: String
    public var event: ChangeEvent
    public var record: LogRecord
    /// For an exit or a crash: its code or signal.
    public var code: Int32?
    public var signal: Int32?
}

extension Registry {
    /// Waits for the first of `events` in any of `names` (every process, also those started
    /// while waiting, when nil), from now on: read from the processes' logs, where each start,
    /// exit, readiness and health verdict is a `sys` record, woken by inotify. Nil when
    /// `timeoutMillis` passes or `isCancelled` says so first.
    public func firstChange(
        names: [String]?, events: Set<ChangeEvent>, pattern: LogPattern?, timeoutMillis: Int64,
        isCancelled: @escaping () -> Bool = { false }
    ) throws(RunitError) -> Change? {
        var only: [String]?
        if let names {
            var resolved: [String] = []
            for name in names { resolved.append(try existing(name).name) }
            only = resolved
        }
        let until = Platform.nowMicros() + timeoutMillis * 1000
        var found: Change?
        followAll(
            from: endCursors(only: only), query: LogQuery(lines: Int.max), until: until, only: only, isCancelled: isCancelled
        ) {
            batch in
            for (name, record) in batch {
                if let change = Self.change(name, record, events: events, pattern: pattern) {
                    found = change
                    return false
                }
            }
            return !isCancelled()
        }
        return found
    }

    /// The change `record` of `name` is, if it is one of `events`.
    static func change(_ name: String, _ record: LogRecord, events: Set<ChangeEvent>, pattern: LogPattern?) -> Change? {
        var change = Change(name: name, event: .exit, record: record)
        if record.stream != .sys {
            guard events.contains(.logMatch), let pattern, pattern.matches(record) else { return nil }
            change.event = .logMatch
            return change
        }
        if let end = RunEnd(record) {
            (change.code, change.signal) = (end.code, end.signal)
            let failed = end.signal != nil || (end.code ?? 1) != 0
            if failed && events.contains(.crash) {
                change.event = .crash
            } else if events.contains(.exit) {
                change.event = .exit
            } else {
                return nil
            }
            return change
        }
        let text = record.text
        let kinds: [(String, ChangeEvent)] = [("ready: ", .ready), ("unhealthy after ", .unhealthy), ("started pid ", .restart)]
        for (prefix, event) in kinds where text.starts(with: prefix.utf8) && events.contains(event) {
            change.event = event
            return change
        }
        return nil
    }
}
