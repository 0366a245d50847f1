import Foundation
import RunitCore
import RunitKit

/// The terminal while `runit top` runs: raw mode on the alternate screen, the cursor hidden,
/// and everything put back on every way out (a return, an error, `exit`, a signal, a crash).
///
/// There is one terminal, so this is a namespace over global state: the signal handlers must
/// reach it without allocating, locking or capturing anything.
public enum TopTerminal {
    /// Enters the alternate screen, hides the cursor, turns off line wrapping and clears.
    static let enterSequence = "\u{1B}[?1049h\u{1B}[?7l\u{1B}[?25l\u{1B}[2J"
    /// Resets the colours, turns line wrapping back on, shows the cursor, leaves the alternate screen.
    static let restoreSequence = "\u{1B}[0m\u{1B}[?7h\u{1B}[?25h\u{1B}[?1049l"

    /// The signals that end the program: the terminal is restored, then each does what it did before.
    static let endingSignals = [SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP, SIGABRT]

    /// Refuses to run unless both stdin and stdout are terminals.
    public static func requireTerminal() throws(RunitError) {
        guard isatty(0) == 1, isatty(1) == 1 else {
            throw RunitError(
                .invalidInput,
                "top needs a terminal on its input and output; in a script use 'runit list' or 'runit logs --follow'")
        }
    }

    /// The terminal's columns and rows (80x24 when it does not say).
    static func size() -> (width: Int, height: Int) {
        var size = winsize()
        guard ioctl(1, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0, size.ws_row > 0 else { return (80, 24) }
        return (Int(size.ws_col), Int(size.ws_row))
    }

    /// Puts the terminal in raw mode on the alternate screen and installs the handlers that undo
    /// it; `wake` is the write end of a pipe that gets a byte on each resize.
    static func enter(wake: Int32) throws(RunitError) {
        let saved = TopTerminalState.shared
        guard tcgetattr(0, saved.original) == 0 else {
            throw RunitError(.failed, "cannot read the terminal's settings: \(Platform.describe(errno: Platform.lastError))")
        }
        saved.wake = wake
        install()
        try enterRawMode()
        atexit { TopTerminal.restore() }
    }

    /// Raw mode: keys come one by one, unechoed, with no signal for Ctrl-C (top reads it as a
    /// key); output is processed as before.
    static func enterRawMode() throws(RunitError) {
        let saved = TopTerminalState.shared
        var raw = saved.original.pointee
        raw.c_lflag &= ~tcflag_t(ICANON | ECHO | ISIG | IEXTEN)
        raw.c_iflag &= ~tcflag_t(IXON | ICRNL | BRKINT | INPCK | ISTRIP)
        withUnsafeMutableBytes(of: &raw.c_cc) { cc in
            cc[Int(VMIN)] = 1
            cc[Int(VTIME)] = 0
        }
        guard tcsetattr(0, TCSANOW, &raw) == 0 else {
            throw RunitError(.failed, "cannot set the terminal to raw mode: \(Platform.describe(errno: Platform.lastError))")
        }
        saved.active = 1
        write(enterSequence)
    }

    /// Puts the terminal back as it was; safe to call more than once, and from a signal handler.
    static func restore() {
        let saved = TopTerminalState.shared
        guard saved.active == 1 else { return }
        saved.active = 0
        _ = Platform.writeAll(1, UnsafeRawBufferPointer(start: saved.restoreBytes, count: saved.restoreCount))
        _ = tcsetattr(0, TCSANOW, saved.original)
    }

    /// Restores the terminal for good: resizes no longer wake a loop that has ended (its pipe
    /// is about to close).
    static func leave() {
        restore()
        TopTerminalState.shared.wake = -1
        signal(SIGWINCH, SIG_DFL)
    }

    /// Ctrl-Z: the terminal as it was while the program is stopped, then raw mode again.
    ///
    /// The loop runs on a thread of Swift's concurrency pool, which blocks most signals: SIGTSTP
    /// is let through on this thread for the moment, so that `raise` stops the program before it
    /// returns (and returns once the shell continues it). Where no shell can continue it (an
    /// orphaned process group), the kernel drops the signal and the view simply goes on.
    static func suspend() throws(RunitError) {
        restore()
        var stop = sigset_t()
        var before = sigset_t()
        sigemptyset(&stop)
        sigaddset(&stop, SIGTSTP)
        pthread_sigmask(SIG_UNBLOCK, &stop, &before)
        raise(SIGTSTP)
        pthread_sigmask(SIG_SETMASK, &before, nil)
        try enterRawMode()
    }

    /// Writes all of `text` to the terminal.
    static func write(_ text: String) {
        var text = text
        text.withUTF8 { _ = Platform.writeAll(1, UnsafeRawBufferPointer($0)) }
    }

    private static func install() {
        let saved = TopTerminalState.shared
        for number in endingSignals {
            var action = sigaction()
            setHandler(&action, topEndingSignal)
            sigemptyset(&action.sa_mask)
            action.sa_flags = 0
            _ = sigaction(number, &action, saved.previous + Int(number))
        }
        var resize = sigaction()
        setHandler(&resize, topResizeSignal)
        sigemptyset(&resize.sa_mask)
        resize.sa_flags = Int32(SA_RESTART)
        _ = sigaction(SIGWINCH, &resize, nil)
    }

    private static func setHandler(_ action: inout sigaction, _ handler: @escaping @convention(c) (Int32) -> Void) {
        #if canImport(Glibc)
            action.__sigaction_handler.sa_handler = handler
        #else
            action.__sigaction_u.__sa_handler = handler
        #endif
    }
}

/// What the signal handlers need, allocated before they are installed so that they only read
/// and write memory that exists.
final class TopTerminalState: @unchecked Sendable {
    // Written before the handlers are installed (the settings, the actions before ours) or one
    // aligned word at a time (`active`, `wake`); the handlers read them and write `active`.
    static let shared = TopTerminalState()

