import RunitKit

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Where runit keeps its state and finds its supervisor, and what a command runs against.
///
/// Commands take a context so that tests can give each run its own home.
public struct RunitContext: Sendable {
    /// The state directory (`$RUNIT_HOME`).
    public var home: String
    /// The `runit-supervise` executable.
    public var supervisorPath: String
    /// The directory relative paths are resolved against.
    public var workingDirectory: String

    /// A context with every field given.
    public init(home: String, supervisorPath: String, workingDirectory: String) {
        self.home = home
        self.supervisorPath = supervisorPath
        self.workingDirectory = workingDirectory
    }

    /// The context from the environment: `RUNIT_HOME`, else `$XDG_STATE_HOME/runit` (an absolute
    /// one), else `~/.local/state/runit`; the supervisor beside this executable (or `RUNIT_SUPERVISE`).
    public static func fromEnvironment() -> RunitContext {
        // Four `getenv`s, not a dictionary of the whole environment: that cost an empty `list`
        // a twentieth of its time.
        fromEnvironment { name in getenv(name).map { String(cString: $0) } }
    }

    /// The context from the variables of `environment`, as ``fromEnvironment()`` reads them.
    public static func fromEnvironment(_ environment: [String: String]) -> RunitContext {
        fromEnvironment { environment[$0] }
    }

    /// The state directory the variables name, as given (a relative `RUNIT_HOME` or `HOME` is
    /// made absolute by the caller): `RUNIT_HOME`, else `$XDG_STATE_HOME/runit`, else
    /// `$HOME/.local/state/runit`. An empty variable counts as unset, and so does a relative
    /// `XDG_STATE_HOME` (the XDG Base Directory spec says to ignore it). Nil when none names it
    /// and only the password database can say; the front then leaves the command to the full
    /// CLI, so both executables choose the same directory in every environment.
    package static func namedStateDirectory(variable: (String) -> String?) -> String? {
        if let value = variable("RUNIT_HOME"), !value.isEmpty { return value }
        if let state = variable("XDG_STATE_HOME"), state.hasPrefix("/") { return state + "/runit" }
        if let home = variable("HOME"), !home.isEmpty { return home + "/.local/state/runit" }
        return nil
    }

    /// ``namedStateDirectory(variable:)`` from this process's environment.
    package static func namedStateDirectory() -> String? {
        namedStateDirectory { name in getenv(name).map { String(cString: $0) } }
    }

    private static func fromEnvironment(variable: (String) -> String?) -> RunitContext {
        let home = namedStateDirectory(variable: variable) ?? homeDirectory() + "/.local/state/runit"
        let supervisor: String
        if let value = variable("RUNIT_SUPERVISE"), !value.isEmpty {
            supervisor = value
        } else {
            supervisor = (ownDirectory() ?? ".") + "/runit-supervise"
        }
        let current = currentDirectory()
        return RunitContext(
            home: resolved(absolute(home, from: current)), supervisorPath: supervisor, workingDirectory: current)
    }

    /// The working directory, from `getcwd` (Foundation's path and URL types are not set up for
    /// it: `runit list` spent a quarter of its page faults on their first use).
    package static func currentDirectory() -> String {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        guard getcwd(&buffer, buffer.count) != nil else { return environmentDirectory() }
        return buffer.withUnsafeBufferPointer { ByteText.text(cString: $0.baseAddress!) }
    }

    /// The directory of this executable, links resolved: from `/proc/self/exe` on Linux (Bundle's
    /// lookup of the same cost every command a millisecond), else from `argv[0]`.
    public static func ownDirectory() -> String? {
        #if os(Linux)
            var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
            let length = readlink("/proc/self/exe", &buffer, buffer.count - 1)
            if length > 0 {
                let path = String(decoding: buffer[0..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
                if let slash = path.lastIndex(of: "/") { return slash == path.startIndex ? "/" : String(path[..<slash]) }
            }
        #endif
        // Elsewhere: `argv[0]`, as given with a slash or found on `PATH`, links resolved.
        guard let first = CommandLine.arguments.first, !first.isEmpty else { return nil }
        var candidates = [first]
        if !first.contains("/") {
            let path = Platform.environmentDictionary["PATH"] ?? "/usr/bin:/bin"
            candidates = path.split(separator: ":").map { $0 + "/" + first }.filter { access($0, X_OK) == 0 }
        }
        guard let found = candidates.first else { return nil }
        let real = resolved(absolute(found, from: currentDirectory()))
        guard let slash = real.lastIndex(of: "/") else { return nil }
        return slash == real.startIndex ? "/" : String(real[..<slash])
    }

    /// The home directory: the password database's entry of this user, `/` when there is none (or it is empty).
    package static func homeDirectory() -> String {
        guard let entry = getpwuid(getuid()), let directory = entry.pointee.pw_dir, directory.pointee != 0 else {
            return "/"
        }
        return String(cString: directory)
    }

    /// `PWD` when `getcwd` fails (the directory was deleted), else `/`.
    package static func environmentDirectory() -> String {
        Platform.environmentDictionary["PWD"] ?? "/"
    }

    /// The paths of process `name`.
    public func paths(_ name: ProcessName) -> ProcessPaths { ProcessPaths(home: home, name: name.rawValue) }

    /// The directory holding one directory per process.
    public var processesDirectory: String { home + "/procs" }

    /// `path` with every link in it resolved, as far as it exists: one state directory has one
    /// name, whichever link a client reached it by (the supervisor's identity and each run's
    /// token are made from that name).
    public static func resolved(_ path: String) -> String {
        if let real = realpath(path, nil) {
            defer { free(real) }
            return String(cString: real)
        }
        guard let slash = path.lastIndex(of: "/"), slash != path.startIndex else { return path }
        let parent = resolved(String(path[..<slash]))
        return (parent == "/" ? "" : parent) + String(path[slash...])
    }

    /// `path` made absolute against `base`, with `.` and `..` resolved.
    public static func absolute(_ path: String, from base: String) -> String {
        let joined = path.hasPrefix("/") ? path : base + "/" + path
        var parts: [Substring] = []
        for part in joined.split(separator: "/") where part != "." {
            if part == ".." {
                _ = parts.popLast()
            } else {
                parts.append(part)
            }
        }
        // Joined by hand: `joined(separator:)` of substrings runs unspecialized, and cost every
        // short command a sixth of its instructions.
        var path = ""
        for part in parts {
            path += "/"
            path.append(contentsOf: part)
        }
        return path.isEmpty ? "/" : path
    }
}
