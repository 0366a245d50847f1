import RunitKit
import RunitState

/// The options of `runit start` as typed, turned into a request with the same checks and the
/// same messages by the front, which parses the common forms itself, and by the full CLI.
public struct StartOptions: Sendable {
    public var positionalName: String?
    public var name: String?
    public var command: String?
    public var argv: [String] = []
    public var cwd: String?
    public var env: [String] = []
    public var port: String?
    /// Nil when not given: `never` for a new command, the stored policy for the stored one.
    public var restart: String?
    /// Nil when not given: 10M for a new command, the stored size for the stored one.
    public var logMaxSize: String?
    /// Nil when not given: 5 for a new command, the stored count for the stored one.
    public var logKeep: Int?
    public var replace = false
    public var settle = "200ms"
    public var json = false

    public init() {}

    /// The request, or an error that says which option is wrong and what it takes.
    public func request() throws -> StartRequest {
        if let positionalName, let name, positionalName != name {
            throw RunitError(.invalidInput, "two names given ('\(positionalName)' and --name '\(name)'); give one")
        }
        guard let chosen = name ?? positionalName else {
            throw RunitError(.invalidInput, "no name given; use runit start NAME -- PROGRAM ... or --name NAME --command \"CMD\"")
        }
        if command != nil, !argv.isEmpty {
            throw RunitError(.invalidInput, "give either --command or a program after --, not both")
        }
        let policy = try restart.map { text throws(RunitError) -> RestartPolicy in
            guard let policy = RestartPolicy(rawValue: text) else {
                throw RunitError(
                    .invalidInput,
                    "--restart '\(text)' for '\(chosen)' is not a policy; give one of: never, on-failure, always "
                        + "(e.g. --restart on-failure)")
            }
            return policy
        }
        let maxSize = try logMaxSize.map { text throws(RunitError) -> Int in
            guard let size = ByteSize.parse(text) else {
                throw RunitError(
                    .invalidInput,
                    "--log-max-size '\(text)' is not a size from 4K to 1024G; give bytes or a number with K, M or G (e.g. 10M)")
            }
            return size
        }
        guard let settleMillis = DurationText.milliseconds(settle) else {
            throw RunitError(.invalidInput, "--settle '\(settle)' is not a duration from 0s to 1m; \(DurationText.rule)")
        }
        var request = StartRequest(name: chosen, command: command, argv: argv.isEmpty ? nil : argv)
        request.cwd = cwd
        request.env = env
        request.restart = policy
        request.logMaxSize = maxSize
        request.logKeep = logKeep
        request.replace = replace
        request.settleMillis = settleMillis
        if let port {
            guard let value = PortRequest(port) else {
                throw RunitError(.invalidInput, "--port '\(port)' for '\(chosen)' is not a port; \(PortRequest.rule)")
            }
            request.port = value
        }
        return request
    }

    /// The command lines the front runs itself: `start NAME`, then any of `--settle D`,
    /// `--restart P`, `--log-max-size S`, `--log-keep N`, `--cwd DIR`, `--env`/`-e KEY=VALUE`
    /// (repeatable), `--port P`, `--replace` and `--json`, each once, then `-- PROGRAM ARGS…` or
    /// nothing. Nil for any other form (`--command`, `--wait`, readiness and health options, a
    /// value that starts with `-`, `--opt=value`, help), which the full CLI parses and explains.
    /// `runit start NAME -- PROGRAM` is the command people type most; ArgumentParser's set-up
    /// was two thirds of its time.
    public static func plain(_ arguments: [String]) -> StartOptions? {
        guard arguments.count >= 2, arguments[0] == "start", Front.isName(arguments[1]) else { return nil }
        var options = StartOptions()
        options.positionalName = arguments[1]
        var seen: [String] = []
        var index = 2
        while index < arguments.count {
            let word = arguments[index]
            if word == "--" {
                options.argv = Array(arguments[(index + 1)...])
                break
            }
            if seen.contains(word) { return nil }
            if word == "--replace" || word == "--json" {
                if word == "--replace" { options.replace = true } else { options.json = true }
                seen.append(word)
                index += 1
                continue
            }
            guard index + 1 < arguments.count, !arguments[index + 1].hasPrefix("-") else { return nil }
            let value = arguments[index + 1]
            switch word {
            case "--settle": options.settle = value
            case "--restart": options.restart = value
            case "--log-max-size": options.logMaxSize = value
            case "--log-keep":
                guard value.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
                    let keep = Int(value)
                else { return nil }
                options.logKeep = keep
            case "--cwd": options.cwd = value
            case "--port": options.port = value
            case "--env", "-e": options.env.append(value)
            default: return nil
            }
            if word != "--env" && word != "-e" { seen.append(word) }
            index += 2
        }
        return options
    }
}
