import CRunitSystem
import RunitKit

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The result of a stop.
public struct StopOutcome: Sendable {
    /// Whether the process was running when the stop was asked for.
    public var wasRunning: Bool
    /// The process after the stop.
    public var snapshot: ProcessSnapshot
}

extension Registry {
    /// The grace period a stop gives before SIGKILL, unless told otherwise.
    public static let defaultGraceMillis: Int64 = 10_000

    /// Stops a process: SIGTERM to its tree, SIGKILL after `graceMillis`; returns when all of it is gone.
    public func stop(_ text: String, graceMillis given: Int64? = nil) throws(RunitError) -> StopOutcome {
        let snapshot = try existing(text)
        let graceMillis = try grace(given, spec: snapshot.spec)
        let name = try Self.name(snapshot.name)
        let lock = try ClientLock(home: context.home, name: name)
        defer { lock.release() }
        return try stopLocked(name, graceMillis: graceMillis, recordingStopped: true)
    }

    /// Records what the user asked of `name` in its spec, while the caller holds its lock.
    package func recordDesired(_ desired: DesiredState, name: ProcessName) throws(RunitError) {
        let paths = context.paths(name)
        guard var spec = try? StateFiles.readSpec(paths), spec.desired != desired else { return }
        spec.desired = desired
        try StateFiles.writeSpec(spec, paths)
    }

    /// Stops `name` while the caller holds its start lock.
    /// `recordingStopped` records `stopped` as the desired state in the spec, while the supervisor
    /// stops (its fsyncs overlap the supervisor's work: a stop took a millisecond less).
    package func stopLocked(_ name: ProcessName, graceMillis: Int64, recordingStopped: Bool = false) throws(RunitError)
        -> StopOutcome
    {
        let paths = context.paths(name)
        let holder = liveSupervisor(paths)
        guard holder > 0 else {
            // No supervisor: if it died without a word, end what it left running.
            var status: StatusRecord?
            var damaged = false
            do { status = try StateFiles.readStatus(paths) } catch { damaged = true }
            let ended = try stopLost(name, status: status, damaged: damaged, graceMillis: graceMillis)
            if recordingStopped { try recordDesired(.stopped, name: name) }
            return StopOutcome(wasRunning: ended, snapshot: snapshot(of: name))
        }
        let waiter = ExitWaiter(pid: holder)
        defer { waiter.close() }
        let asked = Platform.monotonicMillis()
        try sendControl(.stop(graceMilliseconds: Int(clamping: graceMillis)), to: paths, name: name, supervisor: holder)
        if recordingStopped { try recordDesired(.stopped, name: name) }
        // The supervisor exits once the whole tree is gone; allow for the grace period and the kill.
        guard waiter.wait(timeoutMillis: graceMillis + 10_000) else {
            throw RunitError(
                .timeout,
                "'\(name)' did not stop within \(DurationText.format(milliseconds: graceMillis + 10_000)); its supervisor "
                    + "(pid \(holder)) may be stuck: see 'runit logs \(name)', then end it with 'kill -9 \(holder)' and run "
                    + "'runit stop \(name)' again, which ends what it left running")
        }
        // A supervisor that finished records `stopped` before it exits. One that still says it is
        // active died during the stop (killed), maybe with its tree running: end what it left, in
        // what remains of the grace period, or fail saying what survived.
        if let status = try StateFiles.readStatus(paths), status.state.isActive {
            let remaining = max(0, graceMillis - (Platform.monotonicMillis() - asked))
            _ = try stopLost(name, status: status, graceMillis: remaining)
        }
        return StopOutcome(wasRunning: true, snapshot: snapshot(of: name))
    }

