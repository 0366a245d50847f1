#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// When the supervisor starts a process again after it exits by itself.
public enum RestartPolicy: String, Sendable, CaseIterable, Codable {
    /// Never: an exit is final.
    case never
    /// After an exit with a non-zero code or by a signal.
    case onFailure = "on-failure"
    /// After every exit.
    case always

    /// What is accepted, as said to a user whose text was refused.
    public static let rule = "the restart policy is one of: never, on-failure, always"
}

/// The supervisor's whole spec, carried on its command line so that it needs no JSON parser.
///
/// `runit-supervise --dir DIR --name NAME [--cwd DIR] [--env K=V]... [--restart POLICY]
/// [--restarts N] [--log-max-size BYTES] [--log-keep N] [--notify-fd FD] [--watch PATH]...
/// [--watch-ignore GLOB]... -- PROGRAM ARG...`
public struct SupervisorArguments: Equatable, Sendable {
    /// The process's directory (`$RUNIT_HOME/procs/<name>`).
    public var directory: String
    /// The process name.
    public var name: String
    /// The working directory of the process; empty for the supervisor's own.
    public var cwd: String = ""
    /// Variables set for the process, on top of the supervisor's environment.
    public var environment: [String] = []
    /// The restart policy.
    public var restart: RestartPolicy = .never
    /// The restart count to continue from.
    public var restarts: Int = 0
    /// The size at which the current log is rotated.
    public var logMaxSize: Int = 10 * 1024 * 1024
    /// How many rotated log files are kept.
    public var logKeep: Int = 5
    /// Readiness, health, restart tuning, stopping and watching.
    public var policies = ProcessPolicies()
    /// A descriptor the supervisor reports its first start on, then closes; -1 for none.
    public var notifyFD: Int32 = -1
    /// The program and its arguments.
    public var argv: [String] = []

    /// Arguments with the required fields given.
    public init(directory: String, name: String, argv: [String]) {
        self.directory = directory
        self.name = name
        self.argv = argv
    }

    /// The command line, without the program name.
    public var commandLine: [String] {
        var out = ["--dir", directory, "--name", name]
        if !cwd.isEmpty { out += ["--cwd", cwd] }
        for entry in environment { out += ["--env", entry] }
        out += ["--restart", restart.rawValue, "--restarts", String(restarts)]
        out += ["--log-max-size", String(logMaxSize), "--log-keep", String(logKeep)]
        out += policies.commandLine
        if notifyFD >= 0 { out += ["--notify-fd", String(notifyFD)] }
        out.append("--")
        out += argv
        return out
    }

    /// Makes the directory and the cwd absolute against the current directory, which becomes the
    /// process's cwd when none is given; after this a `chdir` changes nothing they name.
    public mutating func anchorPaths() {
        guard !directory.hasPrefix("/") || !cwd.hasPrefix("/") else { return }
        var buffer = [UInt8](repeating: 0, count: Int(PATH_MAX) + 1)
        let found = buffer.withUnsafeMutableBufferPointer { bytes in
            bytes.withMemoryRebound(to: CChar.self) { getcwd($0.baseAddress, $0.count) != nil }
        }
        guard found, let end = buffer.firstIndex(of: 0) else { return }
        let current = ByteText.text(buffer[..<end])
        func absolute(_ path: String) -> String {
            path.hasPrefix("/") ? path : current == "/" ? "/" + path : current + "/" + path
        }
        directory = absolute(directory)
        cwd = cwd.isEmpty ? current : absolute(cwd)
    }

    /// Parses a command line (without the program name).
    public init(parsing arguments: [String]) throws(SupervisorArgumentError) {
        var directory: String?
        var name: String?
        var parsed = SupervisorArguments(directory: "", name: "", argv: [])
        var index = 0
        func value(_ flag: String) throws(SupervisorArgumentError) -> String {
            index += 1
            guard index < arguments.count else { throw SupervisorArgumentError("\(flag) needs a value") }
            return arguments[index]
        }
        func integer(_ flag: String, minimum: Int, maximum: Int = Int.max) throws(SupervisorArgumentError) -> Int {
            let text = try value(flag)
            guard let number = Int(text), number >= minimum, number <= maximum else {
                throw SupervisorArgumentError("\(flag) needs a whole number from \(minimum) to \(maximum), not '\(text)'")
            }
            return number
        }
        while index < arguments.count {
            let flag = arguments[index]
            switch flag {
            case "--dir": directory = try value(flag)
            case "--name": name = try value(flag)
            case "--cwd": parsed.cwd = try value(flag)
            case "--env":
                let entry = try value(flag)
                // By byte: as a `Character`, `=` and a combining mark after it are not `=`.
                guard let equals = entry.utf8.firstIndex(of: UInt8(ascii: "=")), equals != entry.utf8.startIndex else {
                    throw SupervisorArgumentError("--env needs KEY=VALUE, not '\(entry)'")
                }
                parsed.environment.append(entry)
            case "--restart":
                let text = try value(flag)
                guard let policy = RestartPolicy(rawValue: text) else {
                    throw SupervisorArgumentError(RestartPolicy.rule + ", not '\(text)'")
                }
                parsed.restart = policy
            case "--restarts": parsed.restarts = try integer(flag, minimum: 0)
            case "--log-max-size": parsed.logMaxSize = try integer(flag, minimum: 1, maximum: 1 << 40)
            case "--log-keep": parsed.logKeep = try integer(flag, minimum: 0, maximum: 1000)
            case "--notify-fd": parsed.notifyFD = Int32(try integer(flag, minimum: 0))
            case "--":
                parsed.argv = Array(arguments[(index + 1)...])
                index = arguments.count
                continue
            default:
                guard try parsed.policies.parse(flag, { () throws(SupervisorArgumentError) in try value(flag) }) else {
                    throw SupervisorArgumentError("unknown option '\(flag)'")
                }
            }
            index += 1
        }
        guard let directory, !directory.isEmpty else { throw SupervisorArgumentError("--dir is required") }
        guard let name, ProcessName.isValid(name) else { throw SupervisorArgumentError("--name needs a valid name") }
        guard !parsed.argv.isEmpty else { throw SupervisorArgumentError("a program is required after --") }
        parsed.directory = directory
        parsed.name = name
        self = parsed
    }
}

/// Why a supervisor command line was refused.
public struct SupervisorArgumentError: Error, Equatable, CustomStringConvertible {
    /// What was wrong.
    public let message: String
    /// An error saying `message`.
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
