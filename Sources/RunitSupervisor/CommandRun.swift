import CRunitSystem
import RunitKit

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A command check's child: `/bin/sh -c COMMAND` in a process group of its own, stdin from
/// `/dev/null`, stdout and stderr into one pipe, of which the first 4 KiB are kept and the rest
/// read and dropped (so a chatty command never stalls on a full pipe). Its owner (`Probe`) reads
/// the pipe, passes on the exit that the supervisor reaped, and kills the group when it is done.
struct CommandRun {
    /// How much of the output is kept.
    static let outputLimit = 4096
    /// How many of its first lines go into the result.
    static let detailLines = 10

    /// The shell's pid, also its process group's id.
    let pid: Int32
    /// The output pipe's read end, non-blocking; -1 once at its end or closed.
    private(set) var fd: Int32
    /// Set once the supervisor reaped the shell: its pid may then belong to another process.
    private(set) var reaped = false
    /// The first `outputLimit` bytes of the output.
    private var output: [UInt8] = []
    /// `RUNIT_CHECK=<supervisor pid>.<run>` in the environment of the command and all it starts:
    /// what left the group (`setsid`) is still found by it when the check ends.
    private let mark: [UInt8]
    /// How many commands this supervisor has run, for a mark of each run's own.
    nonisolated(unsafe) private static var runs = 0

    /// Spawns the command.
    init(command: String, cwd: String, environment: [String]?) throws(ProbeError) {
        var fds: [Int32] = [-1, -1]
        guard crunit_pipe_cloexec(&fds) == 0 else {
            throw ProbeError(message: "cannot create a pipe for the check: \(Platform.describe(errno: crunit_errno()))")
        }
        let writeEnd = fds[1]
        Self.runs += 1
        let mark = "RUNIT_CHECK=\(getpid()).\(Self.runs)"
        self.mark = Array(mark.utf8)
        let marked = (environment ?? Platform.environmentEntries) + [mark]
        let spawned = Spawn.run(["/bin/sh", "-c", command], detach: .newProcessGroup, environment: marked) {
            actions in
            posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
            posix_spawn_file_actions_adddup2(&actions, writeEnd, 1)
            posix_spawn_file_actions_adddup2(&actions, writeEnd, 2)
            if !cwd.isEmpty { _ = ByteText.withCString(cwd) { crunit_spawn_addchdir(&actions, $0) } }
            // Nothing of the supervisor's leaks into the check, even a descriptor without FD_CLOEXEC.
            _ = crunit_spawn_addclosefrom(&actions, 3)
        }
        close(writeEnd)
        switch spawned {
        case .success(let pid):
            self.pid = pid
            self.fd = fds[0]
            _ = crunit_set_nonblocking(fd)
            output.reserveCapacity(Self.outputLimit)
        case .failure(let error):
            close(fds[0])
            let place = cwd.isEmpty ? "" : " in '\(cwd)'"
            throw ProbeError(message: "cannot start the check's command\(place): \(error.message)")
        }
    }

    /// The pid while it is the command's (not yet reaped), else nil.
    var unreapedPID: Int32? { reaped ? nil : pid }

    /// Reads what the pipe holds, without blocking; closes it at its end (everything that held
    /// its write end is gone).
    mutating func readOutput() {
        guard fd >= 0 else { return }
        // Bounded, so that a command writing without pause cannot hold the loop.
        for _ in 0..<16 {
            let count = withUnsafeTemporaryAllocation(byteCount: Self.outputLimit, alignment: 1) { buffer in
                let count = read(fd, buffer.baseAddress, buffer.count)
                if count > 0 && output.count < Self.outputLimit {
                    output.append(contentsOf: buffer[0..<min(count, Self.outputLimit - output.count)])
                }
                return count
            }
            if count > 0 { continue }
            if count == 0 || (crunit_errno() != EAGAIN && crunit_errno() != EINTR) { closeOutput() }
            return
        }
    }

    /// Takes the shell's wait status: what it wrote is read, whatever it left behind in its group
    /// is killed (a check leaves nothing running), and its result made.
    mutating func exited(status: Int32) -> ProbeResult {
        // The shell was reaped just now, in the same turn of the supervisor's loop. While a member
        // of its group lives, the group's id cannot be reused (the kernel keeps a pid that names a
        // group), so this reaches only what the command left behind, if anything.
        killGroup()
        reaped = true
        killEscapees()
        readOutput()
        closeOutput()
        let ok: Bool
        var detail: String
        if crunit_wifexited(status) != 0 {
            ok = crunit_wexitstatus(status) == 0
            detail = "exit code \(crunit_wexitstatus(status))"
        } else {
            ok = false
            detail = crunit_wifsignaled(status) != 0 ? "killed by signal \(crunit_wtermsig(status))" : "ended (status \(status))"
        }
        let lines = firstLines
        if !lines.isEmpty { detail += "\n" + lines }
        return ProbeResult(ok: ok, detail: detail)
    }

    /// The first lines of the output kept, without trailing empty lines or carriage returns.
    var firstLines: String {
        var lines = output.split(separator: 0x0A, maxSplits: Self.detailLines, omittingEmptySubsequences: false)
            .prefix(Self.detailLines)
            .map { line in String(decoding: line.last == 0x0D ? line.dropLast() : line, as: UTF8.self) }
        while lines.last?.allSatisfy(\.isWhitespace) == true { lines.removeLast() }
        return lines.joined(separator: "\n")
    }

    /// SIGKILL to the command's process group, unless the shell was reaped already.
    func killGroup() {
        if !reaped { kill(-pid, SIGKILL) }
    }

    /// SIGKILL to what the command started outside its group (a `setsid` child, a daemon), found
    /// by this run's mark among the supervisor's children (the shell, and the orphans it adopts
    /// as a subreaper) and what they started.
    /// Only the trees of marked children are walked, so the cost does not grow with the main
    /// process's tree.
    func killEscapees() {
        // The shell, while it lives, is one of those children.
        // Without the kernel's children lists, the whole tree (found by a scan of /proc).
        let children = ProcessTable.childPIDs(ofSingleThreaded: getpid()) ?? ProcessTable.descendantPIDs(of: getpid())
        for root in children where carriesMark(root) {
            for member in [root] + ProcessTable.descendantPIDs(of: root) where carriesMark(member) {
                kill(member, SIGKILL)
            }
        }
    }

    /// Whether process `pid`'s environment holds this run's mark.
    private func carriesMark(_ pid: Int32) -> Bool {
        guard let environment = Platform.readFile("/proc/\(pid)/environ") else { return false }
        return environment.split(separator: 0).contains { $0.elementsEqual(mark) }
    }

    /// Closes the output pipe.
    mutating func closeOutput() {
        if fd >= 0 { close(fd) }
        fd = -1
    }

    /// What dropping the probe does: the group killed unless reaped, the pipe closed.
    func release() {
        if !reaped { killEscapees() }
        killGroup()
        if fd >= 0 { close(fd) }
    }
}
