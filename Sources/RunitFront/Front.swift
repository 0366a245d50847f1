import RunitKit
import RunitState

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The `runit` executable: a static program without Foundation that starts in under a
/// millisecond. It runs the commands that scripts and `watch` call in loops, `list`, `status`,
/// `stop` and `start` in their plain forms, itself; for anything else it `exec`s the full CLI,
/// `runit-cli`, which lies beside it.
public enum Front {
    /// Runs the command line and exits. The arguments keep bytes that are not UTF-8 (``ByteText``),
    /// so that a program's arguments and `--env` values reach it as they were typed.
    public static func main(arguments: [String] = ByteText.arguments) -> Never {
        do {
            // Without HOME or a state directory named, the home comes from the password database,
            // which this static executable reads only from /etc/passwd (no NSS modules): the
            // full CLI, linked to the system's C library, finds it as every other command does.
            if try hasStateDirectory() && runIfPlain(arguments) { exit(0) }
        } catch let error as RunitError {
            report(error.message, code: error.code.rawValue, arguments: arguments)
            exit(error.exitCode)
        } catch let error as FrontExit {
            exit(error.code)
        } catch {
            Terminal.standardError.write("runit: \(error)\n")
            exit(1)
        }
        executeFullCLI(arguments)
    }

    /// Whether `RUNIT_HOME`, `XDG_STATE_HOME` or `HOME` names where the state directory is, by
    /// the rule the full CLI follows (an empty variable or a relative `XDG_STATE_HOME` names none).
    static func hasStateDirectory() -> Bool {
        RunitContext.namedStateDirectory() != nil
    }

    /// Runs `list` and `status NAME` (each with or without `--json`), `stop NAME`, and the plain
    /// forms of `start` (``StartOptions/plain(_:)``); false for any other command line, which the full CLI parses
    /// (ArgumentParser's set-up, reflection over every subcommand, was a third of `runit list`
    /// and two thirds of `runit start NAME`, measured with callgrind).
    static func runIfPlain(_ arguments: [String]) throws -> Bool {
        if let start = StartOptions.plain(arguments) {
            try ControlViews.start(start.request(), json: start.json)
            return true
        }
        switch arguments {
        case ["list"], ["ls"], ["ps"]: try ReportViews.list(json: false)
        case ["list", "--json"], ["ls", "--json"], ["ps", "--json"]: try ReportViews.list(json: true)
        case let words where words.count == 2 && words[0] == "status" && isName(words[1]):
            try ReportViews.status(words[1], json: false)
        case let words where words.count == 3 && words[0] == "status" && isName(words[1]) && words[2] == "--json":
            try ReportViews.status(words[1], json: true)
        case let words where words.count == 2 && words[0] == "stop" && isName(words[1]):
            try ControlViews.stop(words[1], graceMillis: nil, json: false)
        default: return false
        }
        return true
    }

    /// Whether the command line asks for JSON: a `--json` of runit's, before any `--` (after
    /// it, the word is the program's: `runit start web -- tool --json`).
    public static func wantsJSON(_ arguments: [String]) -> Bool {
        for word in arguments {
            if word == "--" { return false }
            if word == "--json" { return true }
        }
        return false
    }

    /// Whether a word can be a process name here, not an option or a pattern.
    static func isName(_ text: String) -> Bool { !text.hasPrefix("-") && !text.contains(where: { "*?[".contains($0) }) }

    /// Says what went wrong: on stderr, or with `--json` as `{"error": {"code", "message"}}` on
    /// stdout, so a script that reads JSON gets JSON either way (the full CLI says it here too).
    public static func report(_ message: String, code: String, arguments: [String]) {
        guard wantsJSON(arguments) else {
            // A byte of a path or an argument that is not UTF-8 is shown `\xHH`, as `status` shows it.
            // Whatever it quotes of the user's input cannot drive the terminal (an escape, a `\r`).
            Terminal.standardError.write("runit: \(ByteText.visible(ByteText.shown(message), keepingLines: true))\n")
            return
        }
        Terminal.write(
            "{\"error\":{\"code\":\(JSONText.quoted(code)),\"message\":\(JSONText.quoted(ByteText.shown(message)))}}\n")
    }

    /// Replaces this process with the full CLI, `runit-cli` from this executable's directory
    /// (`RUNIT_CLI` names it elsewhere), with this command's own `argv[0]`, so that messages,
    /// `ps` and `runit startup` (which writes this path into a unit) read as before.
    static func executeFullCLI(_ arguments: [String]) -> Never {
        let given = getenv("RUNIT_CLI").map { String(cString: $0) } ?? ""
        let path = given.isEmpty ? (RunitContext.ownDirectory() ?? ".") + "/runit-cli" : given
        var own = stat()
        var target = stat()
        var problem: String
        if stat("/proc/self/exe", &own) == 0, stat(path, &target) == 0, own.st_dev == target.st_dev,
            own.st_ino == target.st_ino
        {
            // A `runit-cli` that is this very front would exec itself for ever.
            problem = "it is this front executable, not the full CLI"
        } else {
            let name = CommandLine.unsafeArgv[0].map { ByteText.text(cString: $0) } ?? "runit"
            var pointers = ([name] + arguments).map(ByteText.duplicate) + [nil]
            execv(path, &pointers)
            problem = Platform.describe(errno: Platform.lastError)
        }
        report(
            "cannot run the full CLI \(path): \(problem); install runit-cli beside runit (Scripts/install does)",
            code: RunitError.Code.failed.rawValue, arguments: arguments)
        exit(1)
    }
}
