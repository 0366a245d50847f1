import CRunitSystem
import RunitKit

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The supervisor keeps its files in place: the lock that tells clients it is alive, the FIFOs
/// they reach it through, and the status file. Deleted, moved away or replaced (by a link, a
/// regular file, anything), each is made anew at once, woken by inotify on the directory; the
/// directory itself deleted or moved away means the process was taken away from runit, and the
/// supervisor stops it rather than leave it running where no client can reach it.
extension Supervisor {
    /// Opens the regular file at `path` read-write, creating it; anything else there (a link,
    /// a FIFO, a directory) is removed first. -1 on failure.
    func claimFile(_ path: String) -> Int32 {
        for _ in 0..<2 {
            switch Platform.openRegular(path, O_RDWR | O_CREAT) {
            case .success(let fd): return fd
            case .failure(.link), .failure(.notRegular): _ = unlink(path)
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

    /// Watches the process's directory for its files being deleted, moved or replaced.
    mutating func watchDirectory() {
        #if os(Linux)
            let fd = inotify_init1(Int32(IN_CLOEXEC | IN_NONBLOCK))
            guard fd >= 0 else { return }
            let mask = IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR
            guard inotify_add_watch(fd, paths.directory, UInt32(mask)) >= 0 else {
                close(fd)
                return
            }
            descriptors.watch = fd
        #endif
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
                log.system("its directory \(paths.directory) was deleted or moved away: stopping the process")
                beginStop(graceMillis: Self.defaultGraceMillis)
                return
            }
            restoreFiles()
        #endif
    }

    /// Makes anew each of the supervisor's files that is no longer the one it holds.
    mutating func restoreFiles() {
        if !Platform.names(paths.lock, descriptors.lock) {
            _ = unlink(paths.lock)
            let fd = claimFile(paths.lock)
            if fd >= 0 && crunit_lock_try(fd) == 0 {
                close(descriptors.lock)
                descriptors.lock = fd
                log.system("made \(paths.lock) anew: it was deleted or replaced")
            } else if fd >= 0 {
                close(fd)
            }
        }
        if !Platform.names(paths.control, descriptors.control) {
            _ = unlink(paths.control)
            let fd = claimFIFO(paths.control)
            if fd >= 0 {
                close(descriptors.control)
                descriptors.control = fd
                log.system("made \(paths.control) anew: it was deleted or replaced")
            }
        }
        if descriptors.stdinWrite >= 0 && !Platform.names(paths.input, descriptors.input) {
            _ = unlink(paths.input)
            let fd = claimFIFO(paths.input)
            if fd >= 0 {
                relayInput()
                close(descriptors.input)
                descriptors.input = fd
                descriptors.inputBlocked = false
                log.system("made \(paths.input) anew: it was deleted or replaced")
            }
        }
        if Platform.inode(paths.status) != statusInode && statusRetryAt == nil { writeStatus() }
    }

    /// Moves what clients wrote into the input FIFO on to the process's stdin, in the kernel,
    /// as far as the stdin pipe has room; once it is full, waits for the process to read.
    mutating func relayInput() {
        while true {
            if crunit_splice(descriptors.input, descriptors.stdinWrite, 1 << 20) > 0 { continue }
            // Nothing moved: the FIFO is empty, or the pipe is full while input waits.
            var pending = pollfd(fd: descriptors.input, events: Int16(POLLIN), revents: 0)
            descriptors.inputBlocked = poll(&pending, 1, 0) > 0
            return
        }
    }
}
