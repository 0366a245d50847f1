import CRunitSystem
import RunitKit

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The descriptors a supervisor holds for its whole life.
struct Descriptors {
    /// The signalfd for SIGCHLD, SIGTERM, SIGINT, SIGHUP and SIGQUIT, and SIGIO (Linux), which
    /// says that the process's directory changed (see `notified`).
    var signals: Int32 = -1
    /// The control FIFO, opened read-write so it never reports end-of-file.
    var control: Int32 = -1
    /// The input FIFO, where clients write; held open read-write, so it never reports end-of-file.
    /// On Linux its bytes are moved into `stdinWrite` (so a deleted or replaced FIFO can be made
    /// anew while the process keeps its stdin); elsewhere it is the process's stdin itself.
    var input: Int32 = -1
    /// The pipe that is the process's stdin (Linux), both ends held for the supervisor's life, so
    /// input sent while the process restarts waits for the next run and no run sees end-of-file.
    var stdinRead: Int32 = -1
    var stdinWrite: Int32 = -1
    /// With `--tty`: the terminal's own side, held open so that its master (`outRead`, where
    /// the process's output is read and its input written) never reports end-of-file between
    /// runs; and its path, which each run opens as its controlling terminal.
    var terminal: Int32 = -1
    var terminalPath = ""
    /// Set while the stdin pipe is full: the loop waits for room instead of for more input.
    var inputBlocked = false
    /// The abstract socket whose name proves this supervisor alive (Linux; see ``RunToken``).
    var guardSocket: Int32 = -1
    /// Whether the kernel sends SIGIO when an entry of the process's directory is created,
    /// deleted, renamed or moved in or out, or an entry of the two directories above it
    /// (`procs` and the state directory) is renamed, deleted or moved out (dnotify, on
    /// `directory`, `parent` and `home`).
    var notified = false
    /// The directory that holds the process's directory, held open for its dnotify; or -1.
    var parent: Int32 = -1
    /// The state directory, which holds `parent`, held open for its dnotify (`procs` moved or
    /// deleted); or -1. Nothing in it is rewritten often: the ports cache is in a folder below.
    var home: Int32 = -1
    /// The inotify descriptor watching the process's directory where dnotify cannot, or -1.
    var watch: Int32 = -1
    /// The inotify descriptors whose watches were removed on the way out: held, not polled,
    /// until the exit closes them (see ``Supervisor/retireWatches()``).
    var retiredWatches: [Int32] = []
    /// The process's directory, held open to tell when it is deleted or moved away.
    var directory: Int32 = -1
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
        #if os(Linux)
            sigaddset(&mask, SIGIO)
        #endif
        sigprocmask(SIG_BLOCK, &mask, nil)
        descriptors.signals = crunit_signalfd(&mask)
        guard descriptors.signals >= 0 else { return "cannot create a signalfd: \(Platform.describe(errno: crunit_errno()))" }

