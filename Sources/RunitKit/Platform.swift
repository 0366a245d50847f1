import CRunitSystem

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The platform calls both executables share, in one place.
public enum Platform {
    /// Microseconds since the epoch, from the real-time clock.
    public static func nowMicros() -> Int64 {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Int64(spec.tv_sec) * 1_000_000 + Int64(spec.tv_nsec) / 1000
    }

    /// Milliseconds from a monotonic clock, for timeouts.
    public static func monotonicMillis() -> Int64 {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return Int64(spec.tv_sec) * 1000 + Int64(spec.tv_nsec) / 1_000_000
    }

    /// The message for an errno value.
    public static func describe(errno code: Int32) -> String {
        guard let text = strerror(code) else { return "error \(code)" }
        return String(cString: text)
    }

    /// The process's environment, as `posix_spawn` takes it.
    public static var environment: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? {
        #if canImport(Glibc)
            return Glibc.environ
        #else
            return _NSGetEnviron().pointee
        #endif
    }

    /// The current errno.
    public static var lastError: Int32 { crunit_errno() }

    /// Opens `path` with close-on-exec set; -1 on failure.
    public static func open(_ path: String, _ flags: Int32, mode: mode_t = 0o600) -> Int32 {
        crunit_open(path, flags, mode)
    }

    /// Closes a descriptor.
    public static func closeDescriptor(_ fd: Int32) {
        _ = close(fd)
    }

    /// Writes all of `bytes`, retrying after EINTR and short writes; false on failure.
    @discardableResult
    public static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let written = write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            if written < 0 {
                if crunit_errno() == EINTR { continue }
                return false
            }
            offset += written
        }
        return true
    }

    /// Writes `bytes` to `path` atomically: a temporary file, fsync, then rename.
    ///
    /// A reader sees either the old file or the new one, never a torn one.
    @discardableResult
    public static func writeAtomically(_ path: String, _ bytes: [UInt8], mode: mode_t = 0o600) -> Bool {
        let temporary = path + ".tmp." + String(getpid())
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC, mode: mode)
        guard fd >= 0 else { return false }
        let ok = bytes.withUnsafeBytes { writeAll(fd, $0) } && fsync(fd) == 0
        close(fd)
        guard ok, rename(temporary, path) == 0 else {
            unlink(temporary)
            return false
        }
        // The rename is durable only once the directory holding it is synced. Best effort: the new
        // file is in place either way, and a directory that cannot be opened (mode 0300) is no error.
        let slash = path.utf8.lastIndex(of: UInt8(ascii: "/"))
        let directory = slash.map { $0 == path.utf8.startIndex ? "/" : String(decoding: path.utf8[..<$0], as: UTF8.self) } ?? "."
        let directoryFD = open(directory, O_RDONLY | O_DIRECTORY)
        if directoryFD >= 0 {
            _ = fsync(directoryFD)
            close(directoryFD)
        }
        return true
    }

    /// Whether the open file `fd` still has a name: false once it was deleted (or its folder).
    public static func isLinked(_ fd: Int32) -> Bool {
        var info = stat()
        return fstat(fd, &info) == 0 && info.st_nlink > 0
    }

    /// The whole contents of a small file, or nil when it cannot be read.
    public static func readFile(_ path: String) -> [UInt8]? {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0 && crunit_errno() == EINTR { continue }
            if count < 0 { return nil }
            if count == 0 { return bytes }
            bytes.append(contentsOf: chunk[0..<count])
            // A regular file that returns less than asked for has ended: save the extra read.
            if count < chunk.count { return bytes }
        }
    }

    /// The pid holding the POSIX write lock on `path`: 0 if none, nil if the file cannot be read.
    public static func lockHolder(_ path: String) -> Int32? {
        let fd = open(path, O_RDWR)
        guard fd >= 0 else { return crunit_errno() == ENOENT ? 0 : nil }
        defer { close(fd) }
        let holder = crunit_lock_holder(fd)
        return holder < 0 ? nil : holder
    }

    /// Whether a process with `pid` exists (zombies included).
    public static func processExists(_ pid: Int32) -> Bool {
        guard pid > 0 else { return false }
        return kill(pid, 0) == 0 || crunit_errno() == EPERM
    }

    /// Creates a directory with mode 0700 if it does not exist; false on any other failure.
    @discardableResult
    public static func makeDirectory(_ path: String) -> Bool {
        mkdir(path, 0o700) == 0 || crunit_errno() == EEXIST
    }

    /// Creates `path` and any missing parent, each new one with mode 0700 (existing ones are left
    /// as they are); false on failure, with errno set.
    @discardableResult
    public static func makeDirectories(_ path: String) -> Bool {
        if makeDirectory(path) { return true }
        guard crunit_errno() == ENOENT, let slash = path.lastIndex(of: "/"), slash != path.startIndex else { return false }
        guard makeDirectories(String(path[..<slash])) else { return false }
        return makeDirectory(path)
    }

    /// Creates a FIFO with mode 0600 if it does not exist.
    @discardableResult
    public static func makeFIFO(_ path: String) -> Bool {
        mkfifo(path, 0o600) == 0 || crunit_errno() == EEXIST
    }
}
