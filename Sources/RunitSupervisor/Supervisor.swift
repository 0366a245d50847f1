import CRunitSystem
import RunitKit

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// One process's supervisor: spawns it, pumps its output into the log, records
/// its starts and exits in `status.json`, restarts it by policy, and stops it
/// with its whole tree. A poll loop on one thread (a heavy writer's log batches are written
/// on a second, ``LogWriter``); idle, it sleeps in `poll`.
public struct Supervisor: ~Copyable {
    /// What the loop is doing about the process.
    enum Phase {
        /// The process runs (or is being started).
        case running
        /// Terminating the tree on request; `killAt` is when SIGKILL follows.
        case stopping(killAt: Int64, killed: Bool)
        /// The main process exited by itself; what it left behind is being terminated.
        case cleaning(killAt: Int64, killed: Bool)
        /// Waiting to start the process again.
        case backoff(until: Int64)
        /// Finished; the loop ends with this exit code.
        case done(Int32)
    }

    /// How long leftovers of a process that exited by itself get before SIGKILL.
    static let leftoverGraceMillis: Int64 = 2_000
    /// The most read from a pipe at once; its pages are touched only by a process that writes a lot.
    static let readSize = 256 * 1024
    /// The most read from one pipe before turning to the other, when both have data.
    static let interleaveChunk = 1024
    /// The signal dnotify sends when an entry of the process's directory changed (Linux).
    #if os(Linux)
        static let directoryChanged = SIGIO
    #else
        static let directoryChanged: Int32 = -1
    #endif
    /// How long to wait before polling again after poll itself failed.
    static let pollRetryMicros: UInt32 = 100_000
    /// The longest control line kept; a longer one is dropped (client lines are a dozen bytes).
    static let controlLineLimit = 512

    let arguments: SupervisorArguments
    let paths: ProcessPaths
    var status: StatusRecord
    var log: LogWriter
    var descriptors = Descriptors()
    var phase = Phase.running
    var childPID: Int32 = 0
    var childStartedAt: Int64 = 0
    var noChildrenLeft = true
    /// Set when the main process exited: what it left behind still has to get SIGTERM.
    var leftoversToSignal = false
    /// Set when the main process exited: the client still has to be told, after the status says so.
    var exitToReport = false
    /// Runs in a row shorter than `--min-uptime`, kept in the status: `wait --ready` of a process
    /// without a readiness check does not call a crash loop's current run ready.
    var quickFailures: Int {
        get { status.quickFailures }
        set { status.quickFailures = newValue }
    }
    /// `--watch`: the path that restarted the process, and how many runs in a row it changed
    /// soon after the start (a process that writes a watched file itself).
    var changeStreak: (path: String, runs: Int) = ("", 0)
    /// When a failed write of `status.json` is tried again; nil when the file is up to date.
    var statusRetryAt: Int64?
    /// The status file last written, held open to notice one deleted or replaced by others
    /// (held, its inode number cannot be given to a file made in its place); -1 before the first.
    var statusFile: Int32 = -1
    /// Polls that failed in a row (not counting EINTR).
    var pollFailures = 0
    /// Whether the memory that setting up a run dirtied has been given back since that run began.
    var memoryReleased = false
    /// `--ready-notify`: the socket the process sends `READY=1` to.
    var notifySocket: NotifySocket?
    /// The readiness and health probes running now, if any.
    var readyProbe: Probe?
    var healthProbe: Probe?
    /// Whether this run's readiness check has yet to pass.
    var readyPending = false
    /// When the next readiness attempt and health check are due.
    var nextReadyAt: Int64?
    var nextHealthAt: Int64?
    /// `--watch`: the files whose changes restart the process.
    var fileWatch: FileWatch
    /// How many of `fileWatch`'s problems are in the log already.
    var fileWatchProblemsLogged = 0
    /// Set while a stop is part of a restart in place: what follows it.
    var restartAfterStop: RestartAfterStop?
    /// Set once the process's directory was deleted or moved away: no file can be written.
    var directoryLost = false
    /// When the supervisor's files are checked next without an inotify event; nil when not needed.
    var repairAt: Int64?
    /// Set when another program holds the supervisor's abstract name: what to log about it.
    var squatter: String?
    var readBuffer: UnsafeMutableRawBufferPointer
    /// The poll set, allocated once: the loop allocates nothing per event.
    let pollSet: UnsafeMutableBufferPointer<pollfd>
    /// What was read from the control FIFO and not yet ended by a newline, in a buffer allocated once.
    let controlBuffer: UnsafeMutableRawBufferPointer
    var controlLength = 0
    /// Set while the rest of a control line over the limit is skipped, up to its newline.
    var skippingControlLine = false
    /// Input read from the FIFO that the terminal has not taken yet (`--tty` only; empty otherwise).
    let terminalInput: UnsafeMutableRawBufferPointer
    var terminalInputStart = 0
    var terminalInputEnd = 0
    /// Whether end of input was asked for this run (`close_input`); the next run gets a new stdin.
    var inputEnd = InputEnd.open