        guard Platform.makeDirectory(paths.directory) else {
            return "cannot create \(paths.directory): \(Platform.describe(errno: crunit_errno()))"
        }
        // One supervisor per directory, whatever happens to the files in it: the abstract name
        // is held first, so a deleted or replaced lock file cannot let a second one in.
        descriptors.guardSocket = crunit_abstract_bind(RunToken.supervisorName(directory: paths.directory))
        if descriptors.guardSocket < 0 && crunit_errno() == EADDRINUSE {
            switch RunToken.holder(directory: paths.directory) {
            case .supervisor(let pid): return "'\(arguments.name)' is already running under supervisor pid \(pid)"
            case .squatter(let pid, let uid):
                // Not a supervisor of ours: the name proves nothing, and must not block the start;
                // the lock file alone keeps one supervisor per directory.
                squatter =
                    "its supervisor name is held by pid \(pid) (uid \(uid)), which is not a runit supervisor of "
                    + "this directory; going on with the lock file alone"
            case .none, .unsupported: break
            }
        }
        descriptors.lock = claimFile(paths.lock)
        guard descriptors.lock >= 0 else { return "cannot open \(paths.lock): \(Platform.describe(errno: crunit_errno()))" }
        guard crunit_lock_try(descriptors.lock) == 0 else {
            let holder = Platform.lockHolder(paths.lock) ?? 0
            return "'\(arguments.name)' is already running under supervisor pid \(holder)"
        }
        descriptors.control = claimFIFO(paths.control)
        descriptors.input = claimFIFO(paths.input)
        guard descriptors.control >= 0, descriptors.input >= 0 else {
            return "cannot make the FIFOs in \(paths.directory): \(Platform.describe(errno: crunit_errno()))"
        }
        guard let out = Descriptors.makePipe(), let err = Descriptors.makePipe() else {
            return "cannot create pipes: \(Platform.describe(errno: crunit_errno()))"
        }
        (descriptors.outRead, descriptors.outWrite) = out
        (descriptors.errRead, descriptors.errWrite) = err
        if arguments.policies.tty {
            if let problem = openTerminal() { return problem }
        } else {
            #if os(Linux)
                guard let stdin = Descriptors.makePipe() else {
                    return "cannot create pipes: \(Platform.describe(errno: crunit_errno()))"
                }
                // The read end goes to the process, blocking as a stdin should; the supervisor
                // writes into the other end without blocking.
                (descriptors.stdinRead, descriptors.stdinWrite) = stdin
                _ = fcntl(descriptors.stdinRead, F_SETFL, 0)
                // One page: input is waiting in the FIFO already, so a process that does not read
                // holds up about what it did when the FIFO was its stdin, and `send` says so.
                crunit_pipe_grow(descriptors.stdinRead, 4096)
                _ = crunit_set_nonblocking(descriptors.stdinWrite)
            #endif
        }
        guard log.open() else { return log.problem ?? "cannot open \(paths.currentLog)" }
        for entry in arguments.environment {
            // Split at the first `=` byte and set the bytes the text stands for (``ByteText``):
            // as a `Character`, `=` and a combining mark after it are not `=`, and the variable was skipped.
            let bytes = ByteText.bytes(entry)
            guard let equals = bytes.firstIndex(of: UInt8(ascii: "=")) else { continue }
            let key = Array(bytes[..<equals]) + [0]
            let value = Array(bytes[(equals + 1)...]) + [0]
            key.withUnsafeBytes { key in
                value.withUnsafeBytes { value in
                    _ = setenv(
                        key.baseAddress!.assumingMemoryBound(to: CChar.self),
                        value.baseAddress!.assumingMemoryBound(to: CChar.self), 1)
                }
            }
        }
        setenv(RunToken.variable, status.run, 1)
        if let problem = prepareChecks() { return problem }
        watchDirectory()
        if let squatter { log.system(squatter) }
        // A start that cannot record itself must fail before the process runs.
        let failure = writeStatus()
        guard failure == 0 else { return "cannot write \(paths.status): \(Platform.describe(errno: failure))" }
        return nil
    }

    /// Writes `text` to the client waiting on the notify descriptor, if it still listens.
    mutating func notify(_ text: String) {
        guard descriptors.notify >= 0 else { return }
        var bytes = Array(text.utf8)
        let ok = bytes.withUnsafeMutableBytes { Platform.writeAll(descriptors.notify, UnsafeRawBufferPointer($0)) }
        if !ok { descriptors.closeNotify() }
    }

    /// Writes `status.json` atomically; 0, or the errno of a failed write, which is then retried
    /// every second (a full disk) until one succeeds, so the file never keeps a state that lies.
    /// `durable: false` skips the fsyncs, for what is fine to lose in a crash (a health check's time).
    @discardableResult
    mutating func writeStatus(durable: Bool = true) -> Int32 {
        // A state a client reads (exited, ready) comes after the output logged before it.
        log.settle()
        status.updatedAtMilliseconds = Platform.nowMicros() / 1000
        // `stopping`, and `starting` before the process is spawned, are on the way to a durable
        // `stopped`, `running` or failure: they are not synced to the disk (a stop paid four
        // fsyncs for `stopping`, a start two for `starting`); after a crash of the machine the
        // state before them stands. A `starting` with a pid (waiting for readiness) is synced.
        let transient = status.state == .stopping || (status.state == .starting && status.pid <= 0)
        var written: Int32 = -1
        func write() -> Int32 {
            Platform.writeAtomically(
                paths.status, Array(status.json.utf8), reserve: paths.reserve, durable: durable && !transient,
                keeping: &written)
        }
        var failure = write()
        if failure == EISDIR {
            // A directory stands where the file goes: removed when empty, as in the other files'
            // places (``restoreFiles()``), and the write tried again at once.
            _ = rmdir(paths.status)
            failure = write()
        }
        if failure == 0 {
            // Made again as soon as there is room; a missing one is tried at the next write.
            Platform.makeReserve(paths.reserve)
            if statusRetryAt != nil { log.system("wrote \(paths.status) again") }
            statusRetryAt = nil
            // The file written, not the one at the path now: one deleted since is made anew at
            // the next check, where a look at the path (none there) would have matched nothing.
            if statusFile >= 0 { close(statusFile) }
            statusFile = written
        } else if directoryLost {
            statusRetryAt = nil  // Nowhere to write it: the directory is gone.
        } else {
            if statusRetryAt == nil {
                log.system("cannot write \(paths.status): \(Platform.describe(errno: failure)); retrying every second")
            }
            statusRetryAt = Platform.monotonicMillis() + 1_000
        }
        return failure
    }
}
