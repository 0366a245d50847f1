import RunitKit

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

extension Registry {
    /// The pid of the live supervisor of `name`, or 0 when none lives.
    ///
    /// The lock's holder, as a rule. A supervisor whose lock file was just deleted or replaced
    /// holds no lock for an instant, until it makes the file anew; its abstract name still
    /// names it (``RunToken/holder(directory:)``), so it is never taken for dead.
    package func liveSupervisor(_ paths: ProcessPaths) -> Int32 {
        if let holder = Platform.lockHolder(paths.lock), holder > 0 { return holder }
        if case .supervisor(let pid) = RunToken.holder(directory: paths.directory) { return pid }
        return 0
    }

    /// Ends what a dead supervisor left running (a `lost` process) and records it as stopped.
    ///
    /// For a caller that holds the client lock and found no live supervisor: `status` is what
    /// the status file says, nil when there is none or (`damaged`) it cannot be read. What is
    /// left is found by the run token in each process's environment (``LostTree``): it gets
    /// its `--stop-signal` (and SIGCONT), then SIGKILL after `graceMillis`. Returns whether anything of it was running;
    /// false, changing nothing, when the status says it is not active. Throws when something
    /// survives SIGKILL. A missing status file beside a spec counts as damaged.
    package func stopLost(_ name: ProcessName, status: StatusRecord?, damaged: Bool = false, graceMillis: Int64)
        throws(RunitError)
        -> Bool
    {
        let paths = context.paths(name)
        if let status, !status.state.isActive { return false }
        // No status file at all: a process that was never started, or one whose file was
        // deleted, which is told by its spec; then any run of this directory may be left.
        if status == nil && !damaged && access(paths.spec, F_OK) != 0 { return false }
        var tree = LostTree(directory: paths.directory, token: status?.run, session: status?.supervisorPID ?? 0)
        let wasRunning = !tree.members().isEmpty
        if wasRunning && !tree.end(signal: Self.stopPolicy(paths).signal, graceMillis: graceMillis) {
            let left = tree.members().map { String($0) }.joined(separator: ", ")
            throw RunitError(
                .timeout,
                "'\(name)' lost its supervisor and pids \(left) survived SIGKILL (stuck in the kernel, or not "
                    + "yours to signal); end them by hand, then run 'runit stop \(name)' again")
        }
        let supervisor = status?.supervisorPID ?? 0
        var message =
            "its supervisor\(supervisor > 0 ? " (pid \(supervisor))" : "") was gone; "
            + (wasRunning ? "runit ended the process it left running" : "nothing of it was left running")
        let unproven = tree.unproven()
        if !unproven.isEmpty {
            message +=
                "; pids \(unproven.map(String.init).joined(separator: ", ")) are in its session but carry no mark "
                + "of this run, so runit left them alone: end them by hand if they are yours"
        }
        var record = status ?? StatusRecord(name: name.rawValue, state: .stopped)
        record.state = .stopped
        record.pid = 0
        record.message = message
        record.updatedAtMilliseconds = Platform.nowMicros() / 1000
        let failure = Platform.writeAtomically(paths.status, Array(record.json.utf8), reserve: paths.reserve)
        appendSystemLine(message, to: paths)
        guard failure == 0 else {
            throw RunitError(
                .storage,
                "'\(name)' lost its supervisor; \(wasRunning ? "runit ended what it left running, but " : "")cannot write "
                    + "\(paths.status): \(Platform.describe(errno: failure)); make room, then run 'runit stop \(name)' again")
        }
        return wasRunning
    }

    /// The process's `--stop-signal` and `--stop-timeout`, from its spec; SIGTERM and the
    /// default grace without one (a spec missing or damaged).
    package static func stopPolicy(_ paths: ProcessPaths) -> (signal: Int32, graceMillis: Int64) {
        guard let policies = (try? StateFiles.readSpec(paths))?.policies else { return (SIGTERM, defaultGraceMillis) }
        return (policies.stopSignal, policies.stopTimeoutMillis)
    }

    /// For a client that waited for a process to be ready and found it `lost` (its supervisor
    /// ended, killed or crashed, during the wait): ends what it left running, as `runit stop`
    /// does, and says why the start failed and what was done.
    public func endLostStart(_ name: String) -> String {
        var message = "'\(name)' lost its supervisor (killed, or it crashed) before it was ready; "
        do throws(RunitError) {
            message += try stop(name).wasRunning ? "runit ended what it left running" : "nothing of it was left running"
        } catch {
            message += error.message
        }
        return message
    }

    /// Adds a `sys` record to the process's current log, as its supervisor would have: after
    /// cutting off a record the dead supervisor did not finish, which it says first.
    private func appendSystemLine(_ text: String, to paths: ProcessPaths) {
        guard case .success(let fd) = Platform.openRegular(paths.currentLog, O_RDWR | O_APPEND) else { return }
        defer { Platform.closeDescriptor(fd) }
        var bytes: [UInt8] = []
        var info = stat()
        if fstat(fd, &info) == 0 {
            let cut = LogRecord.cutTornEnd(fd, size: Int(info.st_size))
            if cut > 0 {
                LogRecord(micros: Platform.nowMicros(), stream: .sys, text: Array(LogRecord.tornNote(bytes: cut).utf8))
                    .append(to: &bytes)
            }
        }
        LogRecord(micros: Platform.nowMicros(), stream: .sys, text: Array(text.utf8)).append(to: &bytes)
        bytes.withUnsafeBytes { _ = Platform.writeAll(fd, $0) }
    }
}

