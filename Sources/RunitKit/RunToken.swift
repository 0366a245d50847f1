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

    /// Who holds the abstract name of `directory`'s supervisor.
    public enum NameHolder: Equatable, Sendable {
        /// No one: no supervisor of this directory lives.
        case none
        /// A live supervisor of this directory, with its pid.
        case supervisor(Int32)
        /// Something else: another user's or another program's process (pid 0 when it does not
        /// listen), which must not stop a start: the name then proves nothing.
        case squatter(pid: Int32, uid: UInt32)
        /// The platform has no abstract names.
        case unsupported
    }

    /// Who holds the abstract name of `directory`'s supervisor: a supervisor only when it is
    /// this user's `runit-supervise` started for exactly this directory.
    public static func holder(directory: String) -> NameHolder {
        var pid: pid_t = 0
        var uid: uid_t = 0
        if crunit_abstract_peer(supervisorName(directory: directory), &pid, &uid) != 0 {
            switch Platform.lastError {
            case ENOSYS: return .unsupported
            case ECONNREFUSED, ENOENT:
                // Refused: nobody has the name, or someone bound it without listening.
                let probe = crunit_abstract_bind(supervisorName(directory: directory))
                if probe >= 0 {
                    Platform.closeDescriptor(probe)
                    return .none
                }
                return .squatter(pid: 0, uid: 0)
            default: return .squatter(pid: 0, uid: 0)
            }
        }
        guard uid == geteuid(), isSupervisor(pid, of: directory) else { return .squatter(pid: pid, uid: uid) }
        return .supervisor(pid)
    }

    /// Whether process `pid` is `runit-supervise --dir DIRECTORY …`, by its command line.
    static func isSupervisor(_ pid: Int32, of directory: String) -> Bool {
        guard let bytes = Platform.readFile("/proc/\(pid)/cmdline") else { return false }
        let words = bytes.split(separator: 0, omittingEmptySubsequences: false)
        guard let first = words.first,
            first.split(separator: UInt8(ascii: "/")).last?.elementsEqual("runit-supervise".utf8) == true
        else { return false }
        let wanted = Array(directory.utf8)
        for index in words.indices.dropLast() where words[index].elementsEqual("--dir".utf8) {
            if words[index + 1].elementsEqual(wanted) { return true }
        }
        return false
    }
}
