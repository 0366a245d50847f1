import CRunitSystem

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The platform calls both executables share, in one place.
public enum Platform {
    /// Puts `/dev/null` on each of stdin, stdout and stderr that is closed (`runit … >&-`), open
    /// for the other direction, so that reading or writing it still fails with EBADF as on a
    /// closed descriptor, and no descriptor opened later (the Dispatch runtime's eventfd, a log
    /// file) takes its number and gets the command's output.
    public static func occupyClosedStandardDescriptors() {
        for fd: Int32 in 0...2 where fcntl(fd, F_GETFD) == -1 && errno == EBADF {
            _ = open("/dev/null", fd == 0 ? O_WRONLY : O_RDONLY)
        }
    }

    /// Microseconds since the epoch, from the real-time clock.
    public static func nowMicros() -> Int64 {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Int64(spec.tv_sec) * 1_000_000 + Int64(spec.tv_nsec) / 1000
    }

    /// Milliseconds from a monotonic clock, for timeouts.
    public static func monotonicMillis() -> Int64 {
        monotonicMicros() / 1000
    }

    /// Microseconds from a monotonic clock, which no change of the wall clock moves.
    public static func monotonicMicros() -> Int64 {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return Int64(spec.tv_sec) * 1_000_000 + Int64(spec.tv_nsec) / 1000
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

    /// The process's environment as a dictionary, read from `environ` now (the first of a
    /// repeated name wins, as `getenv` finds it).
    public static var environmentDictionary: [String: String] {
        var result: [String: String] = [:]
        guard var entry = environment else { return result }
        while let pointer = entry.pointee {
            let text = String(cString: pointer)
            if let equals = text.utf8.firstIndex(of: UInt8(ascii: "=")) {
                let key = String(text[..<equals])
                if result[key] == nil { result[key] = String(text[text.index(after: equals)...]) }
            }
            entry += 1
        }
        return result
    }

    /// The process's environment as `KEY=VALUE` texts that keep every byte (``ByteText``), in
    /// its order, for a child's environment.
    public static var environmentEntries: [String] {
        var result: [String] = []
        guard var entry = environment else { return result }
        while let pointer = entry.pointee {
            result.append(ByteText.text(cString: pointer))
            entry += 1
        }
        return result
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

    /// The pid holding the POSIX write lock on `path`: 0 if none, nil if the file cannot be read.
    public static func lockHolder(_ path: String) -> Int32? {
        let fd = open(path, O_RDWR | O_NONBLOCK)
        guard fd >= 0 else { return crunit_errno() == ENOENT ? 0 : nil }
        defer { close(fd) }
        let holder = crunit_lock_holder(fd)
        return holder < 0 ? nil : holder
    }

    /// A descriptor that becomes readable when the process `pid` ends (Linux's pidfd, close-on-exec);
    /// -1 where there is none or the process is gone.
    public static func exitDescriptor(_ pid: Int32) -> Int32 {
        pid > 0 ? crunit_pidfd_open(pid) : -1
    }

    /// Whether a process with `pid` exists (zombies included).
    public static func processExists(_ pid: Int32) -> Bool {
        guard pid > 0 else { return false }
        return kill(pid, 0) == 0 || crunit_errno() == EPERM
    }
}