    /// Stops the process if it runs, then starts it again with the same spec; the restart count goes up.
    public func restart(_ text: String, graceMillis given: Int64? = nil, settleMillis: Int64 = 200) throws(RunitError)
        -> StartOutcome
    {
        let snapshot = try existing(text)
        let graceMillis = try grace(given, spec: snapshot.spec)
        guard snapshot.spec != nil else {
            // A remove deletes the spec first, under its lock: once it is through, the process is
            // gone, and that is what to say ("no process named").
            if snapshot.problem == nil, let name = try? Self.name(snapshot.name),
                let lock = try? ClientLock(home: context.home, name: name)
            {
                lock.release()
                _ = try existing(text)
            }
            throw RunitError(.storage, snapshot.problem ?? "'\(text)' has no spec; start it with a command")
        }
        let name = try Self.name(snapshot.name)
        // Asked from inside the process's own tree (a script that restarts its own server): a
        // new supervisor's stop would end this client too, half way. The live supervisor
        // restarts the process in place instead, and this returns at once.
        if let supervisor = snapshot.supervisorPID, let run = snapshot.status?.run, !run.isEmpty,
            getenv(RunToken.variable).map({ String(cString: $0) }) == run
        {
            try sendControl(
                .restart(graceMilliseconds: Int(clamping: graceMillis)), to: context.paths(name), name: name,
                supervisor: supervisor)
            return StartOutcome(snapshot: snapshot)
        }
        do {
            let lock = try ClientLock(home: context.home, name: name)
            defer { lock.release() }
            // Removed by another client while this one waited for the lock: said as such.
            _ = try existing(name.rawValue)
            _ = try stopLocked(name, graceMillis: graceMillis)
            try bumpRestartCount(name)
        }
        var request = StartRequest(name: name.rawValue)
        request.settleMillis = settleMillis
        do {
            return try start(request)
        } catch {
            // Removed between the stop and the start: the start found no command to run.
            guard self.snapshot(of: name).spec == nil else { throw error }
            throw RunitError(.notFound, "'\(name)' was removed by another client while it restarted")
        }
    }

    /// Stops the process if needed, then deletes its directory: spec, status and logs.
    public func remove(_ text: String, graceMillis given: Int64? = nil) throws(RunitError) -> StopOutcome {
        let snapshot = try existing(text)
        let graceMillis = try grace(given, spec: snapshot.spec)
        let name = try Self.name(snapshot.name)
        let paths = context.paths(name)
        let lock = try ClientLock(home: context.home, name: name)
        defer { lock.release() }
        // Removed by another client while this one waited for the lock: no process of that name.
        _ = try existing(name.rawValue)
        let outcome = try stopLocked(name, graceMillis: graceMillis)
        guard crunit_remove_tree(paths.directory) == 0 else {
            throw RunitError(.storage, "cannot remove \(paths.directory): \(Platform.describe(errno: Platform.lastError))")
        }
        return outcome
    }

    /// The grace period a stop gives: the one asked for (within its range), else the
    /// process's own `--stop-timeout`, else the default.
    package func grace(_ given: Int64?, spec: ProcessSpec?) throws(RunitError) -> Int64 {
        guard let given else { return spec?.policies.stopTimeoutMillis ?? Self.defaultGraceMillis }
        try Limits.check(milliseconds: given, in: Limits.graceMillis, "the grace period (--timeout)")
        return given
    }

    /// Writes `text` to the process's stdin, through the input FIFO its supervisor holds open.
    public func send(_ nameText: String, text: String, newline: Bool = true) throws(RunitError) -> Int {
        try send(nameText, bytes: Array((newline ? text + "\n" : text).utf8))
    }

    /// Writes `bytes` into a running process's input FIFO; returns how many.
    public func send(_ nameText: String, bytes: [UInt8]) throws(RunitError) -> Int {
        let snapshot = try existing(nameText)
        guard snapshot.pid != nil else {
            throw RunitError(
                .failed,
                "'\(snapshot.name)' is not running (\(snapshot.state.rawValue)); start it first with 'runit start \(snapshot.name)'"
            )
        }
        if snapshot.status?.inputClosed == true {
            throw RunitError(
                .failed,
                "'\(snapshot.name)' has its input closed (close_input, or send --eof): it has read end of input, and "
                    + "what is sent now would wait for its next run; 'runit restart \(snapshot.name)' gives it a new input")
        }
        let fd = Platform.open(context.paths(try Self.name(snapshot.name)).input, O_WRONLY | O_NONBLOCK)
        guard fd >= 0 else {
            throw RunitError(
                .failed, "cannot open the input of '\(snapshot.name)': \(Platform.describe(errno: Platform.lastError))")
        }
        defer { Platform.closeDescriptor(fd) }
        let (delivered, error) = bytes.withUnsafeBytes { Self.write($0, to: fd, stallMillis: Self.sendStallMillis) }
        guard delivered == bytes.count else {
            if error == EAGAIN {
                throw RunitError(
                    .failed, "delivered \(delivered) of \(bytes.count) bytes; '\(snapshot.name)' is not reading its input")
            }
            throw RunitError(
                .failed,
                "cannot write to '\(snapshot.name)' after \(delivered) of \(bytes.count) bytes: \(Platform.describe(errno: error))"
            )
        }
        return bytes.count
    }

