import Foundation
import RunitKit

extension Registry {
    /// Ends what a dead supervisor left running (a `lost` process) and records it as stopped.
    ///
    /// For a caller that holds the start lock and found no supervisor holding the process's lock:
    /// `status` is what the status file says. What is left is found by the dead supervisor's
    /// session (``LostTree``): it gets SIGTERM, then SIGKILL after `graceMillis`. Returns whether
    /// anything of it was running; false, changing nothing, when the status says it is not
    /// active (not lost). Throws when something survives SIGKILL.
    func stopLost(_ name: ProcessName, status: StatusRecord?, graceMillis: Int64) throws(RunitError) -> Bool {
        let paths = context.paths(name)
        guard var status, status.state.isActive else { return false }
        let tree = LostTree(supervisorPID: status.supervisorPID, startedAtMilliseconds: status.startedAtMilliseconds)
        let wasRunning = !tree.members().isEmpty
        if wasRunning {
            tree.signal(SIGTERM)
            if !tree.waitUntilGone(timeoutMillis: graceMillis) {
                tree.signal(SIGKILL)
                if !tree.waitUntilGone(timeoutMillis: 5_000) {
                    let left = tree.members().map { String($0.pid) }.joined(separator: ", ")
                    throw RunitError(
                        .timeout,
                        "'\(name)' lost its supervisor and pids \(left) survived SIGKILL (stuck in the kernel, or not "
                            + "yours to signal); end them by hand, then run 'runit stop \(name)' again")
                }
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

/// The processes a lost supervisor left running, found in `/proc` by its session.
///
/// A supervisor leads its own session, so the process and everything it started (except what
/// called `setsid`) carry the supervisor's pid as their session id. The kernel gives a pid to
/// no new process while a session or group still has that id, so while any process has the
/// dead supervisor's pid as its session id, it is a remnant of that supervisor, whatever the
/// clock says. If a live process has that pid, the number was reused: then nothing of the old
/// session can be left, and nothing is signalled. A record older than the last boot leaves
/// nothing either (a reboot ended it), so a pid that a later session got is never taken for it.
struct LostTree {
    /// The dead supervisor's pid: the session id of everything it left.
    let supervisorPID: Int32
    /// When the process was started, per its status, in milliseconds since the epoch.
    let startedAtMilliseconds: Int64

    /// The live processes of the dead supervisor's session; empty when none is left.
    func members() -> [ProcessTable.Entry] {
        guard supervisorPID > 1 else { return [] }
        if let boot = ProcessTable.bootTimeSeconds, startedAtMilliseconds < boot * 1000 { return [] }
        let table = ProcessTable()
        // A zombie supervisor (killed, not yet reaped) still holds its pid, so no other has it.
        if table.entries.contains(where: { $0.pid == supervisorPID && !$0.isZombie }) { return [] }
        return table.entries.filter { $0.session == supervisorPID && !$0.isZombie }
    }

    /// Sends `signal` to every member, once each.
    func signal(_ signal: Int32) {
        for member in members() { kill(member.pid, signal) }
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
}