    init(arguments: SupervisorArguments) {
        self.arguments = arguments
        self.paths = ProcessPaths(directory: arguments.directory)
        self.status = StatusRecord(
            name: arguments.name, state: .starting, supervisorPID: getpid(), restarts: arguments.restarts)
        self.status.run = RunToken.make(directory: arguments.directory)
        self.log = LogWriter(paths: paths, maxSize: arguments.logMaxSize, keep: arguments.logKeep)
        // RUNIT_HOME (two levels above the process's directory) is never watched, should it lie
        // under a watched path: the supervisor's own writes there would restart it forever.
        let home = arguments.directory.split(separator: "/", omittingEmptySubsequences: false).dropLast(2).joined(separator: "/")
        self.fileWatch = FileWatch(
            paths: arguments.policies.watch, ignore: arguments.policies.watchIgnore, base: arguments.cwd, excluding: [home])
        self.readBuffer = .allocate(byteCount: Self.readSize, alignment: 4096)
        self.pollSet = .allocate(capacity: 11)
        self.controlBuffer = .allocate(byteCount: Self.controlLineLimit, alignment: 1)
        self.terminalInput = .allocate(byteCount: arguments.policies.tty ? 4096 : 0, alignment: 1)
        descriptors.notify = arguments.notifyFD
    }

    deinit {
        readBuffer.deallocate()
        pollSet.deallocate()
        controlBuffer.deallocate()
        terminalInput.deallocate()
    }

    /// Runs the supervisor for a command line (without the program name); returns the exit code.
    public static func main(_ commandLine: [String]) -> Int32 {
        var arguments: SupervisorArguments
        do {
            arguments = try SupervisorArguments(parsing: commandLine)
        } catch {
            let text = Array("runit-supervise: \(error.message)\n".utf8)
            text.withUnsafeBytes { _ = Platform.writeAll(2, $0) }
            return 2
        }
        hideEnvironmentValues(count: CommandLine.argc, CommandLine.unsafeArgv)
        if arguments.notifyFD >= 0 { _ = crunit_set_cloexec(arguments.notifyFD) }
        // Detach from the client that spawned us, so it never has to reap us.
        let forked = crunit_fork()
        if forked < 0 { return 1 }
        if forked > 0 { _exit(0) }
        // Lead a session of our own, so that its id is our pid: what a dead supervisor left
        // running is found by that id (see the client's LostTree).
        _ = setsid()
        // Hold no directory of the client's busy (an unmountable disk, a deleted checkout); the
        // process gets its own cwd, and the paths it was given are made absolute first.
        arguments.anchorPaths()
        _ = chdir("/")
        var supervisor = Supervisor(arguments: arguments)
        return supervisor.run()
    }

