import RunitKit

/// The desired state of a process (`spec.json`), written by the client that starts it.
public struct ProcessSpec: Codable, Equatable, Sendable {
    /// The name.
    public var name: String
    /// The program and its arguments, as executed.
    public var argv: [String]
    /// The shell command when the process was started with `--command`; nil for the argv form.
    public var command: String?
    /// The absolute working directory.
    public var cwd: String
    /// Variables set on top of the environment the process inherits, in the order given.
    public var env: [EnvironmentEntry]
    /// The restart policy.
    public var restart: RestartPolicy
    /// The log size at which the log rotates, in bytes.
    public var logMaxSize: Int
    /// How many rotated log files are kept.
    public var logKeep: Int
    /// Readiness, health, restart tuning, stopping and watching.
    public var policies = ProcessPolicies()
    /// For a project's process: its project's directory and file, and its dependencies.
    public var project: ProjectLink?
    /// What the user last asked: `runit resurrect` starts the processes last started.
    public var desired = DesiredState.running
    /// Who started it last: `cli`, or `mcp:<client name>`, so a person sees what an assistant left running.
    public var startedBy: String?

    /// A spec with every field given.
    public init(
        name: String, argv: [String], command: String? = nil, cwd: String, env: [EnvironmentEntry] = [],
        restart: RestartPolicy = .never, logMaxSize: Int = 10 * 1024 * 1024, logKeep: Int = 5,
        policies: ProcessPolicies = ProcessPolicies()
    ) {
        self.policies = policies
        self.name = name
        self.argv = argv
        self.command = command
        self.cwd = cwd
        self.env = env
        self.restart = restart
        self.logMaxSize = logMaxSize
        self.logKeep = logKeep
    }

    /// The command as a person would type it: the shell command, or the argv quoted where needed.
    public var displayCommand: String {
        if let command { return command }
        // Joined by hand: `joined(separator:)` ran unspecialized here, a seventh of a `status`.
        var line = ""
        for (index, word) in argv.enumerated() {
            if index > 0 { line += " " }
            // In the command's place, `NAME=VALUE` is an assignment and `done` a syntax error.
            // `%1` is a job in bash's.
            let first = index == 0 && (word.utf8.contains(UInt8(ascii: "=")) || word.hasPrefix("%") || Self.isReservedWord(word))
            line += first ? Self.shellQuoted(word, always: true) : Self.shellQuoted(word)
        }
        return line
    }

    /// The POSIX shell's reserved words, and bash's, which mean something else in a command's place.
    /// A `switch`, not a `Set<String>`: the set's first use cost every `status` of a process
    /// started by argv the set's generic machinery and four page faults (143 against 139).
    static func isReservedWord(_ word: String) -> Bool {
        switch word {
        case "!", "{", "}", "case", "do", "done", "elif", "else", "esac", "fi", "for", "if", "in", "then", "until", "while",
            "[[", "]]", "function", "select", "coproc", "time":
            return true
        default:
            return false
        }
    }

    /// Whether a byte needs no quoting in a POSIX shell word: ASCII letters, digits and `-_./=:@%+,`.
    package static func safeInShell(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        default:
            return Array("-_./=:@%+,".utf8).contains(byte)
        }
    }

    /// `word` quoted for a POSIX shell when it needs quoting: pasted into `sh`, it gives back the
    /// same bytes. Each `'` is closed, escaped and reopened scalar by scalar: as a `Character`, a
    /// `'` followed by a combining mark is another character and was left unescaped. A byte that
    /// is not UTF-8 (``ByteText``) is written `"$(printf '\NNN')"`, which any POSIX shell reads.
    package static func shellQuoted(_ word: String, always: Bool = false) -> String {
        if !always, !word.isEmpty, word.utf8.allSatisfy(Self.safeInShell) { return word }
        var quoted = "'"
        for scalar in word.unicodeScalars {
            if scalar == "'" {
                quoted.unicodeScalars.append(contentsOf: "'\\''".unicodeScalars)
            } else if let byte = ByteText.escapedByte(scalar) {
                quoted += "'\"$(printf '\\" + String(byte, radix: 8) + "')\"'"
            } else {
                quoted.unicodeScalars.append(scalar)
            }
        }
        quoted.unicodeScalars.append("'")
        return quoted
    }

    /// Reads a spec file's JSON text (as `JSONEncoder` wrote it); nil when it is not a spec.
    public init?(json bytes: [UInt8]) {
        guard let value = JSONValue(parsing: bytes), let name = value["name"]?.string,
            let argv = value["argv"]?.array?.compactMap(\.string), !argv.isEmpty, let cwd = value["cwd"]?.string,
            let restart = value["restart"]?.string.flatMap(RestartPolicy.init(rawValue:)),
            let maxSize = value["log_max_size"]?.integer, let keep = value["log_keep"]?.integer,
            let envEntries = value["env"]?.array
        else { return nil }
        var env: [EnvironmentEntry] = []
        for entry in envEntries {
            guard let key = entry["key"]?.string, let value = entry["value"]?.string else { return nil }
            env.append(EnvironmentEntry(key: key, value: value))
        }
        self.init(
            name: name, argv: argv, command: value["command"]?.string, cwd: cwd, env: env, restart: restart,
            logMaxSize: Int(maxSize), logKeep: Int(keep))
        // Specs written before policies existed have none: the defaults.
        if let policies = value["policies"] {
            guard let parsed = ProcessPolicies(json: policies) else { return nil }
            self.policies = parsed
        }
        if let project = value["project"] {
            guard let link = ProjectLink(json: project) else { return nil }
            self.project = link
        }
        self.startedBy = value["started_by"]?.string
        if let desired = value["desired"] {
            guard let state = desired.string.flatMap(DesiredState.init(rawValue:)) else { return nil }
            self.desired = state
        }
    }

    enum CodingKeys: String, CodingKey {
        case name, argv, command, cwd, env, restart, policies, project, desired
        case startedBy = "started_by"
        case logMaxSize = "log_max_size"
        case logKeep = "log_keep"
    }
}

