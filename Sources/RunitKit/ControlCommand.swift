/// A command a client writes into a supervisor's control FIFO, one line each.
///
/// Lines are shorter than `PIPE_BUF`, so each write arrives whole.
public enum ControlCommand: Equatable, Sendable {
    /// Stop the process (TERM, then KILL after the grace period) and exit.
    case stop(graceMilliseconds: Int)
    /// Stop the tree and start the process again in place, keeping the supervisor (a restart
    /// asked from inside the process's own tree, which a new supervisor's stop would end).
    case restart(graceMilliseconds: Int)
    /// Send this signal to the process's group (SIGINT, SIGHUP, SIGUSR1 …: a reload without a restart).
    case signal(Int)
    /// End the process's input once what was sent before has been passed on (`close_input`).
    case closeInput

    /// The wire form, newline included.
    public var line: String {
        switch self {
        case .stop(let grace): return "stop \(grace)\n"
        case .restart(let grace): return "restart \(grace)\n"
        case .signal(let number): return "signal \(number)\n"
        case .closeInput: return "eof 0\n"
        }
    }

    /// Parses one line (without its newline); nil for anything unknown.
    public init?(line: Substring) {
        var text = String(line)
        guard let command = text.withUTF8({ ControlCommand(bytes: UnsafeRawBufferPointer($0)) }) else { return nil }
        self = command
    }

    /// Parses one line's bytes (without its newline): a verb and a number, separated by spaces;
    /// nil for anything unknown. Allocates nothing, for the supervisor's loop.
    public init?(bytes: UnsafeRawBufferPointer) {
        var index = 0
        func word() -> Range<Int>? {
            while index < bytes.count && bytes[index] == 0x20 { index += 1 }
            let start = index
            while index < bytes.count && bytes[index] != 0x20 { index += 1 }
            return start < index ? start..<index : nil
        }
        guard let verb = word(), let number = word(), word() == nil else { return nil }
        var value = 0
        for byte in bytes[number] {
            guard byte >= 0x30 && byte <= 0x39 else { return nil }
            let (times, overflowed) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflowedAgain) = times.addingReportingOverflow(Int(byte - 0x30))
            guard !overflowed && !overflowedAgain else { return nil }
            value = sum
        }
        if bytes[verb].elementsEqual("stop".utf8) {
            self = .stop(graceMilliseconds: value)
        } else if bytes[verb].elementsEqual("restart".utf8) {
            self = .restart(graceMilliseconds: value)
        } else if bytes[verb].elementsEqual("signal".utf8), (1...64).contains(value) {
            self = .signal(value)
        } else if bytes[verb].elementsEqual("eof".utf8), value == 0 {
            self = .closeInput
        } else {
            return nil
        }
    }
}
