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
    /// With `--tty`: the terminal the process opens as its controlling terminal, in a session of
    /// its own (whose id, like its process group's, is its pid), as its stdin, stdout and stderr.
    var terminal = ""

    /// The new process's pid, or the errno of the failed spawn.
    func spawn() -> Result<Int32, SpawnError> {
        if !cwd.isEmpty {
            guard ByteText.isDirectory(cwd) else {
                return .failure(SpawnError(message: "the working directory '\(cwd)' does not exist or is not a directory"))
            }
        }
        let result = Spawn.run(ShellExec.direct(argv), detach: terminal.isEmpty ? .newProcessGroup : .newSession) { actions in
            if terminal.isEmpty {
                posix_spawn_file_actions_adddup2(&actions, stdinFD, 0)
                posix_spawn_file_actions_adddup2(&actions, stdoutFD, 1)
                posix_spawn_file_actions_adddup2(&actions, stderrFD, 2)
            } else {
                // Opened after setsid and without O_NOCTTY: it becomes the controlling terminal.
                posix_spawn_file_actions_addopen(&actions, 0, terminal, O_RDWR, 0)
                posix_spawn_file_actions_adddup2(&actions, 0, 1)
                posix_spawn_file_actions_adddup2(&actions, 0, 2)
            }
            if !cwd.isEmpty { _ = ByteText.withCString(cwd) { crunit_spawn_addchdir(&actions, $0) } }
        }
        return result.mapError { SpawnError(message: "cannot start '\(argv[0])': \($0.message)") }
    }
}

/// Why the process could not be started.
struct SpawnError: Error {
    let message: String
}
