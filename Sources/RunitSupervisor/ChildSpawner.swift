import CRunitSystem
import RunitKit

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Starts the managed process: its own process group, the cwd and env applied,
/// stdin from the input FIFO, stdout and stderr into the supervisor's pipes.
struct ChildSpawner {
    let argv: [String]
    let cwd: String
    let stdinFD: Int32
    let stdoutFD: Int32
    let stderrFD: Int32

    /// The new process's pid, or the errno of the failed spawn.
    func spawn() -> Result<Int32, SpawnError> {
        if !cwd.isEmpty {
            var info = stat()
            guard stat(cwd, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR else {
                return .failure(SpawnError(message: "the working directory '\(cwd)' does not exist or is not a directory"))
            }
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, stdinFD, 0)
        posix_spawn_file_actions_adddup2(&actions, stdoutFD, 1)
        posix_spawn_file_actions_adddup2(&actions, stderrFD, 2)
        if !cwd.isEmpty { _ = crunit_spawn_addchdir(&actions, cwd) }

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGPIPE, SIGCHLD, SIGTERM, SIGINT, SIGHUP, SIGQUIT] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(
            &attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        var cArguments: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) }
        cArguments.append(nil)
        defer { for pointer in cArguments { free(pointer) } }
        var pid: pid_t = 0
        let program = argv[0]
        let result =
            program.contains("/")
            ? posix_spawn(&pid, program, &actions, &attributes, cArguments, Platform.environment)
            : posix_spawnp(&pid, program, &actions, &attributes, cArguments, Platform.environment)
        guard result == 0 else {
            return .failure(SpawnError(message: "cannot start '\(program)': \(Platform.describe(errno: result))"))
        }
        return .success(pid)
    }
}

/// Why the process could not be started.
struct SpawnError: Error {
    let message: String
}
