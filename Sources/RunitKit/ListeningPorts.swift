import CRunitSystem

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The TCP ports in the LISTEN state and who holds them, read from `/proc` (Linux).
///
/// A value is one snapshot: its initializer reads `/proc/net/tcp` and `/proc/net/tcp6` once,
/// and every question asked of it after that reads only the `/proc/PID/fd` links of the
/// processes concerned. `runit list` makes one for all its processes, not one per process.
/// Where there is no `/proc` (macOS), the snapshot is empty and every answer is "none".
public struct ListeningPorts: Sendable {
    /// The inode of each listening socket, ascending, and its local port at the same index.
    /// Two arrays, not a dictionary: a status command is over in a millisecond, and a
    /// dictionary's first use (its hashing, its generic storage made at run time) cost it a
    /// tenth of its instructions.
    public private(set) var inodes: [UInt64] = []
    private var numbers: [Int] = []

    /// The most bytes of a command line that `listener(of:)` reports.
    public static let commandLimit = 200

    /// Reads the listening sockets of this network namespace, IPv4 and IPv6: asked of the
    /// kernel over netlink, or read from `/proc/net/tcp{,6}` where netlink cannot answer
    /// (reading those walks every bucket of the kernel's connection table: a third of
    /// `runit list`'s time, where netlink's answer costs a few system calls).
    public init() {
        #if os(Linux)
            var found: [(inode: UInt64, port: Int)] = []
            if !Self.askKernel(family: AF_INET, into: &found) {
                Self.readTable("/proc/net/tcp", into: &found)
            }
            if !Self.askKernel(family: AF_INET6, into: &found) {
                Self.readTable("/proc/net/tcp6", into: &found)
            }
            self.init(listeners: found)
        #endif
    }

    /// A snapshot of the sockets `listeners`; of two with one inode, the later one counts.
    init(listeners: [(inode: UInt64, port: Int)]) {
        // Indices, not the pairs, are sorted: an array of Int needs no generic type made at run time.
        let order = listeners.indices.sorted { (listeners[$0].inode, $0) < (listeners[$1].inode, $1) }
        for index in order {
            let (inode, port) = listeners[index]
            if inodes.last == inode {
                numbers[numbers.count - 1] = port
            } else {
                inodes.append(inode)
                numbers.append(port)
            }
        }
    }

    /// Each listening socket's inode and local port, by ascending inode.
    public var listeners: [(inode: UInt64, port: Int)] {
        (0..<inodes.count).map { (inodes[$0], numbers[$0]) }
    }

    /// The local port of the listening socket `inode`; nil when it is no listening socket.
    public func port(ofInode inode: UInt64) -> Int? {
        var low = 0
        var high = inodes.count
        while low < high {
            let middle = (low + high) / 2
            if inodes[middle] < inode { low = middle + 1 } else { high = middle }
        }
        return low < inodes.count && inodes[low] == inode ? numbers[low] : nil
    }

    /// Adds the listening sockets of `family` as the kernel's sock_diag lists them; false when
    /// it cannot (then nothing was added).
    static func askKernel(family: Int32, into ports: inout [(inode: UInt64, port: Int)]) -> Bool {
        var capacity = 256
        while true {
            var inodes = [UInt64](repeating: 0, count: capacity)
            var numbers = [UInt16](repeating: 0, count: capacity)
            let found = inodes.withUnsafeMutableBufferPointer { inodes in
                numbers.withUnsafeMutableBufferPointer { numbers in
                    crunit_listening_tcp(family, inodes.baseAddress, numbers.baseAddress, capacity)
                }
            }
            guard found >= 0 else { return false }
            // More listeners than room: ask again with room for all (and some that came since).
            if found > capacity {
                capacity = found * 2
                continue
            }
            for index in 0..<found { ports.append((inodes[index], Int(numbers[index]))) }
            return true
        }
    }

    /// A snapshot made from the text of `/proc/net/tcp`-style tables (for tests).
    init(tables: [String]) {
        var found: [(inode: UInt64, port: Int)] = []
        for table in tables {
            for line in Array(table.utf8).split(separator: 0x0A) {
                if let socket = Self.listeningSocket(in: line) { found.append(socket) }
            }
        }
        self.init(listeners: found)
    }

    /// Whether no socket listens at all (then no process's descriptors need to be read).
    public var isEmpty: Bool { inodes.isEmpty }

