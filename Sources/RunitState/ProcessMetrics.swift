import RunitKit

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Memory and CPU of a process and everything it started, read from `/proc`.
public struct ProcessMetrics: Sendable, Equatable {
    /// How many processes the tree has.
    public var processCount: Int
    /// Resident memory of the whole tree, in bytes.
    public var residentBytes: Int64
    /// CPU time used by the tree's live processes, in seconds.
    public var cpuSeconds: Double

    /// The metrics of the tree under a supervisor (the supervisor itself not counted).
    ///
    /// Reads the tree's own `/proc` entries (its children files, then each member's `stat`), not
    /// every process on the system: `runit top` takes this every second for each process.
    public static func tree(underSupervisor supervisor: Int32) -> ProcessMetrics? {
        tree(ProcessTable.descendantPIDs(of: supervisor, singleThreadedRoot: true))
    }

    /// The metrics of the processes `pids` (a tree read already); nil when none can be read.
    public static func tree(_ pids: [Int32]) -> ProcessMetrics? {
        let members = pids.compactMap { ProcessTable.read(pid: $0) }
        guard !members.isEmpty else { return nil }
        let pageSize = Int64(sysconf(Int32(_SC_PAGESIZE)))
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        return ProcessMetrics(
            processCount: members.count,
            residentBytes: members.reduce(0) { $0 + $1.residentPages } * pageSize,
            cpuSeconds: Double(members.reduce(0) { $0 + $1.cpuTicks }) / max(ticks, 1))
    }

    /// Bytes as people read them: `12.3 MiB`.
    public static func formatBytes(_ bytes: Int64) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(bytes)
        var unit = 0
        while value >= 1024, unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        guard unit > 0 else { return "\(bytes) B" }
        // One decimal, without String(format:) (its C varargs cost `status` half a millisecond).
        let tenths = Int((value * 10).rounded())
        return "\(tenths / 10).\(tenths % 10) \(units[unit])"
    }

    /// A duration as people read them: `45s`, `12m 3s`, `3h 12m`, `2d 4h`.
    public static func formatDuration(_ seconds: Double) -> String {
        let total = Int(seconds)
        if total < 60 { return "\(total)s" }
        if total < 3600 { return "\(total / 60)m \(total % 60)s" }
        if total < 86_400 { return "\(total / 3600)h \(total % 3600 / 60)m" }
        return "\(total / 86_400)d \(total % 86_400 / 3600)h"
    }
}