/// One `KEY=VALUE` environment entry.
public struct EnvironmentEntry: Codable, Equatable, Sendable {
    /// The variable's name.
    public var key: String
    /// Its value.
    public var value: String

    /// An entry with the key and value given.
    public init(key: String, value: String) {
        self.key = key
        self.value = value
    }

    /// Parses `KEY=VALUE`; throws a usage error naming the entry (and the process `name`, when
    /// given) when there is no `=` or no key.
    public init(parsing text: String, for name: String? = nil) throws(RunitError) {
        // By scalar: as a `Character`, `=` and a combining mark after it are not `=`.
        guard let equals = text.unicodeScalars.firstIndex(of: "="), equals != text.startIndex else {
            let target = name.map { " for '\($0)'" } ?? ""
            throw RunitError(
                .invalidInput,
                "the environment entry '\(text)'\(target) is not KEY=VALUE; write it as --env KEY=VALUE, e.g. --env PORT=8080")
        }
        self.key = String(text.unicodeScalars[..<equals])
        self.value = String(text.unicodeScalars[text.unicodeScalars.index(after: equals)...])
    }

    /// Whether the key looks like it holds a secret (a token, a password, a key).
    public var looksSecret: Bool {
        let upper = key.uppercased()
        return ["TOKEN", "SECRET", "PASSWORD", "PASSWD", "KEY", "CREDENTIAL", "AUTH", "PRIVATE"].contains {
            upper.contains($0)
        }
    }

    /// The value as shown to people: masked when the key looks secret, and with the password
    /// (or token) of any URL in it masked (`postgres://u:***@h/db`).
    public var displayValue: String { looksSecret ? "****" : Self.maskingURLCredentials(value) }

    /// `text` with the credentials of each URL in it (`scheme://user:password@host`) masked:
    /// the password, or a user part alone (a token used as the user name, `https://TOKEN@host`).
    /// It works on the UTF-8 bytes: as `Character`s, a `/`, `@` or `:` followed by a combining
    /// mark is another character, and a URL whose user part opened with one was shown whole.
    public static func maskingURLCredentials(_ text: String) -> String {
        let bytes = Array(text.utf8)
        guard bytes.contains(UInt8(ascii: "@")) else { return text }
        let separator = Array("://".utf8)
        let ends = Array("/?#\" \t\n".utf8)
        // A password may hold a space or a quote (it should be %20, but is typed as is): past
        // them, only a path, query, fragment or line ends the part that holds it.
        let looseEnds = Array("/?#\n".utf8)
        // The index after the first `://` at or after `from`.
        func authorityStart(from: Int) -> Int? {
            var index = from
            while index + separator.count <= bytes.count {
                if bytes[index..<(index + separator.count)].elementsEqual(separator) { return index + separator.count }
                index += 1
            }
            return nil
        }
        var out: [UInt8] = []
        var rest = 0
        while let start = authorityStart(from: rest) {
            out += bytes[rest..<start]
            rest = start
            let end = bytes[start...].firstIndex { ends.contains($0) } ?? bytes.count
            var found = bytes[start..<end].lastIndex(of: UInt8(ascii: "@"))
            if found == nil {
                let looseEnd = bytes[start...].firstIndex { looseEnds.contains($0) } ?? bytes.count
                if let at = bytes[start..<looseEnd].lastIndex(of: UInt8(ascii: "@")),
                    bytes[start..<at].contains(UInt8(ascii: ":"))
                {
                    found = at
                }
            }
            guard let at = found else { continue }
            if let colon = bytes[start..<at].firstIndex(of: UInt8(ascii: ":")) {
                out += bytes[start..<colon] + Array(":***".utf8)
            } else {
                out += Array("***".utf8)
            }
            rest = at
        }
        out += bytes[rest...]
        return String(decoding: out, as: UTF8.self)
    }
}
