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
/// was found at, and against the process runit runs under that name now. A socket found in
/// no tree stays "elsewhere" while the trees are the ones that were read. Anything else (a
/// new listener, a holder gone, a process started since) reads the trees again, as without
/// the cache, and so does any listing once the cache is ``maximumAge`` old: a socket handed
/// from one process to another (over a unix socket) changes no listener and no tree, and
/// shows within that time. The cache only saves work: a missing, damaged or planted one is
/// read past, and replaced.
package struct PortOwners: Equatable {
    /// Where a listening socket was found: descriptor `fd` of `pid`, in the tree of the runit
    /// process `name`, whose main process was `root`.
    package struct Holder: Equatable, Hashable {
        package var name: String
        package var root: Int32
        package var pid: Int32
        package var fd: Int32
    }

    /// The holders of each listening socket, by inode: none when it is in none of the trees
    /// (elsewhere); more than one when processes share it.
    package var holders: [UInt64: [Holder]] = [:]
    /// The pids (of the processes runit started) whose trees were read to find them.
    package var scanned: Set<Int32> = []
    /// When the trees were read, in microseconds of the monotonic clock.
    package var scannedAt: Int64 = 0

    /// How long a cache is used before the trees are read again, in microseconds.
    package static let maximumAge: Int64 = 2_000_000

    /// The folder of the cache under `home`: not the state directory itself, whose renames
    /// and deletions every supervisor watches (the cache is rewritten by many listings).
    package static func cacheFolder(home: String) -> String { home + "/cache" }

    /// The name of the cache under `home`.
    package static func cachePath(home: String) -> String { cacheFolder(home: home) + "/ports.cache" }

    /// The cache's first line, naming its format.
    static let magic = "runit-ports 1"

    /// The ports each process listens on, by name (a process without any is left out): from
    /// the cache where it still holds, from reading the trees of `reports` where it does not;
    /// the cache is rewritten when it changed.
    package static func ports(of reports: [ProcessReport], listening: ListeningPorts, home: String) -> [String: [Int]] {
        guard !listening.isEmpty else { return [:] }
        let path = cachePath(home: home)
        // A folder that is a link, or that others can write to, is neither read nor written.
        let folder = cacheFolder(home: home)
        let trusted = Platform.makeDirectory(folder) && Platform.untrustedDirectory(folder) == nil
        let cached = trusted ? load(path) : nil
        var roots: [String: Int32] = [:]
        for report in reports where report.supervisorPID != nil {
            if let pid = report.pid { roots[report.name] = pid }
        }
        var owners = cached ?? PortOwners()
        if !owners.accounts(for: listening, roots: roots, now: Platform.monotonicMicros()) {
            owners = scan(reports, listening: listening)
        }
        if trusted && owners != cached {
            save(owners, to: path)
            _ = unlink(home + "/ports.cache")  // Where versions before 2026-12-04 kept it.
        }
        var ports: [String: Set<Int>] = [:]
        for (inode, port) in listening.listeners {
            for holder in owners.holders[inode] ?? [] { ports[holder.name, default: []].insert(port) }
        }
        return ports.mapValues { $0.sorted() }
    }

    /// Whether this accounts for every socket of `listening` still, with `roots` the main pid of
    /// each running process by name: it is younger than ``maximumAge``, each holder still holds
    /// its socket under the process it was found in, and a socket elsewhere was looked for in
    /// the tree of every process running now. Sockets that stopped listening are forgotten.
    mutating func accounts(for listening: ListeningPorts, roots: [String: Int32], now: Int64) -> Bool {
        guard scannedAt <= now, now - scannedAt < Self.maximumAge else { return false }
        holders = holders.filter { listening.port(ofInode: $0.key) != nil }
        // Once, not per socket: a host with a thousand listeners held by none of ours made this
        // a set comparison per socket.
        let runningScanned = Set(roots.values).isSubset(of: scanned)
        for inode in listening.inodes {
            guard let found = holders[inode] else { return false }
            if found.isEmpty {
                guard runningScanned else { return false }
            }
            for holder in found {
                guard roots[holder.name] == holder.root, crunit_proc_holds_socket(holder.pid, holder.fd, inode) == 1 else {
                    return false
                }
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
            var held: [UInt64: Holder] = [:]
            for pid in ProcessTable.descendantPIDs(of: tree.supervisor, singleThreadedRoot: true) {
                for socket in ListeningPorts.sockets(of: pid, buffer: &buffer)
                where listening.port(ofInode: socket.inode) != nil && held[socket.inode] == nil {
                    held[socket.inode] = Holder(name: tree.name, root: tree.root, pid: pid, fd: socket.fd)
                }
            }
            return Array(held)
        }
        var owners = PortOwners(scanned: Set(trees.map(\.root)), scannedAt: Platform.monotonicMicros())
        for inode in listening.inodes { owners.holders[inode] = [] }
        for (inode, holder) in found.joined() { owners.holders[inode, default: []].append(holder) }
        return owners
    }

    // MARK: - The file

    /// The cache as text: the magic line, `scanned AT PID...`, then one line per socket,
    /// `INODE` alone when it is elsewhere, else `INODE ROOT PID FD NAME` for each holder.
    package var text: [UInt8] {
        var lines = [Self.magic, (["scanned", String(scannedAt)] + scanned.sorted().map(String.init)).joined(separator: " ")]
        for inode in holders.keys.sorted() {
            let found = holders[inode]!
            if found.isEmpty { lines.append("\(inode)") }
            for holder in found {
                lines.append("\(inode) \(holder.root) \(holder.pid) \(holder.fd) \(holder.name)")
            }
        }
        return Array((lines.joined(separator: "\n") + "\n").utf8)
    }

    /// Parses `text`; nil for anything but a whole cache as ``text`` writes it.
    package init?(text: [UInt8]) {
        guard text.last == 0x0A else { return nil }
        // Split as bytes, each word made text only to be read: a host with a thousand listeners
        // has a cache of a thousand lines, and splitting text into characters cost a listing
        // a fifth of its instructions.
        let lines = text.dropLast().split(separator: 0x0A, omittingEmptySubsequences: false)
        func word(_ bytes: ArraySlice<UInt8>) -> String { String(decoding: bytes, as: UTF8.self) }
        guard lines.count >= 2, word(lines[0]) == Self.magic else { return nil }
        let scannedWords = lines[1].split(separator: 0x20, omittingEmptySubsequences: false)
        guard scannedWords.count >= 2, word(scannedWords[0]) == "scanned", let at = Int64(word(scannedWords[1])), at >= 0
        else { return nil }
        scannedAt = at
        for pidWord in scannedWords.dropFirst(2) {
            guard let pid = Int32(word(pidWord)), pid > 0 else { return nil }
            scanned.insert(pid)
        }
        var elsewhere: Set<UInt64> = []
        for line in lines.dropFirst(2) {
            let words = line.split(separator: 0x20, maxSplits: 4, omittingEmptySubsequences: false)
            guard let inode = UInt64(word(words[0])), !elsewhere.contains(inode) else { return nil }
            if words.count == 1 {
                guard holders[inode] == nil else { return nil }
                elsewhere.insert(inode)
                holders[inode] = []
            } else if words.count == 5, let root = Int32(word(words[1])), root > 0, let pid = Int32(word(words[2])), pid > 0,
                let fd = Int32(word(words[3])), fd >= 0, let name = ProcessName(word(words[4]))
            {
                let holder = Holder(name: name.rawValue, root: root, pid: pid, fd: fd)
                guard holders[inode]?.contains(holder) != true else { return nil }
                holders[inode, default: []].append(holder)
            } else {
                return nil
            }
        }
    }

    package init(holders: [UInt64: [Holder]] = [:], scanned: Set<Int32> = [], scannedAt: Int64 = 0) {
        self.holders = holders
        self.scanned = scanned
        self.scannedAt = scannedAt
    }

    /// The cache at `path`, or nil when there is none or it cannot be trusted as one.
    static func load(_ path: String) -> PortOwners? {
        guard case .success(let bytes) = Platform.readRegular(path, limit: 1 << 20) else { return nil }
        return PortOwners(text: bytes)
    }

    /// Writes the cache (atomically, never through a link; a failure only costs the next
    /// listing a scan), and removes what writers killed before their rename left behind.
    static func save(_ owners: PortOwners, to path: String) {
        Platform.writeAtomically(path, owners.text, durable: false)
        let slash = path.utf8.lastIndex(of: UInt8(ascii: "/")) ?? path.utf8.startIndex
        let folder = String(decoding: path.utf8[..<slash], as: UTF8.self)
        let prefix = String(decoding: path.utf8[path.utf8.index(after: slash)...], as: UTF8.self) + ".tmp."
        let now = time(nil)
        for entry in Platform.directoryEntries(folder) where entry.hasPrefix(prefix) {
            let leftover = folder + "/" + entry
            // A minute old: no writer takes that long between its open and its rename.
            if let age = age(of: leftover, now: now), age > 60 { unlink(leftover) }
        }
    }

    /// Seconds since the regular file at `path` last changed; nil for anything else.
    static func age(of path: String, now: time_t) -> Int? {
        var info = stat()
        guard lstat(path, &info) == 0, info.st_mode & S_IFMT == S_IFREG else { return nil }
        #if canImport(Glibc)
            return Int(now - info.st_mtim.tv_sec)
        #else
            return Int(now - info.st_mtimespec.tv_sec)
        #endif
    }
}
