import Foundation
import RunitKit

extension Registry {
    /// Ends what a dead supervisor left running (a `lost` process) and records it as stopped.
    ///
    /// The status names the process's pid, which is also its process group. The pid is only
    /// trusted if the process with it started when the status says (so a pid reused by an
    /// unrelated process is never signalled); the group and the tree under the pid get
    /// SIGTERM, then SIGKILL after `graceMillis`. Returns whether anything of it was running;
    /// false, changing nothing, when the process is not lost.
    func stopLost(_ name: ProcessName, graceMillis: Int64) -> Bool {
        let paths = context.paths(name)
        guard let holder = Platform.lockHolder(paths.lock), holder == 0,
            var status = try? StateFiles.readStatus(paths), status.state.isActive
        else { return false }
        let tree = LostTree(pid: status.pid, startedAtMilliseconds: status.startedAtMilliseconds)
        let wasRunning = !tree.members().isEmpty
        if wasRunning {
            tree.signal(SIGTERM)
            if !tree.waitUntilGone(timeoutMillis: graceMillis) {
                tree.signal(SIGKILL)
                _ = tree.waitUntilGone(timeoutMillis: 5_000)
            }
        }
        let supervisor = status.supervisorPID
        status.state = .stopped
        status.pid = 0
        status.message =
            "its supervisor (pid \(supervisor)) was gone; "
            + (wasRunning ? "runit ended the process it left running" : "nothing of it was left running")
        status.updatedAtMilliseconds = Platform.nowMicros() / 1000
        Platform.writeAtomically(paths.status, Array(status.json.utf8))
        appendSystemLine(status.message, to: paths)
        return wasRunning
    }

    /// Adds a `sys` record to the process's current log, as its supervisor would have.
    private func appendSystemLine(_ text: String, to paths: ProcessPaths) {
        let fd = Platform.open(paths.currentLog, O_WRONLY | O_APPEND)
        guard fd >= 0 else { return }
        defer { Platform.closeDescriptor(fd) }
        var bytes: [UInt8] = []
        LogRecord(micros: Platform.nowMicros(), stream: .sys, text: Array(text.utf8)).append(to: &bytes)
        bytes.withUnsafeBytes { _ = Platform.writeAll(fd, $0) }
    }
}

/// The processes a lost supervisor's process left: its group and its tree, found in `/proc`.
struct LostTree {
    /// The process's pid and process group id, from the status file.
    let pid: Int32
    /// When the status says it started, in milliseconds since the epoch.
    let startedAtMilliseconds: Int64
    /// How far a start time read from `/proc` may be from the recorded one: the boot time in
    /// `/proc/stat` has whole seconds, and the status is written just after the spawn.
    static let toleranceMillis: Int64 = 3_000

    /// The live processes that belong to it; empty when the pid now names another process.
    func members() -> [ProcessTable.Entry] {
        guard pid > 1 else { return [] }
        let table = ProcessTable()
        // A zombie leader has exited (its pid stays taken until it is reaped); its group may live on.
        let leader = table.entries.first { $0.pid == pid && !$0.isZombie }
        if let leader {
            guard isSameProcess(leader) else { return [] }
        }
        // A group id cannot be given to a new process while any member of the group lives, so the
        // group's members are ours; the start time guards against a group that is itself new.
        var result = table.entries.filter { entry in
            entry.processGroup == pid && !entry.isZombie && startedSinceRecord(entry)
        }
        if leader != nil {
            let known = Set(result.map(\.pid))
            result += table.descendants(of: pid).filter { !$0.isZombie && !known.contains($0.pid) }
        }
        return result
    }

    /// Sends `signal` to the group and to every member (members that left the group included).
    func signal(_ signal: Int32) {
        let members = members()
        guard !members.isEmpty else { return }
        if members.contains(where: { $0.processGroup == pid }) { kill(-pid, signal) }
        for member in members { kill(member.pid, signal) }
    }

    /// Waits until no member is left; false if some are still there after `timeoutMillis`.
    func waitUntilGone(timeoutMillis: Int64) -> Bool {
        let deadline = Platform.monotonicMillis() + timeoutMillis
        while !members().isEmpty {
            if Platform.monotonicMillis() >= deadline { return false }
            usleep(20_000)
        }
        return true
    }

    /// Whether the process now at `pid` is the one the status recorded: it started when recorded
    /// (or, where start times cannot be read, it still leads its own process group).
    private func isSameProcess(_ entry: ProcessTable.Entry) -> Bool {
        guard let started = ProcessTable.startMillis(of: entry), startedAtMilliseconds > 0 else {
            return entry.processGroup == pid
        }
        return abs(started - startedAtMilliseconds) <= Self.toleranceMillis
    }

    private func startedSinceRecord(_ entry: ProcessTable.Entry) -> Bool {
        guard let started = ProcessTable.startMillis(of: entry) else { return true }
        return started >= startedAtMilliseconds - Self.toleranceMillis
    }
}