    /// How long a send waits for a process to read some of its input before it gives up.
    package static let sendStallMillis: Int64 = 1_000

    /// Writes `bytes` to the non-blocking `fd`; when it is full, waits up to `stallMillis` for the
    /// reader to make room, again after each write that took some. Returns how many bytes went in,
    /// and the errno that stopped it (EAGAIN when the reader took nothing in time; 0 when all went in).
    package static func write(_ bytes: UnsafeRawBufferPointer, to fd: Int32, stallMillis: Int64) -> (count: Int, error: Int32) {
        var offset = 0
        var deadline = Platform.monotonicMillis() + stallMillis
        while offset < bytes.count {
            let written = Glibc.write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            if written > 0 {
                offset += written
                deadline = Platform.monotonicMillis() + stallMillis
                continue
            }
            let error = written < 0 ? Platform.lastError : EAGAIN
            if error == EINTR { continue }
            guard error == EAGAIN else { return (offset, error) }
            let left = deadline - Platform.monotonicMillis()
            if left <= 0 { return (offset, EAGAIN) }
            var pollFD = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
            if poll(&pollFD, 1, Int32(clamping: left)) < 0 && Platform.lastError != EINTR {
                return (offset, Platform.lastError)
            }
        }
        return (offset, 0)
    }

    /// Refuses a lock holder whose command line proves it is not the supervisor of `name`: a lock
    /// file hard-linked to another process's lock has that process's supervisor as its holder,
    /// which must be neither signalled, named as this one's to kill, nor taken for it running.
    package func refuseForeignHolder(_ holder: Int32, _ paths: ProcessPaths, name: ProcessName) throws(RunitError) {
        guard Self.supervises(holder, paths) == false else { return }
        throw RunitError(
            .storage,
            "the lock file of '\(name)', \(paths.lock), is held by pid \(holder), which is not its supervisor (the "
                + "file may be a link to another's); when nothing of '\(name)' runs, remove it, then run the command again")
    }

    /// Whether `pid` runs as the supervisor of `paths`: the `--dir` on its command line is this
    /// directory (the same file, however the path was spelled when it started); nil when its
    /// command line cannot be read, or the folder it names is gone (moved).
    package static func supervises(_ pid: Int32, _ paths: ProcessPaths) -> Bool? {
        guard let line = Platform.readFile("/proc/\(pid)/cmdline") else { return nil }
        let words = line.split(separator: 0, omittingEmptySubsequences: false)
        guard let flag = words.firstIndex(where: { $0.elementsEqual("--dir".utf8) }), flag + 1 < words.count else {
            return false
        }
        var given = stat()
        var mine = stat()
        // A --dir that is gone (the state folder moved since the start) proves nothing either way.
        guard ByteText.withCString(ByteText.text(words[flag + 1]), { stat($0, &given) }) == 0 else { return nil }
        guard ByteText.withCString(paths.directory, { stat($0, &mine) }) == 0 else { return false }
        return given.st_dev == mine.st_dev && given.st_ino == mine.st_ino
    }