/// The processes a dead supervisor left running, found in `/proc` by the proof they carry.
///
/// Each supervisor puts a token unique to its run into its process's environment
/// (``RunToken``), and everything the process starts inherits it. A process is taken for a
/// remnant when its `/proc/PID/environ` holds that token and it is this user's or in the dead
/// supervisor's session (a process that dropped its privileges stays there; another user's
/// process that copied a token does not): a pid, a process group or a session id alone can be
/// reused by an unrelated program, a random token cannot. While a carrier of the token is
/// still in that session, the session's id cannot have been reused (the kernel keeps the id
/// while a member lives), so its members without the token (a child started with `env -i`)
/// are remnants too. With the status damaged, the token is unknown, and any process of this
/// user carrying a token of this directory (any run of this name) is a remnant. Nothing else
/// is signalled; what may be left is named.
package struct LostTree {
    /// What a member's environment must hold: `RUNIT_RUN=<token>` whole, or a prefix of it.
    package let mark: [UInt8]
    /// Whether `mark` is a whole entry (a known token) or the prefix of any run of the directory.
    package let exact: Bool
    /// The dead supervisor's session id (its pid), or 0 when unknown.
    package let session: Int32
    /// Every process proven a member so far, by pid and start time: one proven while a carrier
    /// of the token still lived stays proven after that carrier is gone.
    private(set) var proven: [Int32: Int64] = [:]

    /// The tree of the run with `token` in `session`; with no token (a damaged status), of any run in `directory`.
    package init(directory: String, token: String?, session: Int32) {
        if let token {
            mark = token.isEmpty ? [] : Array("\(RunToken.variable)=\(token)".utf8)
            exact = true
        } else {
            mark = Array("\(RunToken.variable)=\(RunToken.prefix(directory: directory))".utf8)
            exact = false
        }
        self.session = session > 1 ? session : 0
    }

    /// The pids of the live processes proven to be the dead supervisor's; empty when none is left.
    package mutating func members() -> [Int32] {
        guard !mark.isEmpty else { return [] }
        let me = getpid()
        let user = geteuid()
        let live = ProcessTable().entries.filter { !$0.isZombie && $0.pid != me }
        var found = live.filter { entry in
            proven[entry.pid] == entry.startTicks
                || carries(entry.pid) && (Self.owner(entry.pid) == user || (session > 0 && entry.session == session))
        }
        if session > 0, found.contains(where: { $0.session == session && carries($0.pid) }) {
            let pids = Set(found.map(\.pid))
            found += live.filter { $0.session == session && !pids.contains($0.pid) }
        }
        for entry in found { proven[entry.pid] = entry.startTicks }
        return found.map(\.pid)
    }

    /// Live processes in the dead supervisor's session that carry no mark and could not be
    /// proven its own (no carrier is left in the session): what may be left.
    package func unproven() -> [Int32] {
        guard session > 0 else { return [] }
        let table = ProcessTable()
        if table.entries.contains(where: { $0.pid == session && !$0.isZombie }) { return [] }
        return table.entries.filter { $0.session == session && !$0.isZombie && !carries($0.pid) }.map(\.pid)
    }

    /// Whether process `pid`'s environment holds the mark.
    package func carries(_ pid: Int32) -> Bool {
        guard !mark.isEmpty, let environment = Platform.readFile("/proc/\(pid)/environ") else { return false }
        return environment.split(separator: 0).contains { entry in
            exact ? entry.elementsEqual(mark) : entry.starts(with: mark)
        }
    }

    /// The user owning process `pid`.
    package static func owner(_ pid: Int32) -> uid_t? {
        var info = stat()
        return stat("/proc/\(pid)", &info) == 0 ? info.st_uid : nil
    }

    /// Sends `signal` to every member, once each.
    package mutating func signal(_ signal: Int32) {
        for pid in members() { kill(pid, signal) }
    }

    /// Ends every member as its supervisor would have: `stopSignal` (then SIGCONT, for one that
    /// is paused), SIGKILL after `graceMillis`; whether none is left 5 s after that.
    package mutating func end(signal stopSignal: Int32, graceMillis: Int64) -> Bool {
        signal(stopSignal)
        if SignalName.continuesAfter(stopSignal) { signal(SIGCONT) }
        if waitUntilGone(timeoutMillis: graceMillis) { return true }
        signal(SIGKILL)
        return waitUntilGone(timeoutMillis: 5_000)
    }

    /// Waits until no member is left; false if some are still there after `timeoutMillis`.
    package mutating func waitUntilGone(timeoutMillis: Int64) -> Bool {
        let deadline = Platform.monotonicMillis() + timeoutMillis
        while !members().isEmpty {
            if Platform.monotonicMillis() >= deadline { return false }
            usleep(20_000)
        }
        return true
    }
}
