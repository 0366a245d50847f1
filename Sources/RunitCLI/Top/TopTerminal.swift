import Foundation

/// The terminal while `runit top` runs: raw input, the alternate screen, no cursor; put back
/// as it was on every way out: `q`, Ctrl-C, SIGTERM or SIGHUP, and a crash (SIGSEGV, SIGBUS,
/// SIGILL, SIGABRT, SIGFPE: restored in the handler, then the signal goes on).
enum TopTerminal {
    /// The settings to put back, and whether they are in force; read by signal handlers.
    nonisolated(unsafe) private static var saved = termios()
    nonisolated(unsafe) private static var active = false
    /// Written by the signal handlers (one byte per signal) to wake the loop.
    nonisolated(unsafe) static var wakeWrite: Int32 = -1
    nonisolated(unsafe) static var wakeRead: Int32 = -1
    /// Set by the handlers: the size changed, or a signal asked to quit.
    nonisolated(unsafe) static var resized: sig_atomic_t = 0
    nonisolated(unsafe) static var quitSignal: sig_atomic_t = 0

    static let enterSequence = "\u{1B}[?1049h\u{1B}[?25l\u{1B}[H\u{1B}[2J"
    static let leaveSequence = "\u{1B}[0m\u{1B}[?25h\u{1B}[?1049l"

    /// Takes over the terminal; false (changing nothing) when stdin or stdout is not one.
    static func enter() -> Bool {
        guard isatty(0) == 1, isatty(1) == 1, tcgetattr(0, &saved) == 0 else { return false }
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else { return false }
        for fd in fds {
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
            _ = fcntl(fd, F_SETFL, O_NONBLOCK)
        }
        (wakeRead, wakeWrite) = (fds[0], fds[1])
        var raw = saved
        // No echo, no line editing, no signals from keys (Ctrl-C is read as a key), no flow control.
        raw.c_lflag &= ~tcflag_t(ECHO | ICANON | ISIG | IEXTEN)
        raw.c_iflag &= ~tcflag_t(IXON | ICRNL | BRKINT | INPCK | ISTRIP)
        raw.c_cflag |= tcflag_t(CS8)
        withUnsafeMutableBytes(of: &raw.c_cc) { bytes in
            bytes[Int(VMIN)] = 1
            bytes[Int(VTIME)] = 0
        }
        active = true
        tcsetattr(0, TCSAFLUSH, &raw)
        write(enterSequence)
        for signal in [SIGINT, SIGTERM, SIGHUP, SIGQUIT] { Glibc.signal(signal, onQuitSignal) }
        Glibc.signal(SIGWINCH, onResize)
        for signal in [SIGSEGV, SIGBUS, SIGILL, SIGABRT, SIGFPE] { Glibc.signal(signal, onCrash) }
        return true
    }

    /// Puts the terminal back as it was.
    static func leave() {
        guard active else { return }
        restore()
        for signal in [SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGWINCH, SIGSEGV, SIGBUS, SIGILL, SIGABRT, SIGFPE] {
            Glibc.signal(signal, SIG_DFL)
        }
    }

    /// Async-signal-safe: only `write` and `tcsetattr`.
    private static func restore() {
        guard active else { return }
        active = false
        leaveSequence.utf8CString.withUnsafeBufferPointer { bytes in
            _ = Glibc.write(1, bytes.baseAddress, bytes.count - 1)
        }
        tcsetattr(0, TCSAFLUSH, &saved)
    }

    /// The terminal's size: columns and lines.
    static func size() -> (columns: Int, lines: Int) {
        var size = winsize()
        guard ioctl(1, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0, size.ws_row > 0 else { return (80, 24) }
        return (Int(size.ws_col), Int(size.ws_row))
    }

    /// Writes all of `text` to stdout.
    static func write(_ text: String) {
        var bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let count = bytes.withUnsafeMutableBytes { Glibc.write(1, $0.baseAddress! + offset, $0.count - offset) }
            if count < 0 && errno == EINTR { continue }
            if count <= 0 { return }
            offset += count
        }
        bytes.removeAll()
    }

    private static let onQuitSignal: @convention(c) (Int32) -> Void = { signal in
        TopTerminal.quitSignal = signal
        TopTerminal.poke()
    }

    private static let onResize: @convention(c) (Int32) -> Void = { _ in
        TopTerminal.resized = 1
        TopTerminal.poke()
    }

    private static let onCrash: @convention(c) (Int32) -> Void = { signal in
        TopTerminal.restore()
        Glibc.signal(signal, SIG_DFL)
        raise(signal)
    }

    /// Wakes the loop (from any thread).
    static func wake() {
        poke()
    }

    private static func poke() {
        var byte: UInt8 = 1
        _ = Glibc.write(wakeWrite, &byte, 1)
    }
}