    /// Whether any socket listens on `port`, whoever holds it (readable or not).
    public func isListening(on port: Int) -> Bool {
        numbers.contains(port)
    }

    /// The ports the processes `pids` listen on, sorted, each once (a pid that is gone or not
    /// ours to read adds nothing): their sockets are read first, and the kernel is asked for
    /// the listening ones only when they hold any (most managed processes hold none, and
    /// `status` then asks nothing).
    public static func ports(heldBy pids: [Int32]) -> [Int] {
        let held = socketInodes(of: pids)
        return held.isEmpty ? [] : ListeningPorts().ports(ofSockets: held)
    }

    /// The inodes of the sockets `pids` have open.
    static func socketInodes(of pids: [Int32]) -> [UInt64] {
        var held: [UInt64] = []
        var link = [UInt64](repeating: 0, count: Self.socketBufferSize)
        for pid in pids { held += sockets(of: pid, buffer: &link).map(\.inode) }
        return held
    }

    /// The ports of the listening sockets among `sockets`, sorted, each once.
    private func ports(ofSockets sockets: [UInt64]) -> [Int] {
        var found: [Int] = []
        for inode in sockets {
            if let port = port(ofInode: inode) { found.append(port) }
        }
        found.sort()
        // Each once: a port held by two sockets (IPv4 and IPv6, or two processes) counts once.
        var unique: [Int] = []
        for port in found where unique.last != port { unique.append(port) }
        return unique
    }

    /// The ports that supervisor `root` and every descendant of it listen on, as
    /// ``ports(heldBy:)`` finds them; another supervisor it adopted (a `runit start` run in its
    /// tree) is left out with its tree, as a stop leaves it running.
    public static func ports(heldByTree root: Int32) -> [Int] {
        ports(heldBy: [root] + ProcessTable.descendantPIDs(of: root, singleThreadedRoot: true))
    }

