import CRunitSystem
import RunitKit

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The supervisor keeps its files in place: the lock that tells clients it is alive, the FIFOs
/// they reach it through, and the status file. Deleted, moved away or replaced (by a link, a
/// regular file, anything), each is made anew at once, woken by the kernel (dnotify's SIGIO, or
/// inotify where there is no dnotify); the directory itself deleted or moved away means the
/// process was taken away from runit, and the supervisor stops it rather than leave it running
/// where no client can reach it.
extension Supervisor {
    /// Opens the regular file at `path` read-write, creating it; anything else there (a link,
    /// a FIFO, a directory) is removed first. -1 on failure.
    func claimFile(_ path: String) -> Int32 {
        for _ in 0..<2 {
            switch Platform.openRegular(path, O_RDWR | O_CREAT) {
            case .success(let fd): return fd
            case .failure(.link), .failure(.notRegular):
                if unlink(path) != 0 { _ = rmdir(path) }
            case .failure: return -1
            }
        }
        return -1
    }

    /// Makes a FIFO at `path` (removing anything else there) and opens it read-write without
    /// blocking, so it never reports end-of-file. -1 on failure.
    func claimFIFO(_ path: String) -> Int32 {
        for _ in 0..<2 {
            _ = Platform.makeFIFO(path)
            let fd = Platform.open(path, O_RDWR | O_NONBLOCK)
            var info = stat()
            if fd >= 0 && fstat(fd, &info) == 0 && info.st_mode & S_IFMT == S_IFIFO { return fd }
            if fd >= 0 { close(fd) }
            _ = unlink(path)
            _ = rmdir(path)
        }
        return -1
    }

    /// How often the files are checked when they cannot be watched, or could not all be put back.
    static let repairMillis: Int64 = 2_000

    /// Watches the process's directory for its files being deleted, moved or replaced, and the
    /// directory above it for the directory being moved away: with dnotify, which takes none
    /// of the user's inotify instances (a limit of 128 by default, shared with every editor and
    /// file watcher the user runs), so any number of supervisors leave them to those. Where the
    /// kernel has no dnotify, with inotify; without either (inotify's limits reached), it says
    /// so in the log and checks every 2 s instead. `RUNIT_DIRECTORY_WATCH=inotify` or `timer`
    /// starts at that way (for the tests of each, and for a kernel whose dnotify misbehaves).
    mutating func watchDirectory() {
        descriptors.directory = Platform.open(paths.directory, O_RDONLY | O_DIRECTORY)
        #if os(Linux)
            let way = getenv("RUNIT_DIRECTORY_WATCH").map { String(cString: $0) } ?? ""
            if way == "timer" {
                log.system("checking the files of \(paths.directory) every 2s (RUNIT_DIRECTORY_WATCH=timer)")
                repairAt = Platform.monotonicMillis() + Self.repairMillis
                return
            }
            if way != "inotify" && descriptors.directory >= 0 && crunit_directory_notify(descriptors.directory, 1) == 0 {
                descriptors.notified = true
                // Not creations: a process started beside this one wakes no one. A removed one
                // does (a deletion), and costs each supervisor two `stat`s and a few more. The
                // state directory above: `procs` moved away leaves the process unreachable too.
                descriptors.parent = Self.notifiedDirectory(paths.directory + "/..")
                descriptors.home = Self.notifiedDirectory(paths.directory + "/../..")
                return
            }
            let fd = inotify_init1(Int32(IN_CLOEXEC | IN_NONBLOCK))
            let mask = IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR
            if fd >= 0 && inotify_add_watch(fd, paths.directory, UInt32(mask)) >= 0 {
                descriptors.watch = fd
                return
            }
            let failure = crunit_errno()
            if fd >= 0 { close(fd) }
            log.system(
                "cannot watch \(paths.directory) (\(Platform.describe(errno: failure)); see fs.inotify.max_user_instances "
                    + "and max_user_watches): checking its files every 2s instead")
        #endif
        repairAt = Platform.monotonicMillis() + Self.repairMillis
    }

    /// `path` opened, with dnotify asking for renames, deletions and moves out of it; -1 if
    /// it cannot be.
    static func notifiedDirectory(_ path: String) -> Int32 {
        let fd = Platform.open(path, O_RDONLY | O_DIRECTORY)
        if fd >= 0 && crunit_directory_notify(fd, 0) != 0 {
            close(fd)
            return -1
        }
        return fd
    }

