import CRunitSystem

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The mark each supervisor puts in its process's environment, `RUNIT_RUN=<dir>-<random>`: the
/// proof that a process was started by runit for one process directory, inherited by everything
/// it starts. A client that finds a dead supervisor's processes signals only those that carry
/// its token in `/proc/PID/environ`; a reused pid or session id carries no such token.
public enum RunToken {
    /// The variable's name.
    public static let variable = "RUNIT_RUN"

    /// The part shared by every run in `directory`: a fingerprint of its path and a dash.
    public static func prefix(directory: String) -> String {
        Platform.fingerprint(directory) + "-"
    }

    /// A new token for a run in `directory`.
    public static func make(directory: String) -> String {
        let random = String(UInt64.random(in: 0...UInt64.max), radix: 16)
        return prefix(directory: directory) + String(repeating: "0", count: 16 - random.count) + random
    }

    /// The abstract socket name a live supervisor of `directory` holds (Linux): no file
    /// operation can delete it, and the kernel frees it when the supervisor dies.
    public static func supervisorName(directory: String) -> String {
        "runit-supervise/" + Platform.fingerprint(directory) + Platform.fingerprint(directory, seed: 0x8422_2325_cbf2_9ce4)
    }

    /// Whether a supervisor of `directory` is alive, by its abstract socket name; nil where
    /// there are no abstract sockets. Only a client holding the process's client lock may ask:
    /// the test binds the name for an instant.
    public static func supervisorAlive(directory: String) -> Bool? {
        let fd = crunit_abstract_bind(supervisorName(directory: directory))
        if fd >= 0 {
            Platform.closeDescriptor(fd)
            return false
        }
        return Platform.lastError == EADDRINUSE ? true : nil
    }
}
