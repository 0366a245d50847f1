/// What went wrong, said for the person (or the model) reading it.
public struct RunitError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The kind of failure, which decides the CLI's exit code.
    public enum Code: String, Sendable {
        /// The input was not acceptable (a bad name, an empty command): exit 2.
        case invalidInput = "invalid_input"
        /// No process has that name: exit 1.
        case notFound = "not_found"
        /// The name is already running: exit 1.
        case alreadyRunning = "already_running"
        /// The process could not be started, or exited at once: exit 1.
        case startFailed = "start_failed"
        /// A file on disk could not be read or written, or is damaged: exit 1.
        case storage
        /// The operation did not finish in time: exit 1.
        case timeout
        /// Anything else that failed: exit 1.
        case failed
    }

    /// The kind of failure.
    public let code: Code
    /// The message: what was wrong and what to do next.
    public let message: String

    /// An error of `code` saying `message`.
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }

    /// The CLI's exit code: 2 for bad input, 1 for everything else.
    public var exitCode: Int32 { code == .invalidInput ? 2 : 1 }
}
