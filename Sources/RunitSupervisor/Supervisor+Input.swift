import CRunitSystem
import RunitKit

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The process's input: what clients write into the input FIFO goes on to its stdin (a pipe
/// the supervisor holds, or with `--tty` the pseudo-terminal), and `close_input` ends it.
extension Supervisor {
    /// The size a `--tty` process's terminal starts with, as `docker run -t` gives.
    static let terminalColumns: Int32 = 80
    static let terminalRows: Int32 = 24

    /// Opens the pseudo-terminal that each run of a `--tty` process gets as its controlling
    /// terminal: its output is read from the master instead of the pipes (stdout and stderr
    /// are one stream there), and input is written to the master.
    mutating func openTerminal() -> String? {
        #if os(Linux)
            var path = [CChar](repeating: 0, count: 128)
            var terminal: Int32 = -1
            let master = crunit_pty_open(&path, UInt(path.count), Self.terminalColumns, Self.terminalRows, &terminal)
            guard master >= 0 else { return "cannot open a pseudo-terminal: \(Platform.describe(errno: crunit_errno()))" }
            close(descriptors.outRead)
            close(descriptors.outWrite)
            descriptors.outRead = master
            descriptors.outWrite = terminal
            descriptors.terminal = terminal
            descriptors.stdinWrite = master
            descriptors.terminalPath = String(cString: path)
            // Programs look at TERM to know what the terminal can do; the process's env may say otherwise.
            setenv("TERM", "xterm-256color", 0)
            return nil
        #else
            return "--tty needs Linux here"
        #endif
    }

    /// Moves what clients wrote into the input FIFO on to the process's stdin, in the kernel,
    /// as far as the stdin pipe has room; once it is full, waits for the process to read.
    mutating func relayInput() {
        if descriptors.terminal >= 0 {
            relayTerminalInput()
            return
        }
        while true {
            if crunit_splice(descriptors.input, descriptors.stdinWrite, 1 << 20) > 0 { continue }
            // Nothing moved: the FIFO is empty, or the pipe is full while input waits.
            var pending = pollfd(fd: descriptors.input, events: Int16(POLLIN), revents: 0)
            descriptors.inputBlocked = poll(&pending, 1, 0) > 0
            if inputEnd == .pending && !descriptors.inputBlocked { endInput() }
            return
        }
    }

    /// Copies input from the FIFO into the terminal (splice cannot write to one), keeping what
    /// the terminal has no room for until it has.
    private mutating func relayTerminalInput() {
        while true {
            if terminalInputStart == terminalInputEnd {
                let count = read(descriptors.input, terminalInput.baseAddress, terminalInput.count)
                if count <= 0 && inputEnd == .pending {
                    // Everything sent before the end of input is in the terminal: now its Ctrl-D.
                    terminalInput.storeBytes(of: 4, as: UInt8.self)
                    (terminalInputStart, terminalInputEnd) = (0, 1)
                    inputEnd = .open
                    log.system("sent end of input (Ctrl-D) to the terminal")
                    continue
                }
                guard count > 0 else {
                    descriptors.inputBlocked = false
                    return
                }
                (terminalInputStart, terminalInputEnd) = (0, count)
            }
            let written = write(
                descriptors.outRead, terminalInput.baseAddress! + terminalInputStart, terminalInputEnd - terminalInputStart)
            guard written > 0 else {
                descriptors.inputBlocked = true
                return
            }
            terminalInputStart += written
        }
    }

    /// Ends the process's input once what was sent before has been passed on: under a terminal
    /// with its end-of-file character (as Ctrl-D does), else by closing the stdin pipe, which
    /// the next run gets anew.
    mutating func closeInput() {
        relayInput()
        if descriptors.terminal >= 0 {
            // Ctrl-D goes after what is still waiting for room in the terminal, never before it.
            inputEnd = .pending
            relayTerminalInput()
            return
        }
        guard descriptors.stdinWrite >= 0, inputEnd == .open else { return }
        if descriptors.inputBlocked {
            inputEnd = .pending
            log.system("end of input will follow the input still waiting to be read")
        } else {
            endInput()
        }
    }

    private mutating func endInput() {
        close(descriptors.stdinWrite)
        descriptors.stdinWrite = -1
        descriptors.inputBlocked = false
        inputEnd = .closed
        log.system("closed the input: the process reads end of input; what is sent now goes to its next run")
        // Clients read it from the status: a send now says the input is closed, not "sent".
        status.inputClosed = true
        writeStatus(durable: false)
    }

    /// Before a run after `closeInput`: a new stdin pipe, so that this run is not at end of input.
    mutating func reopenInput() {
        #if os(Linux)
            // A terminal is never closed: its end of input is a Ctrl-D, and the next run reads on.
            guard descriptors.terminal < 0, inputEnd != .open, let stdin = Descriptors.makePipe() else { return }
            close(descriptors.stdinRead)
            (descriptors.stdinRead, descriptors.stdinWrite) = stdin
            _ = fcntl(descriptors.stdinRead, F_SETFL, 0)
            crunit_pipe_grow(descriptors.stdinRead, 4096)
            _ = crunit_set_nonblocking(descriptors.stdinWrite)
            inputEnd = .open
            status.inputClosed = false
        #endif
    }
}

/// Where a run's input stands after `close_input`.
enum InputEnd {
    case open
    /// Closed once the input waiting in the FIFO has been passed on.
    case pending
    /// Closed: the process reads end of input; input sent now waits for the next run.
    case closed
}