    /// Overwrites the value of every `--env KEY=VALUE` in the process's own argv memory with `*`,
    /// so that `ps` and `/proc/PID/cmdline` show the keys but not the values (tokens, passwords).
    /// Every option takes one value, as the parser reads them; the program's argv after `--` is
    /// left alone.
    static func hideEnvironmentValues(count: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) {
        var index = 1
        while index < Int(count) {
            guard let flag = argv[index], strcmp(flag, "--") != 0 else { return }
            if strcmp(flag, "--env") == 0, index + 1 < Int(count), let entry = argv[index + 1],
                let equals = strchr(entry, 0x3D)
            {
                var byte = equals + 1
                while byte.pointee != 0 {
                    byte.pointee = 0x2A
                    byte += 1
                }
            }
            index += 2
        }
    }

    /// Sets up, starts the process and runs the loop until it is done.
    mutating func run() -> Int32 {
        if let problem = setUp() {
            notify("failed " + problem + "\n")
            return 1
        }
        logWatchProblems()
        startProcess()
        while true {
            if case .done(let code) = phase {
                log.settle()
                descriptors.closeNotify()
                // The last state must reach the disk before the lock is let go: a full disk gets
                // a few more seconds (after them, clients take the process for lost, and its end).
                // A directory deleted meanwhile (its watch is given up during a final stop) has
                // nowhere to write to: no retries.
                var tries = 0
                while statusRetryAt != nil && tries < 10 && !directoryIsGone {
                    usleep(500_000)
                    writeStatus()
                    tries += 1
                }
                return code
            }
            waitForEvents()
        }
    }

    /// Polls until something happens or a deadline passes, and handles it.
    mutating func waitForEvents() {
        let fds = pollSet
        fds[0] = pollfd(fd: descriptors.signals, events: Int16(POLLIN), revents: 0)
        fds[1] = pollfd(fd: descriptors.control, events: Int16(POLLIN), revents: 0)
        fds[2] = pollfd(fd: descriptors.outRead, events: Int16(POLLIN), revents: 0)
        fds[3] = pollfd(fd: descriptors.errRead, events: Int16(POLLIN), revents: 0)
        fds[4] = pollfd(fd: descriptors.watch, events: Int16(POLLIN), revents: 0)
        // Clients that ask who holds the abstract name connect to it: let them go at once.
        fds[6] = pollfd(fd: descriptors.guardSocket, events: Int16(POLLIN), revents: 0)
        let readyState = readyProbe?.state()
        let healthState = healthProbe?.state()
        fds[7] = pollfd(fd: readyState?.fd ?? -1, events: readyState?.events ?? 0, revents: 0)
        fds[8] = pollfd(fd: healthState?.fd ?? -1, events: healthState?.events ?? 0, revents: 0)
        fds[9] = pollfd(fd: notifySocket?.descriptor() ?? -1, events: Int16(POLLIN), revents: 0)
        fds[10] = pollfd(fd: fileWatch.fd, events: Int16(POLLIN), revents: 0)
        // Input waits in the FIFO while the process's stdin is full: then wait for room instead.
        fds[5] =
            descriptors.stdinWrite < 0
            ? pollfd(fd: -1, events: 0, revents: 0)
            : descriptors.inputBlocked
                ? pollfd(fd: descriptors.stdinWrite, events: Int16(POLLOUT), revents: 0)
                : pollfd(fd: descriptors.input, events: Int16(POLLIN), revents: 0)
        var timeout = timeoutMillis()
        // After a burst of output handed to the writer thread: wake after a second without events
        // to give the batches' and the read buffer's memory back.
        if log.holdsBatchMemory && (timeout < 0 || timeout > 1000) { timeout = 1000 }
        // About to sleep for a while after a run began: give back the heap's free pages and the
        // stack below this frame that setting up dirtied (a third of an idle supervisor's own memory).
        if !memoryReleased && (timeout < 0 || timeout >= 1000) {
            crunit_release_idle_memory()
            // And the buffers' pages the start's output touched; a heavy writer's, which are
            // in use, after a second without events (below).
            if !log.holdsBatchMemory { releaseBuffers() }
            memoryReleased = true
        }
        let ready = poll(fds.baseAddress, 11, timeout)
        if ready == 0 && timeout >= 1000 && log.holdsBatchMemory { releaseBuffers() }
        if ready < 0 && crunit_errno() != EINTR {
            // Never give up the process for this (ENOMEM passes): note it, wait a little, and go on
            // with the deadlines (a stop's SIGKILL, reaping), then poll again.
            if pollFailures == 0 { log.system("poll failed: \(Platform.describe(errno: crunit_errno())); retrying") }
            pollFailures += 1
            usleep(Self.pollRetryMicros)
        } else if ready >= 0 && pollFailures > 0 {
            log.system("poll works again after \(pollFailures) failures")
            pollFailures = 0
        }
        switch (fds[2].revents != 0, fds[3].revents != 0) {
        case (true, true): pumpBoth()
        case (true, false): pump(descriptors.outRead, stream: .out)
        case (false, true): pump(descriptors.errRead, stream: .err)
        case (false, false): break
        }
        if fds[0].revents != 0 { handleSignals() }
        if fds[1].revents != 0 { handleControl() }
        if fds[4].revents != 0 { handleDirectoryEvents() }
        if fds[5].revents != 0 { relayInput() }
        if fds[6].revents != 0 { crunit_accept_all(descriptors.guardSocket) }
        runChecks(now: Platform.monotonicMillis(), notified: fds[9].revents != 0)
        if fds[10].revents != 0 {
            fileWatch.handleEvents(now: Platform.monotonicMillis())
            logWatchProblems()
        }
        handleDeadlines()
    }

