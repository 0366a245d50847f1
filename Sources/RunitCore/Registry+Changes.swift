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
        // A supervisor killed (kill -9) writes no record: its process goes `lost` without a
        // word in the log, so the states are looked at too, twice a second. Those lost before
        // the wait are not news.
        let lostBefore = Set(((try? list()) ?? []).filter { $0.state == .lost }.map(\.name))
        var lookedAt = Platform.nowMicros()
        let lostNow = { () -> Change? in
            let now = Platform.nowMicros()
            guard now - lookedAt >= 500_000, events.contains(.crash) || events.contains(.exit) else { return nil }
            lookedAt = now
            let lost = ((try? self.list()) ?? []).first {
                $0.state == .lost && !lostBefore.contains($0.name) && (only?.contains($0.name) ?? true)
            }
            guard let lost else { return nil }
            let text = "lost: its supervisor ended without a word (killed?); the process may still run"
            return Change(
                name: lost.name, event: events.contains(.crash) ? .crash : .exit,
                record: LogRecord(micros: now, stream: .sys, text: Array(text.utf8)))
        }
        // A run that ends after a `stopping` record was stopped by request: an exit, not a crash.
        var stopping: Set<String> = []
        let stops = { () -> Bool in
            if found == nil { found = lostNow() }
            return found != nil || isCancelled()
        }
        followAll(
            from: endCursors(only: only), query: LogQuery(lines: Int.max), until: until, only: only, isCancelled: stops
        ) { batch in
            for (name, record) in batch {
                if record.stream == .sys && record.text.elementsEqual("stopping".utf8) { stopping.insert(name) }
                let requested = RunEnd(record) != nil && (stopping.contains(name) || self.isStopping(name))
                if let change = Self.change(name, record, events: events, pattern: pattern, requested: requested) {
                    found = change
                    return false
                }
                if RunEnd(record) != nil { stopping.remove(name) }
            }
            return !isCancelled()
        }
        return found
    }

    /// Whether `name`'s status says it is being stopped, or was, by request.
    private func isStopping(_ name: String) -> Bool {
        guard let state = try? existing(name).status?.state else { return false }
        return state == .stopping || state == .stopped
    }

    /// The change `record` of `name` is, if it is one of `events`.
    static func change(
        _ name: String, _ record: LogRecord, events: Set<ChangeEvent>, pattern: LogPattern?, requested: Bool = false
    ) -> Change? {
        var change = Change(name: name, event: .exit, record: record)
        if record.stream != .sys {
            guard events.contains(.logMatch), let pattern, pattern.matches(record) else { return nil }
            change.event = .logMatch
            return change
        }
        if let end = RunEnd(record) {
            (change.code, change.signal) = (end.code, end.signal)
            // A run stopped by request is no crash, whatever signal ended it.
            let failed = !requested && (end.signal != nil || (end.code ?? 1) != 0)
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
