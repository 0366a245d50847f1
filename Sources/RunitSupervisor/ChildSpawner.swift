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
        let result = Spawn.run(argv, detach: .newProcessGroup) { actions in
            posix_spawn_file_actions_adddup2(&actions, stdinFD, 0)
            posix_spawn_file_actions_adddup2(&actions, stdoutFD, 1)
            posix_spawn_file_actions_adddup2(&actions, stderrFD, 2)
            if !cwd.isEmpty { _ = crunit_spawn_addchdir(&actions, cwd) }
        }
        return result.mapError { SpawnError(message: "cannot start '\(argv[0])': \($0.message)") }
    }
}

/// Why the process could not be started.
struct SpawnError: Error {
    let message: String
}
