/// A command a client writes into a supervisor's control FIFO, one line each.
///
/// Lines are shorter than `PIPE_BUF`, so each write arrives whole.
public enum ControlCommand: Equatable, Sendable {
    /// Stop the process (TERM, then KILL after the grace period) and exit.
    case stop(graceMilliseconds: Int)

    /// The wire form, newline included.
    public var line: String {
        switch self {
        case .stop(let grace): return "stop \(grace)\n"
        }
    }

    /// Parses one line (without its newline); nil for anything unknown.
    public init?(line: Substring) {
        let parts = line.split(separator: " ", omittingEmptySubsequences: true)
        guard parts.count == 2, let grace = Int(parts[1]), grace >= 0 else { return nil }
        switch parts[0] {
        case "stop": self = .stop(graceMilliseconds: grace)
        default: return nil
        }
    }
}
