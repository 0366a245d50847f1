import Foundation
import RunitKit

/// What a wait is for: a log line, a listening port, or the process's exit.
public struct WaitCondition: Sendable {
    /// A log line matching this pattern.
    public var logPattern: LogPattern?
    /// A TCP port accepting connections on localhost.
    public var port: Int?
    /// The process ending (it is always reported; with this set, it is what is waited for).
    public var exit = false
    /// Any line of the process's own output (not runit's), whatever it says.
    public var output = false

    /// A condition with the parts given.
    public init(logPattern: LogPattern? = nil, port: Int? = nil, exit: Bool = false, output: Bool = false) {
        self.logPattern = logPattern
        self.port = port
        self.exit = exit
        self.output = output
    }
}

/// How a wait ended.
public enum WaitOutcome: Sendable, Equatable {
    /// A log line matched.
    case logMatched(LogRecord)
    /// The port accepts connections.
    case portOpen(Int)
    /// The process ended (or was never running) before anything else happened.
    case exited(state: DisplayState, code: Int32?, signal: Int32?)
    /// The time ran out.
    case timedOut
    /// The caller gave up (its request was cancelled).
    case cancelled
}

extension Registry {
    /// Waits until `condition` holds, the process ends, or `timeoutMillis` passes.
    ///
    /// Log lines are looked for from `cursor` on; without one, in everything the current run
    /// has printed (a server that is already ready is found at once) and what follows. Sleeps on
    /// inotify between writes; only a port is checked by polling (every 100 ms), since no
    /// event tells that a port started listening. `tick` is called about once a second
    /// with the milliseconds waited; `isCancelled` is checked at least as often.
    public func wait(
        for name: String, until condition: WaitCondition, timeoutMillis: Int64, from cursor: LogCursor? = nil,
        tick: (Int64) -> Void = { _ in }, isCancelled: () -> Bool = { false }
    ) throws(RunitError) -> WaitOutcome {
        let snapshot = try existing(name)
        let paths = ProcessPaths(home: context.home, name: snapshot.name)
        let reader = LogReader(paths: paths)
        var position = cursor ?? reader.endCursor() ?? LogCursor(inode: 0, offset: 0)
        if cursor == nil, let pattern = condition.logPattern, let started = snapshot.status?.startedAtMilliseconds {
            // A line the current run already printed counts: look back to its start first.
            var earlier = LogQuery(lines: 1)
            earlier.pattern = pattern
            earlier.sinceMicros = started * 1000
            if let match = reader.tail(earlier, end: position).records.last { return .logMatched(match) }
        }
        let watcher = DirectoryWatcher(paths: [paths.directory, paths.logs])
        defer { watcher.close() }
        let start = Platform.monotonicMillis()
        var lastTick = start
        var query = LogQuery()
        query.pattern = condition.logPattern
        while true {
            if condition.logPattern != nil {
                // The query holds the pattern: what the read returns has matched.
                let (records, next) = reader.read(from: position, limit: 1, query: query)
                position = next
                if let match = records.first { return .logMatched(match) }
            } else if condition.output {
                let (records, next) = reader.read(from: position, limit: 100)
                position = next
                if let line = records.first(where: { $0.stream != .sys }) { return .logMatched(line) }
            }
            if let port = condition.port, Self.portIsOpen(port) { return .portOpen(port) }
            let current = try existing(name)
            if !current.isSupervised || [.exited, .stopped, .failed, .lost].contains(current.state) {
                // Read what the process wrote before it ended, in case the line came last.
                if condition.logPattern != nil {
                    let (records, _) = reader.read(from: position, limit: 1, query: query)
                    if let match = records.first { return .logMatched(match) }
                }
                return .exited(state: current.state, code: current.status?.exitCode, signal: current.status?.exitSignal)
            }
            let now = Platform.monotonicMillis()
            if now - start >= timeoutMillis { return .timedOut }
            if isCancelled() { return .cancelled }
            if now - lastTick >= 1000 {
                lastTick = now
                tick(now - start)
            }
            let step = condition.port == nil ? 250 : 100
            watcher.wait(timeoutMillis: Int32(min(Int64(step), max(1, timeoutMillis - (now - start)))))
        }
    }

    /// Whether something accepts TCP connections on `port` at 127.0.0.1 or ::1.
    public static func portIsOpen(_ port: Int) -> Bool {
        guard (1...65535).contains(port) else { return false }
        return connects(family: AF_INET, port: port) || connects(family: AF_INET6, port: port)
    }

    private static func connects(family: Int32, port: Int) -> Bool {
        let fd = socket(family, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { Platform.closeDescriptor(fd) }
        if family == AF_INET {
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(UInt16(port).bigEndian)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            return withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
                }
            }
        }
        var address = sockaddr_in6()
        address.sin6_family = sa_family_t(AF_INET6)
        address.sin6_port = in_port_t(UInt16(port).bigEndian)
        address.sin6_addr = in6addr_loopback
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) == 0
            }
        }
    }
}