    /// Removes every inotify watch once the supervisor is on its way out (a final stop). The
    /// kernel frees a watch only after an RCU grace period, and a close that must wait for one
    /// held the supervisor's exit, and the `stop` waiting for it, up to 15 ms; removed at the
    /// stop's start, the watches are long freed when the exit closes their descriptors. Until
    /// the exit, the files are checked on the repair timer instead.
    mutating func retireWatches() {
        #if os(Linux)
            if descriptors.watch >= 0 {
                _ = inotify_rm_watch(descriptors.watch, Self.directoryWatch)
                descriptors.retiredWatches.append(descriptors.watch)
                descriptors.watch = -1
            }
            if let fd = fileWatch.retire() { descriptors.retiredWatches.append(fd) }
        #endif
        // A stop can last its whole grace period: the files are still put back meanwhile, on the
        // timer (or on dnotify's signal, which needs nothing retired).
        if repairAt == nil && !descriptors.notified { repairAt = Platform.monotonicMillis() + Self.repairMillis }
    }

    /// The watch descriptor of the process's directory: the first and only one of its inotify instance.
    static let directoryWatch: Int32 = 1

    /// Whether the process's directory is gone: deleted (no links left) or moved away (another
    /// directory, or none, at its path).
    var directoryIsGone: Bool {
        guard descriptors.directory >= 0 else { return false }
        return !Platform.isLinked(descriptors.directory) || !Platform.names(paths.directory, descriptors.directory)
    }

    /// Checks the files on a timer, while they cannot be watched or could not all be put back.
    mutating func repairIfDue(now: Int64) {
        guard let due = repairAt, now >= due else { return }
        repairAt = nil
        checkFiles()
        if descriptors.watch < 0 && !descriptors.notified && repairAt == nil { repairAt = now + Self.repairMillis }
    }

    /// Reads the directory's events and puts back whatever of the supervisor's files is missing.
    mutating func handleDirectoryEvents() {
        #if os(Linux)
            var directoryGone = false
            while true {
                let count = read(descriptors.watch, readBuffer.baseAddress, 4096)
                guard count > 0 else { break }
                var offset = 0
                // struct inotify_event: wd, mask, cookie, len, then len bytes of name.
                while offset + 16 <= count {
                    let mask = readBuffer.load(fromByteOffset: offset + 4, as: UInt32.self)
                    let length = Int(readBuffer.load(fromByteOffset: offset + 12, as: UInt32.self))
                    if mask & UInt32(IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED) != 0 { directoryGone = true }
                    offset += 16 + length
                }
            }
            if directoryGone {
                close(descriptors.watch)
                descriptors.watch = -1
            }
            checkFiles()
        #endif
    }

    /// Stops the process when its directory is gone; otherwise puts back what is missing.
    mutating func checkFiles() {
        if directoryIsGone {
            if descriptors.directory >= 0 { close(descriptors.directory) }
            descriptors.directory = -1
            directoryLost = true
            repairAt = nil
            log.system("its directory \(paths.directory) was deleted or moved away: stopping the process")
            beginStop(graceMillis: arguments.policies.stopTimeoutMillis)
            return
        }
        guard descriptors.directory >= 0 else { return }
        if !restoreFiles() { repairAt = Platform.monotonicMillis() + Self.repairMillis }
    }

    /// Makes anew each of the supervisor's files that is no longer the one it holds; false when
    /// one could not be (it is tried again on a timer).
    mutating func restoreFiles() -> Bool {
        var restored = true
        if !Platform.names(paths.lock, descriptors.lock) {
            if unlink(paths.lock) != 0 { _ = rmdir(paths.lock) }
            let fd = claimFile(paths.lock)
            if fd >= 0 && crunit_lock_try(fd) == 0 {
                close(descriptors.lock)
                descriptors.lock = fd
                log.system("made \(paths.lock) anew: it was deleted or replaced")
            } else {
                if fd >= 0 { close(fd) }
                restored = false
            }
        }
        if !Platform.names(paths.control, descriptors.control) {
            if unlink(paths.control) != 0 { _ = rmdir(paths.control) }
            let fd = claimFIFO(paths.control)
            if fd >= 0 {
                close(descriptors.control)
                descriptors.control = fd
                log.system("made \(paths.control) anew: it was deleted or replaced")
            } else {
                restored = false
            }
        }
        if descriptors.stdinWrite >= 0 && !Platform.names(paths.input, descriptors.input) {
            if unlink(paths.input) != 0 { _ = rmdir(paths.input) }
            let fd = claimFIFO(paths.input)
            if fd >= 0 {
                relayInput()
                close(descriptors.input)
                descriptors.input = fd
                descriptors.inputBlocked = false
                log.system("made \(paths.input) anew: it was deleted or replaced")
            } else {
                restored = false
            }
        }
        if !Platform.names(paths.status, statusFile) && statusRetryAt == nil {
            if unlink(paths.status) != 0 { _ = rmdir(paths.status) }
            writeStatus()
        }
        return restored
    }
}