    /// The terminal's settings before raw mode.
    let original = UnsafeMutablePointer<termios>.allocate(capacity: 1)
    /// The action each signal had before ours, by number.
    let previous = UnsafeMutablePointer<sigaction>.allocate(capacity: 65)
    /// The bytes of ``TopTerminal/restoreSequence``.
    let restoreBytes: UnsafeMutablePointer<UInt8>
    let restoreCount: Int
    /// Two words: 1 while the terminal is in raw mode (else 0), and the write end of the pipe
    /// that wakes the main loop (-1 for none). Raw memory, not properties: a handler that
    /// interrupts the main thread's write must not meet Swift's check of exclusive access.
    private let words = UnsafeMutablePointer<Int32>.allocate(capacity: 2)

    var active: Int32 {
        get { words[0] }
        set { words[0] = newValue }
    }

    var wake: Int32 {
        get { words[1] }
        set { words[1] = newValue }
    }

    private init() {
        let bytes = Array(TopTerminal.restoreSequence.utf8)
        restoreBytes = UnsafeMutablePointer<UInt8>.allocate(capacity: bytes.count)
        restoreBytes.initialize(from: bytes, count: bytes.count)
        restoreCount = bytes.count
        original.initialize(to: termios())
        previous.initialize(repeating: sigaction(), count: 65)
        words[0] = 0
        words[1] = -1
    }
}

/// A signal that ends the program: the terminal is restored, the signal's earlier action put
/// back, and the signal raised again, so that it ends the program as it would have (a crash
/// still dumps its core or prints its backtrace, on the normal screen).
private func topEndingSignal(_ number: Int32) {
    TopTerminal.restore()
    let saved = TopTerminalState.shared
    _ = sigaction(number, saved.previous + Int(number), nil)
    raise(number)
}

/// A resize: a byte down the pipe wakes the main loop, which reads the new size and draws again.
private func topResizeSignal(_: Int32) {
    var byte: UInt8 = 0x57
    _ = write(TopTerminalState.shared.wake, &byte, 1)
}
