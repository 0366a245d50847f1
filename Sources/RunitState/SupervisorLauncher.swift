import CRunitSystem
import RunitKit

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Spawns a `runit-supervise` in its own session and listens for its first report.
package enum SupervisorLauncher {
    /// What the supervisor reported about its first start.
    package enum Report: Equatable {
        /// The process runs, with this pid, and did not exit within the settle time.
        case running(pid: Int32)
        /// The process started and exited within the settle time.
        case exited(pid: Int32, code: Int32?, signal: Int32?)
        /// The process could not be started; the supervisor says why.
        case failed(message: String)
        /// The process started, and its supervisor ended within the settle time without a word
        /// of the process's exit (killed, or crashed): what it started runs on unwatched.
        case supervisorEnded(pid: Int32)
    }

    /// How long to wait for the supervisor's first word before giving up.
    package static let reportTimeoutMillis: Int64 = 10_000

    /// Spawns the supervisor for `arguments` and waits for its report, watching `settleMillis`
    /// more for an early exit of the process.
    package static func launch(supervisor: String, arguments: SupervisorArguments, settleMillis: Int64) throws(RunitError)
        -> Report
    {
        guard access(supervisor, X_OK) == 0 else {
            throw RunitError(
                .failed,
                "the supervisor executable \(supervisor) is missing; install runit-supervise beside runit (or set RUNIT_SUPERVISE)"
            )
        }
        var fds: [Int32] = [-1, -1]
        guard crunit_pipe_cloexec(&fds) == 0 else {
            throw RunitError(.failed, "cannot create a pipe: \(Platform.describe(errno: Platform.lastError))")
        }
        let (readEnd, writeEnd) = (fds[0], fds[1])
        defer { close(readEnd) }
        var withNotify = arguments
        withNotify.notifyFD = 3
        let pid = spawn(supervisor, arguments: withNotify.commandLine, notifyFD: writeEnd)
        close(writeEnd)
        guard pid > 0 else {
            var message = "cannot start the supervisor \(supervisor): \(Platform.describe(errno: -pid))"
            if -pid == E2BIG {
                message +=
                    "; the command line of '\(arguments.name)' (its program, arguments and --env values) is over "
                    + "the kernel's limit: pass long data through a file instead"
            }
            throw RunitError(.failed, message)
        }
        // The supervisor forks at once and its first process exits; that one is collected after
        // the report, and killed if it is still there (a RUNIT_SUPERVISE that is no supervisor).
        defer { reap(pid) }
        do throws(RunitError) {
            return try readReport(readEnd, settleMillis: settleMillis, name: arguments.name)
        } catch {
            guard getenv("RUNIT_SUPERVISE") != nil else { throw error }
            throw RunitError(error.code, error.message + " (RUNIT_SUPERVISE names \(supervisor): is it runit-supervise?)")
        }
    }

    /// Collects the supervisor's first process, killing it first if it has not exited.
    private static func reap(_ pid: Int32) {
        var ignored: Int32 = 0
        var done = waitpid(pid, &ignored, WNOHANG)
        while done < 0 && Platform.lastError == EINTR { done = waitpid(pid, &ignored, WNOHANG) }
        guard done == 0 else { return }
        kill(pid, SIGKILL)
        while waitpid(pid, &ignored, 0) < 0 && Platform.lastError == EINTR {}
    }

    /// posix_spawn with a new session, /dev/null for stdio and only the notify pipe as fd 3.
    /// Returns the pid, or minus the errno.
    private static func spawn(_ path: String, arguments: [String], notifyFD: Int32) -> Int32 {
        // Without the run token of a process this client may run inside: the new supervisor, and
        // what it starts, must not carry another run's proof of membership.
        // Every other variable as its bytes: a value that is not UTF-8 reaches the process unchanged.
        let token = Array((RunToken.variable + "=").utf8)
        let environment = Platform.environmentEntries.filter { !$0.utf8.starts(with: token) }
        let result = Spawn.run([path] + arguments, detach: .newSession, environment: environment) { actions in
            posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
            posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
            posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
            posix_spawn_file_actions_adddup2(&actions, notifyFD, 3)
            _ = crunit_spawn_addclosefrom(&actions, 4)
        }
        switch result {
        case .success(let pid): return pid
        case .failure(let error): return -error.code
        }
    }

    /// Reads `running PID`, `failed MESSAGE` and `exited CODE SIGNAL` lines from the supervisor.
    private static func readReport(_ fd: Int32, settleMillis: Int64, name: String) throws(RunitError) -> Report {
        var buffer: [UInt8] = []
        var running: Int32?
        var deadline = Platform.monotonicMillis() + reportTimeoutMillis
        var chunk = [UInt8](repeating: 0, count: 1024)
        // The supervisor holds its end until the process's exit is told: an end of file before
        // that is the supervisor's own end.
        var ended = false
        while true {
            while let newline = buffer.firstIndex(of: 0x0A) {
                let line = String(decoding: buffer[buffer.startIndex..<newline], as: UTF8.self)
                buffer.removeSubrange(buffer.startIndex...newline)
                let words = line.split(separator: " ", maxSplits: 1).map(String.init)
                switch words.first {
                case "running":
                    running = Int32(words.count > 1 ? words[1] : "") ?? 0
                    if settleMillis <= 0 { return .running(pid: running!) }
                    deadline = Platform.monotonicMillis() + settleMillis
                case "failed":
                    return .failed(message: words.count > 1 ? words[1] : "the supervisor failed")
                case "exited":
                    let parts = words.count > 1 ? words[1].split(separator: " ").map(String.init) : []
                    return .exited(
                        pid: running ?? 0, code: parts.first.flatMap { Int32($0) },
                        signal: parts.count > 1 ? Int32(parts[1]) : nil)
                default: break
                }
            }
            let remaining = deadline - Platform.monotonicMillis()
            if remaining <= 0 { break }
            var pollFD = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&pollFD, 1, Int32(clamping: remaining))
            if ready < 0 && Platform.lastError == EINTR { continue }
            if ready <= 0 { break }
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0 && Platform.lastError == EINTR { continue }
            if count <= 0 {
                ended = true
                break
            }
            buffer.append(contentsOf: chunk[0..<count])
        }
        if let running { return ended ? .supervisorEnded(pid: running) : .running(pid: running) }
        if ended {
            throw RunitError(
                .startFailed, "the supervisor of '\(name)' ended before it reported a start (it was killed, or it crashed)")
        }
        throw RunitError(.timeout, "the supervisor of '\(name)' did not report a start within \(reportTimeoutMillis / 1000) s")
    }
}
