import RunitKit
import RunitState

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Where output goes, and whether it may have colors. Plain `write(2)` calls, without
/// Foundation: the front prints `list` and `status` with it, the full CLI everything else.
public enum Terminal {
    /// One of the standard descriptors, written whole and unbuffered.
    public struct Output: Sendable {
        let descriptor: Int32

        /// Writes all of `text`, waiting while a non-blocking descriptor is full. Output that
        /// cannot be written (a full disk, a closed descriptor, a reader gone) ends the command
        /// with exit 1 and says so, unless it is stderr: a script must not take a half-written
        /// `list --json` for a whole one.
        public func write(_ text: String) {
            var text = text
            text.withUTF8 { write(raw: UnsafeRawBufferPointer($0)) }
        }

        /// Writes bytes as they are (a log's bytes need not be UTF-8), as ``write(_:)`` does.
        public func write(raw bytes: UnsafeRawBufferPointer) {
            var offset = 0
            while offset < bytes.count {
                let written = Glibc.write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
                if written >= 0 {
                    offset += written
                    continue
                }
                let error = Platform.lastError
                if error == EINTR { continue }
                if error == EAGAIN {
                    var wait = pollfd(fd: descriptor, events: Int16(POLLOUT), revents: 0)
                    _ = poll(&wait, 1, -1)
                    continue
                }
                guard descriptor != 2 else { return }
                if error != EPIPE {
                    let message = "runit: cannot write the output: \(Platform.describe(errno: error))\n"
                    message.utf8CString.withUnsafeBufferPointer { _ = Glibc.write(2, $0.baseAddress!, $0.count - 1) }
                }
                exit(1)
            }
        }
    }

    /// Standard output.
    public static let standardOutput = Output(descriptor: 1)
    /// Standard error, for messages.
    public static let standardError = Output(descriptor: 2)

    /// Whether stdout is a terminal and `NO_COLOR` is unset or empty (no-color.org: only a
    /// non-empty value turns colours off).
    public static let colorsEnabled: Bool = isatty(1) == 1 && (getenv("NO_COLOR").map { $0.pointee == 0 } ?? true)

    /// The terminal's width, or nil when stdout is not a terminal.
    public static var width: Int? {
        guard isatty(1) == 1 else { return nil }
        var size = winsize()
        guard ioctl(1, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 else { return nil }
        return Int(size.ws_col)
    }

    /// `text` in the ANSI color `code`, when colors are enabled.
    public static func paint(_ text: String, _ code: String) -> String {
        colorsEnabled ? "\u{1B}[\(code)m\(text)\u{1B}[0m" : text
    }

    /// The color of a state.
    public static func stateColor(_ state: String) -> String {
        DisplayState(rawValue: state)?.colorCode ?? "90"
    }

    /// Writes `text` to stdout without buffering surprises.
    public static func write(_ text: String) {
        standardOutput.write(text)
    }

    /// Writes bytes to stdout, as ``Output/write(_:)`` does.
    public static func write(bytes: [UInt8]) {
        bytes.withUnsafeBytes { standardOutput.write(raw: $0) }
    }

    /// Prints an encodable value as JSON, keys sorted, as Foundation's `JSONEncoder` would.
    public static func printJSON<T: Encodable>(_ value: T, pretty: Bool = true) throws {
        var text = try JSONText.encode(value, pretty: pretty)
        // An empty list or object is `[]` or `{}`, as people and `jq` expect, not split over lines.
        if text.allSatisfy({ "[]{} \n".contains($0) }) { text = text.filter { !$0.isWhitespace } }
        write(text + "\n")
    }
}
