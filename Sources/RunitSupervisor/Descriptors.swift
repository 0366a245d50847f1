import CRunitSystem
import RunitKit

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The descriptors a supervisor holds for its whole life.
struct Descriptors {
    /// The signalfd for SIGCHLD, SIGTERM, SIGINT, SIGHUP and SIGQUIT.
    var signals: Int32 = -1
    /// The control FIFO, opened read-write so it never reports end-of-file.
    var control: Int32 = -1
    /// The input FIFO: the process's stdin, held open so the process waits instead of seeing EOF.
    var input: Int32 = -1
    /// The lock file, holding the POSIX write lock.
    var lock: Int32 = -1
    /// The pipes the process writes its stdout and stderr into.
    var outRead: Int32 = -1
    var outWrite: Int32 = -1
    var errRead: Int32 = -1
    var errWrite: Int32 = -1
    /// Where the first start is reported to the client; -1 once closed.
    var notify: Int32 = -1

    mutating func closeNotify() {
        if notify >= 0 { close(notify) }
        notify = -1
    }

    /// Makes one pipe: a non-blocking read end for the supervisor, a write end for the process.
    static func makePipe() -> (read: Int32, write: Int32)? {
        var fds: [Int32] = [-1, -1]
        guard crunit_pipe_cloexec(&fds) == 0 else { return nil }
        _ = crunit_set_nonblocking(fds[0])
        crunit_pipe_grow(fds[0], 1 << 20)
        return (fds[0], fds[1])
    }
}

extension Supervisor {
    /// Takes the lock, makes the FIFOs, pipes and signalfd, and opens the log.
    /// Returns what went wrong, for the client, or nil.
    mutating func setUp() -> String? {
        _ = crunit_set_child_subreaper()
        signal(SIGPIPE, SIG_IGN)
        var mask = sigset_t()
        sigemptyset(&mask)
        for number in [SIGCHLD, SIGTERM, SIGINT, SIGHUP, SIGQUIT] { sigaddset(&mask, number) }
        sigprocmask(SIG_BLOCK, &mask, nil)
        descriptors.signals = crunit_signalfd(&mask)
        guard descriptors.signals >= 0 else { return "cannot create a signalfd: \(Platform.describe(errno: crunit_errno()))" }

        guard Platform.makeDirectory(paths.directory) else {
            return "cannot create \(paths.directory): \(Platform.describe(errno: crunit_errno()))"
        }
        descriptors.lock = Platform.open(paths.lock, O_RDWR | O_CREAT)
        guard descriptors.lock >= 0 else { return "cannot open \(paths.lock): \(Platform.describe(errno: crunit_errno()))" }
        guard crunit_lock_try(descriptors.lock) == 0 else {
            let holder = Platform.lockHolder(paths.lock) ?? 0
            return "'\(arguments.name)' is already running under supervisor pid \(holder)"
        }
        guard Platform.makeFIFO(paths.control), Platform.makeFIFO(paths.input) else {
            return "cannot create the FIFOs in \(paths.directory): \(Platform.describe(errno: crunit_errno()))"
        }
        descriptors.control = Platform.open(paths.control, O_RDWR | O_NONBLOCK)
        descriptors.input = Platform.open(paths.input, O_RDWR)
        guard descriptors.control >= 0, descriptors.input >= 0 else {
            return "cannot open the FIFOs in \(paths.directory): \(Platform.describe(errno: crunit_errno()))"
        }
        guard let out = Descriptors.makePipe(), let err = Descriptors.makePipe() else {
            return "cannot create pipes: \(Platform.describe(errno: crunit_errno()))"
        }
        (descriptors.outRead, descriptors.outWrite) = out
        (descriptors.errRead, descriptors.errWrite) = err
        guard log.open() else { return "cannot open \(paths.currentLog): \(Platform.describe(errno: crunit_errno()))" }
        for entry in arguments.environment {
            guard let equals = entry.firstIndex(of: "=") else { continue }
            setenv(String(entry[..<equals]), String(entry[entry.index(after: equals)...]), 1)
        }
        return nil
    }

    /// Writes `text` to the client waiting on the notify descriptor, if it still listens.
    mutating func notify(_ text: String) {
        guard descriptors.notify >= 0 else { return }
        var bytes = Array(text.utf8)
        let ok = bytes.withUnsafeMutableBytes { Platform.writeAll(descriptors.notify, UnsafeRawBufferPointer($0)) }
        if !ok { descriptors.closeNotify() }
    }

    /// Writes `status.json` atomically.
    mutating func writeStatus() {
        status.updatedAtMilliseconds = Platform.nowMicros() / 1000
        Platform.writeAtomically(paths.status, Array(status.json.utf8))
    }
}