    /// Who listens on `port`: the first process (lowest pid) found holding a listening socket
    /// on it, and its command line; nil when none does or none of the holders can be read.
    public func listener(of port: Int) -> (pid: Int32, command: String)? {
        let held = Set(listeners.filter { $0.port == port }.map(\.inode))
        guard !held.isEmpty, let dir = opendir("/proc") else { return nil }
        defer { closedir(dir) }
        var pids: [Int32] = []
        while let item = readdir(dir) {
            let pid = withUnsafePointer(to: item.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: 256) { Int32(String(cString: $0)) }
            }
            if let pid { pids.append(pid) }
        }
        var link = [UInt64](repeating: 0, count: Self.socketBufferSize)
        for pid in pids.sorted() {
            var holds = false
            Self.forEachSocket(of: pid, buffer: &link) { inode in
                holds = held.contains(inode)
                return !holds
            }
            if holds { return (pid, Self.command(of: pid) ?? "?") }
        }
        return nil
    }

    /// The command line of `pid`, its NUL separators as spaces, cut to `limit` bytes with `…`;
    /// `[name]` for a process without one (a kernel thread); nil when it cannot be read.
    public static func command(of pid: Int32, limit: Int = commandLimit) -> String? {
        guard var text = readPrefix("/proc/\(pid)/cmdline", limit: limit + 1), !text.isEmpty else {
            guard let name = readPrefix("/proc/\(pid)/comm", limit: 64), !name.isEmpty else { return nil }
            return "[" + String(decoding: name.filter { $0 != 0x0A }, as: UTF8.self) + "]"
        }
        let cut = text.count > limit
        if cut { text.removeLast(text.count - limit) }
        while text.last == 0 { text.removeLast() }
        for index in text.indices where text[index] == 0 { text[index] = 0x20 }
        return String(decoding: text, as: UTF8.self) + (cut ? "…" : "")
    }

    // MARK: - Parsing

    /// Room for the socket inodes of one process, at first (more is made when it has more).
    public static let socketBufferSize = 64

    /// The state column's value for a listening socket (`TCP_LISTEN`).
    static let listenState: [UInt8] = Array("0A".utf8)

    /// The inode and local port of the socket on one line of `/proc/net/tcp{,6}`, when it is
    /// listening: `sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode ...`.
    static func listeningSocket(in line: ArraySlice<UInt8>) -> (inode: UInt64, port: Int)? {
        var field = 0
        var index = line.startIndex
        var port = -1
        while index < line.endIndex {
            while index < line.endIndex, line[index] == 0x20 { index += 1 }
            let start = index
            while index < line.endIndex, line[index] != 0x20 { index += 1 }
            guard start < index else { break }
            let word = line[start..<index]
            switch field {
            case 1:
                guard let colon = word.lastIndex(of: UInt8(ascii: ":")),
                    let value = number(word[(colon + 1)...], radix: 16), value <= 65535
                else { return nil }
                port = Int(value)
            case 3:
                guard word.elementsEqual(listenState) else { return nil }
            case 9:
                guard port > 0, let inode = number(word, radix: 10), inode > 0 else { return nil }
                return (inode, port)
            default: break
            }
            field += 1
        }
        return nil
    }

    /// The unsigned number `digits` spells in `radix` (10 or 16); nil for anything else.
    static func number(_ digits: ArraySlice<UInt8>, radix: UInt64) -> UInt64? {
        guard !digits.isEmpty, digits.count <= 20 else { return nil }
        var value: UInt64 = 0
        for byte in digits {
            let digit: UInt64
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt64(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "A")...UInt8(ascii: "F") where radix == 16: digit = UInt64(byte - UInt8(ascii: "A") + 10)
            case UInt8(ascii: "a")...UInt8(ascii: "f") where radix == 16: digit = UInt64(byte - UInt8(ascii: "a") + 10)
            default: return nil
            }
            let (shifted, overflow) = value.multipliedReportingOverflow(by: radix)
            guard !overflow else { return nil }
            value = shifted + digit
        }
        return value
    }

    // MARK: - Reading /proc

    /// Adds the listening sockets of one table, read in blocks line by line: a host with many
    /// connections has a table of megabytes, and only its few LISTEN lines are kept.
    static func readTable(_ path: String, into ports: inout [(inode: UInt64, port: Int)]) {
        let fd = Platform.open(path, O_RDONLY)
        guard fd >= 0 else { return }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 32 * 1024)
        var filled = 0
        while true {
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress! + filled, $0.count - filled) }
            if count < 0, Platform.lastError == EINTR { continue }
            // The end, or an error: what was read so far still counts (its last line too).
            if count <= 0 {
                if filled > 0, let socket = listeningSocket(in: buffer[0..<filled]) { ports.append(socket) }
                return
            }
            filled += count
            var start = 0
            while let newline = buffer[start..<filled].firstIndex(of: 0x0A) {
                if let socket = listeningSocket(in: buffer[start..<newline]) { ports.append(socket) }
                start = newline + 1
            }
            if start > 0 {
                buffer.withUnsafeMutableBytes { _ = memmove($0.baseAddress!, $0.baseAddress! + start, filled - start) }
                filled -= start
            } else if filled == buffer.count {
                // A line longer than the buffer is no socket line: skip it.
                filled = 0
            }
        }
    }

    /// Calls `body` with the inode of each socket that `pid` has open, until it returns false.
    static func forEachSocket(of pid: Int32, buffer inodes: inout [UInt64], _ body: (UInt64) -> Bool) {
        for socket in sockets(of: pid, buffer: &inodes) where !body(socket.inode) { return }
    }

    /// The sockets `pid` has open: each one's inode and descriptor; none when it cannot be read.
    public static func sockets(of pid: Int32, buffer inodes: inout [UInt64]) -> [(inode: UInt64, fd: Int32)] {
        while true {
            let capacity = inodes.count
            var fds = [Int32](repeating: 0, count: capacity)
            let found = inodes.withUnsafeMutableBufferPointer { inodes in
                fds.withUnsafeMutableBufferPointer { crunit_proc_sockets(pid, inodes.baseAddress, $0.baseAddress, capacity) }
            }
            guard found >= 0 else { return [] }
            if found > capacity {
                inodes = [UInt64](repeating: 0, count: found * 2)
                continue
            }
            return (0..<found).map { (inodes[$0], fds[$0]) }
        }
    }

    /// Up to `limit` bytes from the start of a `/proc` file; nil when it cannot be opened.
    static func readPrefix(_ path: String, limit: Int) -> [UInt8]? {
        let fd = Platform.open(path, O_RDONLY)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes = [UInt8](repeating: 0, count: limit)
        var filled = 0
        while filled < limit {
            let count = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress! + filled, limit - filled) }
            if count < 0, Platform.lastError == EINTR { continue }
            if count <= 0 { break }
            filled += count
        }
        bytes.removeLast(limit - filled)
        return bytes
    }
}