    /// Writes a control command into the supervisor's FIFO.
    package func sendControl(_ command: ControlCommand, to paths: ProcessPaths, name: ProcessName, supervisor: Int32)
        throws(RunitError)
    {
        // The lock's holder, proven this directory's supervisor by its command line: a lock file
        // hard-linked to another process's makes that process the holder, and its pid must not be
        // named as this one's to kill.
        try refuseForeignHolder(supervisor, paths, name: name)
        func unreachable() -> RunitError {
            RunitError(
                .failed,
                "cannot reach the supervisor of '\(name)' (pid \(supervisor)) through \(paths.control): "
                    + "\(Platform.describe(errno: Platform.lastError)); end it with 'kill -9 \(supervisor)', then "
                    + "'runit stop \(name)' ends what it left running")
        }
        // A FIFO deleted (or replaced) is made anew by its supervisor within moments of the
        // change; a busy machine may run this first, so a missing one is waited for a while.
        var fd = Platform.open(paths.control, O_WRONLY | O_NONBLOCK)
        let deadline = Platform.monotonicMillis() + 2_000
        while fd < 0, [ENOENT, ENXIO].contains(Platform.lastError), kill(supervisor, 0) == 0,
            Platform.monotonicMillis() < deadline
        {
            usleep(10_000)
            fd = Platform.open(paths.control, O_WRONLY | O_NONBLOCK)
        }
        guard fd >= 0 else { throw unreachable() }
        defer { Platform.closeDescriptor(fd) }
        let ok = Array(command.line.utf8).withUnsafeBytes { Platform.writeAll(fd, $0) }
        guard ok else { throw unreachable() }
    }

    /// Sends `signal` to a running process's group through its supervisor, which knows its
    /// child for sure (no pid that may have been reused is signalled).
    public func signal(_ text: String, signal number: Int32) throws(RunitError) {
        let snapshot = try existing(text)
        let name = try Self.name(snapshot.name)
        guard let supervisor = snapshot.supervisorPID, snapshot.isSupervised, snapshot.pid != nil else {
            throw RunitError(.failed, "'\(name)' is not running (\(snapshot.state.rawValue)); nothing to signal")
        }
        try sendControl(.signal(Int(number)), to: context.paths(name), name: name, supervisor: supervisor)
    }

    /// Ends a running process's input once what was sent before has been read: its supervisor
    /// closes the stdin pipe (the next run gets a new one), or sends Ctrl-D to its terminal.
    public func closeInput(_ text: String) throws(RunitError) {
        let snapshot = try existing(text)
        let name = try Self.name(snapshot.name)
        guard let supervisor = snapshot.supervisorPID, snapshot.isSupervised, snapshot.pid != nil else {
            throw RunitError(.failed, "'\(name)' is not running (\(snapshot.state.rawValue)); it has no input to close")
        }
        try sendControl(.closeInput, to: context.paths(name), name: name, supervisor: supervisor)
    }

    /// Adds one to the recorded restart count of a stopped process.
    package func bumpRestartCount(_ name: ProcessName) throws(RunitError) {
        let paths = context.paths(name)
        guard var status = try StateFiles.readStatus(paths) else { return }
        status.restarts += 1
        let failure = Platform.writeAtomically(paths.status, Array(status.json.utf8), reserve: paths.reserve)
        guard failure == 0 else {
            throw RunitError(
                .storage,
                "cannot write \(paths.status) for '\(name)': \(Platform.describe(errno: failure)); "
                    + "it is stopped; make its directory writable, then run 'runit start \(name)'")
        }
    }
}

/// Waits for a process that is not our child to exit: a pidfd where there is one, else kill(pid, 0).
package struct ExitWaiter {
    package let pid: Int32
    package let fd: Int32

    package init(pid: Int32) {
        self.pid = pid
        self.fd = crunit_pidfd_open(pid)
    }

    /// True when the process is gone within `timeoutMillis`.
    package func wait(timeoutMillis: Int64) -> Bool {
        if fd >= 0 { return pollOnce(timeoutMillis) }
        let deadline = Platform.monotonicMillis() + timeoutMillis
        while Platform.processExists(pid) {
            if Platform.monotonicMillis() >= deadline { return false }
            usleep(5_000)
        }
        return true
    }

    private func pollOnce(_ millis: Int64) -> Bool {
        var pollFD = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        return poll(&pollFD, 1, Int32(clamping: millis)) > 0
    }

    package func close() {
        if fd >= 0 { Platform.closeDescriptor(fd) }
    }
}
