import CRunitSystem

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Why a file in the state directory could not be used.
public enum FileProblem: Error, Equatable, Sendable {
    /// It does not exist.
    case missing
    /// It is a symbolic link, which runit never follows in its state directory.
    case link
    /// It is not a regular file (a FIFO, a device, a directory, a socket): what it is.
    case notRegular(String)
    /// It is larger than a file of its kind may be: its size.
    case tooLarge(Int64)
    /// A system call failed with this errno.
    case failed(Int32)

    /// The problem, said of `path`, with what to do about it.
    public func describe(_ path: String) -> String {
        switch self {
        case .missing: return "\(path) does not exist"
        case .link: return "\(path) is a symbolic link, and runit follows no link in its state directory; remove it"
        case .notRegular(let kind): return "\(path) is \(kind), not a regular file; remove it"
        case .tooLarge(let size):
            return "\(path) is \(size) bytes, far more than such a file holds, so it is not runit's; remove it"
        case .failed(let code): return "cannot open \(path): \(Platform.describe(errno: code))"
        }
    }
}

extension Platform {
    /// The most a state file (status, spec) may hold; anything larger is not one of runit's.
    public static let stateFileLimit = 1 << 20

    /// Opens a regular file without following a link and without blocking on a FIFO.
    public static func openRegular(_ path: String, _ flags: Int32, mode: mode_t = 0o600) -> Result<Int32, FileProblem> {
        let fd = open(path, flags | O_NONBLOCK, mode: mode)
        guard fd >= 0 else {
            let code = crunit_errno()
            return .failure(code == ENOENT ? .missing : code == ELOOP ? .link : .failed(code))
        }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            let code = crunit_errno()
            close(fd)
            return .failure(.failed(code))
        }
        guard info.st_mode & S_IFMT == S_IFREG else {
            close(fd)
            return .failure(.notRegular(kind(of: info.st_mode)))
        }
        return .success(fd)
    }

    /// What a file of mode `mode` is, in words.
    public static func kind(of mode: mode_t) -> String {
        switch mode & S_IFMT {
        case S_IFIFO: return "a FIFO"
        case S_IFDIR: return "a directory"
        case S_IFCHR: return "a character device"
        case S_IFBLK: return "a block device"
        case S_IFSOCK: return "a socket"
        case S_IFLNK: return "a symbolic link"
        default: return "a regular file"
        }
    }

    /// The contents of a regular file of at most `limit` bytes, read without following a link or
    /// blocking on a FIFO. With `shortReadEnds`, a read that returns less than asked is the end
    /// (so a small file takes one read); without, only an empty read is (`/proc`).
    public static func readRegular(
        _ path: String, limit: Int = stateFileLimit, shortReadEnds: Bool = true
    ) -> Result<[UInt8], FileProblem> {
        let opened = openRegular(path, O_RDONLY)
        guard case .success(let fd) = opened else { return opened.map { _ in [] } }
        defer { close(fd) }
        // Read in place, into a buffer that doubles when full (up to just past the limit); a read that comes short is the
        // end of a regular file (a state file, replaced whole by rename, never grows), so a
        // small file takes one read, not a second one to see the end.
        var bytes = [UInt8](repeating: 0, count: 4096)
        var filled = 0
        while true {
            if filled == bytes.count { bytes += repeatElement(0, count: min(bytes.count, limit + 4096 - bytes.count)) }
            let wanted = bytes.count - filled
            let count = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress! + filled, wanted) }
            if count < 0 && crunit_errno() == EINTR { continue }
            if count < 0 { return .failure(.failed(crunit_errno())) }
            filled += count
            if filled > limit { return .failure(.tooLarge(Int64(fileSize(fd) ?? filled))) }
            if count == 0 || (shortReadEnds && count < wanted) {
                bytes.removeSubrange(filled...)
                return .success(bytes)
            }
        }
    }

    /// The whole contents of a small regular file, or nil when it cannot be read.
    public static func readFile(_ path: String) -> [UInt8]? {
        // `/proc` files come a record or a page at a time: only an empty read is their end.
        try? readRegular(path, limit: 16 << 20, shortReadEnds: false).get()
    }

    /// The size of the open file `fd`.
    static func fileSize(_ fd: Int32) -> Int? {
        var info = stat()
        return fstat(fd, &info) == 0 ? Int(info.st_size) : nil
    }

    /// Writes `bytes` to `path` atomically: a new temporary file (never an existing one, never
    /// through a link), fsync, then rename. A reader sees either the old file or the new one,
    /// never a torn one. Returns 0, or the errno of the step that failed (nothing is left behind).
    /// On a full disk, a `reserve` file (see ``makeReserve(_:)``) is deleted to make room and
    /// the write is tried once more.
    @discardableResult
    public static func writeAtomically(
        _ path: String, _ bytes: [UInt8], mode: mode_t = 0o600, reserve: String? = nil, durable: Bool = true
    ) -> Int32 {
        var descriptor: Int32 = -1
        let failure = writeAtomically(path, bytes, mode: mode, reserve: reserve, durable: durable, keeping: &descriptor)
        if descriptor >= 0 { close(descriptor) }
        return failure
    }

    /// ``writeAtomically(_:_:mode:reserve:durable:)``, keeping the written file open: on success
    /// `descriptor` is its descriptor, the caller's to close (-1 on failure). By the time this
    /// returns, the path may name another file, or none; and while it is held open, the file's
    /// inode number cannot be given to another one made in its place.
    public static func writeAtomically(
        _ path: String, _ bytes: [UInt8], mode: mode_t = 0o600, reserve: String? = nil, durable: Bool = true,
        keeping descriptor: inout Int32
    ) -> Int32 {
        let failure = writeAtomicallyOnce(path, bytes, mode: mode, durable: durable, keeping: &descriptor)
        guard failure == ENOSPC || failure == EDQUOT, let reserve, unlink(reserve) == 0 else { return failure }
        return writeAtomicallyOnce(path, bytes, mode: mode, durable: durable, keeping: &descriptor)
    }

    /// Makes the reserve file at `path` if it is missing: one page of zeros, really written (not
    /// sparse), so deleting it frees room for one small file. False when there is no room for it.
    @discardableResult
    public static func makeReserve(_ path: String) -> Bool {
        guard access(path, F_OK) != 0 else { return true }
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL, mode: 0o600)
        guard fd >= 0 else { return false }
        let zeros = [UInt8](repeating: 0, count: 4096)
        let ok = zeros.withUnsafeBytes { writeAll(fd, $0) } && fsync(fd) == 0
        close(fd)
        if !ok { unlink(path) }
        return ok
    }

    private static func writeAtomicallyOnce(
        _ path: String, _ bytes: [UInt8], mode: mode_t, durable: Bool, keeping descriptor: inout Int32
    ) -> Int32 {
        descriptor = -1
        let temporary = path + ".tmp." + String(getpid()) + "." + String(UInt32.random(in: 0...UInt32.max), radix: 16)
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL, mode: mode)
        guard fd >= 0 else { return crunit_errno() }
        var failure: Int32 = 0
        if !bytes.withUnsafeBytes({ writeAll(fd, $0) }) || (durable && fsync(fd) != 0) { failure = crunit_errno() }
        if failure == 0 && rename(temporary, path) != 0 { failure = crunit_errno() }
        guard failure == 0 else {
            close(fd)
            unlink(temporary)
            return failure
        }
        descriptor = fd
        guard durable else { return 0 }
        // The rename is durable only once the directory holding it is synced. Best effort: the new
        // file is in place either way, and a directory that cannot be opened (mode 0300) is no error.
        let slash = path.utf8.lastIndex(of: UInt8(ascii: "/"))
        let directory = slash.map { $0 == path.utf8.startIndex ? "/" : String(decoding: path.utf8[..<$0], as: UTF8.self) } ?? "."
        let directoryFD = open(directory, O_RDONLY | O_DIRECTORY)
        if directoryFD >= 0 {
            _ = fsync(directoryFD)
            close(directoryFD)
        }
        return 0
    }

    /// Whether `path` names the open file `fd` (not through a link): false once it was deleted,
    /// moved away or replaced.
    public static func names(_ path: String, _ fd: Int32) -> Bool {
        var open = stat()
        var named = stat()
        return fstat(fd, &open) == 0 && lstat(path, &named) == 0 && open.st_dev == named.st_dev && open.st_ino == named.st_ino
    }

    /// Whether the open file `fd` still has a name: false once it was deleted (or its folder).
    public static func isLinked(_ fd: Int32) -> Bool {
        var info = stat()
        return fstat(fd, &info) == 0 && info.st_nlink > 0
    }

    /// Raises this process's soft limit on open files to its hard limit (at most 65,536), for a
    /// reader that holds one file per process open. Not for a process that starts others: they
    /// would inherit it.
    public static func raiseOpenFileLimit() {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return }
        let wanted = min(limit.rlim_max, 65_536)
        guard limit.rlim_cur < wanted else { return }
        limit.rlim_cur = wanted
        _ = setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
    }

    /// The effective user, read once: runit never changes it.
    static let effectiveUser = geteuid()

    /// Why the directory `path` cannot be trusted with runit's state, or nil when it can: it must
    /// be a directory (a link to one only when `followLink`, for `RUNIT_HOME` itself), owned by
    /// this user, and writable by no one else, as ssh asks of its key folder. A missing one is
    /// no problem (it gets created with mode 0700).
    public static func untrustedDirectory(_ path: String, followLink: Bool = false) -> String? {
        var info = stat()
        let found = followLink ? stat(path, &info) : lstat(path, &info)
        guard found == 0 else {
            return crunit_errno() == ENOENT ? nil : "cannot inspect \(path): \(describe(errno: crunit_errno()))"
        }
        guard info.st_mode & S_IFMT == S_IFDIR else {
            return "\(path) is \(kind(of: info.st_mode)), not a directory; remove it, or set RUNIT_HOME to another directory"
        }
        let user = effectiveUser
        if info.st_uid != user {
            return "\(path) is owned by uid \(info.st_uid), not by you (uid \(user)), so another user could change what runit "
                + "runs; run 'chown \(user) \(path)' or set RUNIT_HOME to a directory of yours"
        }
        if info.st_mode & 0o022 != 0 {
            let mode = String(info.st_mode & 0o7777, radix: 8)
            return "\(path) is writable by group or others (mode \(mode)), so another user could change what runit runs; "
                + "run 'chmod go-w \(path)'"
        }
        return nil
    }

    /// Whether something is at `path` (a link is followed, as `FileManager.fileExists` does).
    public static func exists(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0
    }

    /// The names in directory `path`, without `.` and `..`, in the order the directory gives
    /// them; empty when it cannot be read.
    public static func directoryEntries(_ path: String) -> [String] {
        guard let stream = opendir(path) else { return [] }
        defer { closedir(stream) }
        var names: [String] = []
        while let item = readdir(stream) {
            let name = withUnsafePointer(to: item.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    /// Creates a directory with mode 0700 if it does not exist; false on any other failure.
    @discardableResult
    public static func makeDirectory(_ path: String, mode: mode_t = 0o700) -> Bool {
        mkdir(path, mode) == 0 || crunit_errno() == EEXIST
    }

    /// Creates `path` and any missing parent, each new one with `mode` (0700: runit's state; the
    /// umask applies), existing ones left as they are; false on failure, with errno set.
    @discardableResult
    public static func makeDirectories(_ path: String, mode: mode_t = 0o700) -> Bool {
        if makeDirectory(path, mode: mode) { return true }
        guard crunit_errno() == ENOENT, let slash = path.lastIndex(of: "/"), slash != path.startIndex else { return false }
        guard makeDirectories(String(path[..<slash]), mode: mode) else { return false }
        return makeDirectory(path, mode: mode)
    }

    /// Creates a FIFO with mode 0600 if it does not exist.
    @discardableResult
    public static func makeFIFO(_ path: String) -> Bool {
        mkfifo(path, 0o600) == 0 || crunit_errno() == EEXIST
    }

    /// FNV-1a over `text` from `seed`: a short, stable fingerprint of a path (not a secret).
    public static func fingerprint(_ text: String, seed: UInt64 = 0xcbf2_9ce4_8422_2325) -> String {
        var hash = seed
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        let hex = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }
}