    /// Milliseconds until the nearest deadline, or -1 to sleep until an event.
    mutating func timeoutMillis() -> Int32 {
        var deadline = log.partialDeadline
        if let retry = statusRetryAt { deadline = min(deadline ?? retry, retry) }
        if let repair = repairAt { deadline = min(deadline ?? repair, repair) }
        if let check = checkDeadline() { deadline = min(deadline ?? check, check) }
        if let change = fileWatch.deadline { deadline = min(deadline ?? change, change) }
        if let look = fileWatch.lookAgainAt { deadline = min(deadline ?? look, look) }
        switch phase {
        case .stopping(let killAt, let killed), .cleaning(let killAt, let killed):
            let next = killed ? Platform.monotonicMillis() + 100 : killAt
            deadline = min(deadline ?? next, next)
        case .backoff(let until): deadline = min(deadline ?? until, until)
        case .running, .done: break
        }
        guard let deadline else { return -1 }
        return Int32(clamping: max(0, deadline - Platform.monotonicMillis()))
    }

    /// Gives back the pages of the log's batches (after the one in flight is written) and of
    /// the read buffer; they read as zeros when next used.
    mutating func releaseBuffers() {
        log.releaseBatchMemory()
        _ = madvise(readBuffer.baseAddress, readBuffer.count, MADV_DONTNEED)
    }

    /// Reads what the process wrote to one of its pipes into the log.
    mutating func pump(_ fd: Int32, stream: LogStream) {
        for _ in 0..<16 {
            let count = read(fd, readBuffer.baseAddress, readBuffer.count)
            guard count > 0 else { break }
            log.take(UnsafeRawBufferPointer(rebasing: readBuffer[0..<count]), stream: stream)
            if count < readBuffer.count { break }
        }
        log.flush(handOff: true)
    }

    /// Reads both pipes when both have data, in small alternating chunks, so that a burst written
    /// to stdout and stderr in turn is not logged as all of one stream, then all of the other.
    ///
    /// The order between two pipes cannot be known; this keeps what the supervisor sees within a
    /// chunk of it. Once one pipe is empty the other is read in full-size reads.
    mutating func pumpBoth() {
        var outOpen = true
        var errOpen = true
        var rounds = 0
        while outOpen && errOpen && rounds < Self.readSize / Self.interleaveChunk {
            outOpen = readChunk(descriptors.outRead, stream: .out, limit: Self.interleaveChunk)
            errOpen = readChunk(descriptors.errRead, stream: .err, limit: Self.interleaveChunk)
            rounds += 1
        }
        if outOpen { pump(descriptors.outRead, stream: .out) }
        if errOpen { pump(descriptors.errRead, stream: .err) }
        log.flush()
    }

