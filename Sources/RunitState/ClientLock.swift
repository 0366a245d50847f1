import RunitKit

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The lock a client holds while it starts, stops, restarts or removes a process, so that two
/// clients never do so at once. A BSD `flock` on `$RUNIT_HOME/locks/NAME`, a file that no command
/// deletes (`remove` deletes the process's directory, not this); should someone delete or replace
/// it anyway, a client that got the lock on a file no longer at the path lets go and tries again,
/// so two clients never both believe they hold it. It does not touch the supervisor's POSIX lock.
///
/// Taken with a bound: a client that holds it and hangs (stopped with SIGSTOP, say) makes the
/// others give up after `RUNIT_LOCK_TIMEOUT` (30 s unless set), naming the holder.
package struct ClientLock {
    package let fd: Int32

    /// How long a client waits for the lock before it gives up, unless `RUNIT_LOCK_TIMEOUT` says.
    package static let defaultTimeoutMillis: Int64 = 30_000

    /// Takes the lock of `name` under `home`.
    package init(home: String, name: ProcessName) throws(RunitError) {
        let directory = home + "/locks"
        guard Platform.makeDirectory(directory) else {
            throw RunitError(.storage, "cannot create \(directory): \(Platform.describe(errno: Platform.lastError))")
        }
        if let problem = Platform.untrustedDirectory(directory) { throw RunitError(.storage, problem) }
        let path = directory + "/" + name.storage
        let deadline = Platform.monotonicMillis() + Self.timeoutMillis()
        var pause: UInt32 = 1_000
        while true {
            let fd: Int32
            switch Platform.openRegular(path, O_RDWR | O_CREAT) {
            case .success(let opened): fd = opened
            case .failure(.link), .failure(.notRegular):
                // Not a lock of ours: put a fresh file in its place (the path is ours alone).
                guard unlink(path) == 0 || Platform.lastError == ENOENT else {
                    throw RunitError(
                        .storage,
                        "\(path) is not a lock file (a link or a FIFO) and cannot be removed: "
                            + "\(Platform.describe(errno: Platform.lastError)); remove it, then try again")
                }
                continue
            case .failure(let problem):
                throw RunitError(.storage, problem.describe(path))
            }
            if flock(fd, LOCK_EX | LOCK_NB) == 0 {
                if Platform.names(path, fd) {
                    Self.recordHolder(fd)
                    self.fd = fd
                    return
                }
                flock(fd, LOCK_UN)
            }
            let holder = Self.holder(fd)
            close(fd)
            guard Platform.monotonicMillis() < deadline else {
                throw RunitError(.timeout, Self.timeoutMessage(name: name, holder: holder))
            }
            usleep(pause)
            pause = min(pause * 2, 20_000)
        }
    }

    package func release() {
        flock(fd, LOCK_UN)
        close(fd)
    }

    /// Writes this client's pid into the lock file, for the message of a client that gives up:
    /// padded to the width of any pid, so that each write covers the last one whole. (No
    /// truncation: ext4 flushes a file truncated to zero and written again when it is closed,
    /// which cost every command 30 ms on a disk.)
    private static func recordHolder(_ fd: Int32) {
        let pid = String(getpid())
        let text = Array((pid + String(repeating: " ", count: max(0, 10 - pid.count)) + "\n").utf8)
        _ = text.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
    }

    /// The pid recorded by the client holding the lock, if it is still alive.
    private static func holder(_ fd: Int32) -> Int32? {
        var buffer = [UInt8](repeating: 0, count: 32)
        let count = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) }
        guard count > 0 else { return lockOwner(fd) }
        let text = String(decoding: buffer[0..<count], as: UTF8.self).trimmedWhitespace
        guard let pid = Int32(text), Platform.processExists(pid) else { return lockOwner(fd) }
        return pid
    }

    /// The pid the kernel says holds a `flock` on the file of `fd` (`/proc/locks`): a holder
    /// stopped after it took the lock but before it wrote its pid is still named.
    private static func lockOwner(_ fd: Int32) -> Int32? {
        var info = stat()
        guard fstat(fd, &info) == 0, let bytes = Platform.readFile("/proc/locks") else { return nil }
        let dev = UInt64(info.st_dev)
        let major = ((dev >> 8) & 0xfff) | ((dev >> 32) & 0xffff_f000)
        let minor = (dev & 0xff) | ((dev >> 12) & 0xffff_ff00)
        let device = "\(major.hex(width: 2)):\(minor.hex(width: 2)):\(UInt64(info.st_ino))"
        for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") where !line.contains("->") {
            let fields = line.split(separator: " ")
            // "1: FLOCK  ADVISORY  WRITE 4242 08:01:1234567 0 EOF"
            guard fields.count >= 6, fields[1] == "FLOCK", fields[5].lowercased() == device else { continue }
            if let pid = Int32(fields[4]), pid != getpid(), Platform.processExists(pid) { return pid }
        }
        return nil
    }

    private static func timeoutMessage(name: ProcessName, holder: Int32?) -> String {
        let waited = DurationText.format(milliseconds: timeoutMillis())
        guard let holder else {
            return "another runit command held '\(name)' for more than \(waited); try again when it is done"
        }
        var who = "pid \(holder)"
        if let bytes = Platform.readFile("/proc/\(holder)/cmdline"), !bytes.isEmpty {
            let words = bytes.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
            who += ": " + LogText.clean(words.joined(separator: " ")).prefix(200)
        }
        return "another runit command (\(who)) has held '\(name)' for more than \(waited); wait for it to finish, "
            + "or end it with 'kill \(holder)' if it hangs (a stopped one: 'kill -CONT \(holder)')"
    }

    /// The bound from `RUNIT_LOCK_TIMEOUT`, else 30 s.
    package static func timeoutMillis() -> Int64 {
        guard let value = getenv("RUNIT_LOCK_TIMEOUT"), let millis = DurationText.milliseconds(String(cString: value)),
            millis > 0
        else { return defaultTimeoutMillis }
        return millis
    }
}
