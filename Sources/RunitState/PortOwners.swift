import CRunitSystem
import RunitKit

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Which runit process holds each listening TCP socket, remembered between listings in
/// `$RUNIT_HOME/ports.cache`.
///
/// Finding the holder of a socket means reading the descriptors of every process in every
/// tree: half of what `runit list` did per process. A socket's inode names it for as long as
/// it lives, so a holder found once is checked again with one `readlink` of the descriptor it
/// was found at. A socket found in no tree stays "elsewhere" while the trees are the ones
/// that were read. Anything else (a new listener, a holder gone, a process started since)
/// reads the trees again, as without the cache. The cache only saves work: a missing,
/// damaged or planted one is read past, and what it claims about a holder is checked.
package struct PortOwners: Equatable {
    /// Where a listening socket was found.
    package enum Holder: Equatable {
        /// Descriptor `fd` of `pid`, in the tree of the runit process `name`.
        case process(name: String, pid: Int32, fd: Int32)
        /// In none of the trees.
        case elsewhere
    }

    /// The holder of each listening socket, by inode.
    package var holders: [UInt64: Holder] = [:]
    /// The pids (of the processes runit started) whose trees were read to find them.
    package var scanned: Set<Int32> = []

    /// The name of the cache under `home`.
    package static func cachePath(home: String) -> String { home + "/ports.cache" }

    /// The cache's first line, naming its format.
    static let magic = "runit-ports 1"

    /// The ports each process listens on, by name (a process without any is left out): from
    /// the cache where it still holds, from reading the trees of `reports` where it does not;
    /// the cache is rewritten when it changed.
    package static func ports(of reports: [ProcessReport], listening: ListeningPorts, home: String) -> [String: [Int]] {
        guard !listening.isEmpty else { return [:] }
        let path = cachePath(home: home)
        let cached = load(path)
        let running = Set(reports.compactMap { $0.supervisorPID == nil ? nil : $0.pid })
        var owners = cached ?? PortOwners()
        if !owners.accounts(for: listening, running: running) {
            owners = scan(reports, listening: listening)
        }
        if owners != cached { Platform.writeAtomically(path, owners.text, durable: false) }
        var ports: [String: Set<Int>] = [:]
        for (inode, port) in listening.portsByInode {
            if case .process(let name, _, _) = owners.holders[inode] { ports[name, default: []].insert(port) }
        }
        return ports.mapValues { $0.sorted() }
    }

    /// Whether this accounts for every socket of `listening` still: each one's holder still
    /// holds it, or it was elsewhere and every running process's tree was read. Sockets that
    /// stopped listening are forgotten.
    mutating func accounts(for listening: ListeningPorts, running: Set<Int32>) -> Bool {
        holders = holders.filter { listening.portsByInode[$0.key] != nil }
        for inode in listening.portsByInode.keys {
            switch holders[inode] {
            case .process(_, let pid, let fd)?:
                guard crunit_proc_holds_socket(pid, fd, inode) == 1 else { return false }
            case .elsewhere?:
                guard running.isSubset(of: scanned) else { return false }
            case nil:
                return false
            }
        }
        return true
    }

    /// Reads the tree of each running process in `reports` for the sockets of `listening`.
    static func scan(_ reports: [ProcessReport], listening: ListeningPorts) -> PortOwners {
        let trees = reports.compactMap { report -> (name: String, root: Int32, supervisor: Int32)? in
            guard let supervisor = report.supervisorPID, let pid = report.pid else { return nil }
            return (report.name, pid, supervisor)
        }
        let found = Concurrent.map(trees) { tree -> [(UInt64, Holder)] in
            var buffer = [UInt64](repeating: 0, count: ListeningPorts.socketBufferSize)
            var held: [(UInt64, Holder)] = []
            for pid in ProcessTable.descendantPIDs(of: tree.supervisor, singleThreadedRoot: true) {
                for socket in ListeningPorts.sockets(of: pid, buffer: &buffer) where listening.portsByInode[socket.inode] != nil {
                    held.append((socket.inode, .process(name: tree.name, pid: pid, fd: socket.fd)))
                }
            }
            return held
        }
        var owners = PortOwners(scanned: Set(trees.map(\.root)))
        for inode in listening.portsByInode.keys { owners.holders[inode] = .elsewhere }
        for (inode, holder) in found.joined() where owners.holders[inode] == .elsewhere { owners.holders[inode] = holder }
        return owners
    }

    // MARK: - The file

    /// The cache as text: the magic line, `scanned PID...`, then one line per socket,
    /// `INODE PID FD NAME` or `INODE elsewhere`, sorted by inode.
    package var text: [UInt8] {
        var lines = [Self.magic, (["scanned"] + scanned.sorted().map(String.init)).joined(separator: " ")]
        for inode in holders.keys.sorted() {
            switch holders[inode]! {
            case .process(let name, let pid, let fd): lines.append("\(inode) \(pid) \(fd) \(name)")
            case .elsewhere: lines.append("\(inode) elsewhere")
            }
        }
        return Array((lines.joined(separator: "\n") + "\n").utf8)
    }

    /// Parses `text`; nil for anything but a whole cache as ``text`` writes it.
    package init?(text: [UInt8]) {
        guard text.last == 0x0A else { return nil }
        let lines = text.dropLast().split(separator: 0x0A, omittingEmptySubsequences: false).map {
            String(decoding: $0, as: UTF8.self)
        }
        guard lines.count >= 2, lines[0] == Self.magic else { return nil }
        let scannedWords = lines[1].split(separator: " ", omittingEmptySubsequences: false)
        guard scannedWords.first == "scanned" else { return nil }
        for word in scannedWords.dropFirst() {
            guard let pid = Int32(word), pid > 0 else { return nil }
            scanned.insert(pid)
        }
        for line in lines.dropFirst(2) {
            let words = line.split(separator: " ", maxSplits: 3, omittingEmptySubsequences: false)
            guard let inode = UInt64(words[0]), holders[inode] == nil else { return nil }
            if words.count == 2, words[1] == "elsewhere" {
                holders[inode] = .elsewhere
            } else if words.count == 4, let pid = Int32(words[1]), pid > 0, let fd = Int32(words[2]), fd >= 0,
                let name = ProcessName(String(words[3]))
            {
                holders[inode] = .process(name: name.rawValue, pid: pid, fd: fd)
            } else {
                return nil
            }
        }
    }

    package init(holders: [UInt64: Holder] = [:], scanned: Set<Int32> = []) {
        self.holders = holders
        self.scanned = scanned
    }

    /// The cache at `path`, or nil when there is none or it cannot be trusted as one.
    static func load(_ path: String) -> PortOwners? {
        guard case .success(let bytes) = Platform.readRegular(path, limit: 1 << 20) else { return nil }
        return PortOwners(text: bytes)
    }
}