    /// Reads at most `limit` bytes from `fd` into the log; whether it read a full chunk (so more may wait).
    mutating func readChunk(_ fd: Int32, stream: LogStream, limit: Int) -> Bool {
        let count = read(fd, readBuffer.baseAddress, limit)
        guard count > 0 else { return false }
        log.take(UnsafeRawBufferPointer(rebasing: readBuffer[0..<count]), stream: stream)
        return count == limit
    }

    /// Reads both pipes until they are empty, so output comes before the exit is recorded.
    mutating func drainPipes() {
        pumpBoth()
        pump(descriptors.outRead, stream: .out)
        pump(descriptors.errRead, stream: .err)
    }

    mutating func handleSignals() {
        while true {
            let signal = crunit_signalfd_read(descriptors.signals)
            if signal == 0 { break }
            if signal == SIGCHLD {
                reap()
            } else if signal == Self.directoryChanged {
                if descriptors.notified { checkFiles() }
            } else {
                beginStop(graceMillis: arguments.policies.stopTimeoutMillis)
            }
        }
    }

    /// Reads the control FIFO and runs each whole line. A line split across reads (a writer that
    /// wrote it in pieces) is kept until its newline comes; one over the limit is dropped, noted.
    mutating func handleControl() {
        let buffer = controlBuffer
        let count = read(descriptors.control, buffer.baseAddress! + controlLength, buffer.count - controlLength)
        guard count > 0 else { return }
        let end = controlLength + count
        var lineStart = 0
        for index in controlLength..<end where buffer[index] == 0x0A {
            if skippingControlLine {
                skippingControlLine = false
            } else {
                switch ControlCommand(bytes: UnsafeRawBufferPointer(rebasing: buffer[lineStart..<index])) {
                case .stop(let grace): beginStop(graceMillis: Int64(grace))
                case .restart: restartInPlace(because: "asked from inside its own tree", countsAsFailure: false)
                case .signal(let number): signalChild(Int32(number))
                case .closeInput: closeInput()
                case nil: log.system("ignored an unknown control command")
                }
            }
            lineStart = index + 1
        }
        controlLength = end - lineStart
        if controlLength > 0 && lineStart > 0 {
            buffer.baseAddress!.copyMemory(from: buffer.baseAddress! + lineStart, byteCount: controlLength)
        }
        if controlLength == buffer.count {
            if !skippingControlLine { log.system("ignored a control command over \(Self.controlLineLimit) bytes") }
            skippingControlLine = true
            controlLength = 0
        }
    }

    /// Collects every exited child; notes when no descendant is left.
    mutating func reap() {
        while true {
            var waitStatus: Int32 = 0
            let pid = waitpid(-1, &waitStatus, WNOHANG)
            if pid > 0 {
                if pid == childPID {
                    mainProcessExited(waitStatus)
                } else {
                    _ = probeExited(pid: pid, status: waitStatus)
                }
                continue
            }
            // Another supervisor, adopted (see `ProcessTable.descendantPIDs`), is no part of
            // this tree: it is not waited for.
            noChildrenLeft =
                (pid < 0 && crunit_errno() == ECHILD)
                || (pid == 0 && childPID == 0 && ProcessTable.descendantPIDs(of: getpid(), singleThreadedRoot: true).isEmpty)
            break
        }
        if leftoversToSignal {
            leftoversToSignal = false
            if !noChildrenLeft { askTreeToStop() }
        }
        finishIfTreeIsGone()
        if exitToReport { reportExit() }
    }
}
