import CRunitSystem

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// `posix_spawn` with the signal state reset, shared by the client (spawning a supervisor)
/// and the supervisor (spawning the managed process).
public enum Spawn {
    /// Where the new process goes.
    public enum Detach {
        /// A new session (the supervisor: no controlling terminal, outlives the client).
        case newSession
        /// A new process group whose id is its pid (the managed process, signalled as a group).
        case newProcessGroup
    }

    /// Spawns `argv` (with `PATH` lookup when the program has no slash) and returns its pid,
    /// or the errno of the failed spawn. The child starts with no blocked signals and the
    /// default disposition for the signals a supervisor blocks or ignores. `environment`
    /// (`KEY=VALUE` entries) replaces the caller's environment when given. Each text is passed
    /// as the bytes it stands for (``ByteText``).
    public static func run(
        _ argv: [String], detach: Detach, environment: [String]? = nil,
        fileActions: (inout posix_spawn_file_actions_t) -> Void
    ) -> Result<Int32, SpawnErrno> {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        fileActions(&actions)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)
        // Every signal at its default, as systemd starts a service: one ignored by whoever ran
        // `runit start` (`nohup` ignores SIGHUP) is not the process's to inherit, and a
        // `runit signal` would reach nothing. With glibc's own two (32 and 33), which
        // `sigfillset` leaves out and glibc's spawn would leave ignored.
        var defaults = sigset_t()
        sigfillset(&defaults)
        crunit_sigset_add_reserved(&defaults)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        var flags = Int32(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF)
        switch detach {
        case .newSession:
            flags |= Int32(crunit_spawn_setsid_flag())
        case .newProcessGroup:
            posix_spawnattr_setpgroup(&attributes, 0)
            flags |= Int32(POSIX_SPAWN_SETPGROUP)
        }
        posix_spawnattr_setflags(&attributes, Int16(flags))

        // The bytes each text stands for (``ByteText``): what is not UTF-8 reaches the program as given.
        var cArguments: [UnsafeMutablePointer<CChar>?] = argv.map(ByteText.duplicate)
        cArguments.append(nil)
        defer { for pointer in cArguments { free(pointer) } }
        var cEnvironment: [UnsafeMutablePointer<CChar>?] = environment?.map(ByteText.duplicate) ?? []
        cEnvironment.append(nil)
        defer { for pointer in cEnvironment { free(pointer) } }
        var pid: pid_t = 0
        guard let program = cArguments[0] else { return .failure(SpawnErrno(code: ENOMEM)) }
        let result = cEnvironment.withUnsafeMutableBufferPointer { given in
            let chosen = environment == nil ? Platform.environment : given.baseAddress
            return argv[0].contains("/")
                ? posix_spawn(&pid, program, &actions, &attributes, cArguments, chosen)
                : posix_spawnp(&pid, program, &actions, &attributes, cArguments, chosen)
        }
        return result == 0 ? .success(pid) : .failure(SpawnErrno(code: result))
    }
}

/// The errno of a failed spawn.
public struct SpawnErrno: Error, Equatable {
    /// The errno value.
    public let code: Int32
    /// Its message.
    public var message: String { Platform.describe(errno: code) }
}
