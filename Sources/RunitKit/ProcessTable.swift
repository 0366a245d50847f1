import CRunitSystem

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A snapshot of the system's processes from `/proc` (Linux), used to find every descendant.
public struct ProcessTable {
    /// One process: its pid, parent and the fields runit reports.
    public struct Entry: Sendable {
        /// The pid.
        public var pid: Int32
        /// The parent's pid.
        public var parent: Int32
        /// User plus system CPU time, in clock ticks.
        public var cpuTicks: Int64
        /// Resident set size, in pages.
        public var residentPages: Int64
        /// Start time after boot, in clock ticks.
        public var startTicks: Int64
        /// The session id: the pid of the session's leader.
        public var session: Int32 = 0
        /// Whether it has exited and waits to be reaped (a zombie): gone in all but name.
        public var isZombie = false
    }

    /// Every process that could be read.
    public private(set) var entries: [Entry] = []

    /// Reads `/proc`; empty where there is no `/proc`.
    public init() {
        guard let dir = opendir("/proc") else { return }
        defer { closedir(dir) }
        while let item = readdir(dir) {
            let name = withUnsafePointer(to: item.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            guard let pid = Int32(name), let entry = Self.read(pid: pid) else { continue }
            entries.append(entry)
        }
    }

    /// Reads one process's `/proc/PID/stat`.
    public static func read(pid: Int32) -> Entry? {
        let fd = Platform.open("/proc/\(pid)/stat", O_RDONLY)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 1024)
        let count = buffer.withUnsafeMutableBytes { readBytes(fd, $0.baseAddress, $0.count) }
        guard count > 0, let close = buffer[0..<count].lastIndex(of: UInt8(ascii: ")")) else { return nil }
        // Fields after the command name, starting with field 3 (state).
        let fields = buffer[(close + 2)..<count].split(separator: 0x20)
        func field(_ number: Int) -> Int64 {
            let index = number - 3
            guard index < fields.count else { return 0 }
            return Int64(String(decoding: fields[index], as: UTF8.self)) ?? 0
        }
        let state = fields.first?.first ?? 0
        return Entry(
            pid: pid, parent: Int32(field(4)), cpuTicks: field(14) + field(15),
            residentPages: field(24), startTicks: field(22), session: Int32(field(6)),
            isZombie: state == UInt8(ascii: "Z") || state == UInt8(ascii: "X"))
    }

    /// The boot time from `/proc/stat` (`btime`), in seconds since the epoch.
    public static var bootTimeSeconds: Int64? {
        // Read to the end: /proc files return short reads before their end.
        guard let bytes = Platform.readFile("/proc/stat") else { return nil }
        for line in bytes.split(separator: 0x0A) where line.starts(with: Array("btime ".utf8)) {
            return Int64(String(decoding: line.dropFirst(6), as: UTF8.self))
        }
        return nil
    }

    /// The pids of every descendant of `root` (not `root` itself), parents before children.
    ///
    /// Follows `/proc/PID/task/TID/children`, a few reads for a small tree instead of one per
    /// process on the system; falls back to a full scan where the kernel does not offer it.
    /// A supervisor's children are all its main thread's (its one other thread, a heavy writer's
    /// log writer, starts none), so `singleThreadedRoot` reads them from that thread's file alone
    /// and skips listing its tasks; and the tree of a supervisor
    /// leaves out another supervisor among its children with all of its own tree: a `runit
    /// start` run inside the process started it, and being a subreaper this one adopted it when
    /// it went to the background, but it supervises a process of its own.
    public static func descendantPIDs(of root: Int32, singleThreadedRoot: Bool = false) -> [Int32] {
        var direct = singleThreadedRoot ? children(of: root, thread: root) : children(of: root)
        if singleThreadedRoot { direct = direct?.filter { !isSupervisor($0) } }
        guard let direct else { return ProcessTable().descendants(of: root).map(\.pid) }
        var result: [Int32] = []
        var queue = direct
        while let next = queue.popLast() {
            guard next != root, !result.contains(next) else { continue }
            result.append(next)
            queue += children(of: next) ?? []
        }
        return result
    }

    /// The children of a process whose children are all its main thread's (a supervisor's); nil
    /// when they cannot be read.
    public static func childPIDs(ofSingleThreaded pid: Int32) -> [Int32]? {
        children(of: pid, thread: pid)
    }

    /// The name a supervisor runs under, as `/proc/PID/comm` gives it.
    public static let supervisorName: [UInt8] = Array("runit-supervise".utf8)

    /// Whether `pid` is a runit supervisor (by its command name); false when it cannot be read.
    public static func isSupervisor(_ pid: Int32) -> Bool {
        ListeningPorts.readPrefix("/proc/\(pid)/comm", limit: 32) == supervisorName + [0x0A]
    }

    /// The children of `pid`, from every one of its threads; nil when they cannot be read. A
    /// process with one thread (most) has its children read from that thread's file alone.
    static func children(of pid: Int32) -> [Int32]? {
        if crunit_proc_threads(pid) == 1 { return children(of: pid, thread: pid) }
        guard let tasks = opendir("/proc/\(pid)/task") else { return nil }
        defer { closedir(tasks) }
        var result: [Int32] = []
        var readAny = false
        while let item = readdir(tasks) {
            let tid = withUnsafePointer(to: item.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            guard let thread = Int32(tid), let found = children(of: pid, thread: thread) else { continue }
            readAny = true
            result += found
        }
        return readAny ? result : nil
    }

    /// The children that thread `thread` of `pid` started; nil when they cannot be read.
    static func children(of pid: Int32, thread: Int32) -> [Int32]? {
        var capacity = 16
        while true {
            var pids = [Int32](repeating: 0, count: capacity)
            let found = pids.withUnsafeMutableBufferPointer { crunit_proc_children(pid, thread, $0.baseAddress, capacity) }
            guard found >= 0 else { return nil }
            if found <= capacity { return Array(pids.prefix(found)) }
            capacity = found * 2
        }
    }

    /// Every descendant of `root` (not `root` itself), parents before children.
    public func descendants(of root: Int32) -> [Entry] {
        var children: [Int32: [Entry]] = [:]
        for entry in entries { children[entry.parent, default: []].append(entry) }
        var result: [Entry] = []
        var queue = [root]
        while let next = queue.popLast() {
            for child in children[next] ?? [] where child.pid != root {
                result.append(child)
                queue.append(child.pid)
            }
        }
        return result
    }
}

private func readBytes(_ fd: Int32, _ buffer: UnsafeMutableRawPointer?, _ count: Int) -> Int {
    read(fd, buffer, count)
}
