import ArgumentParser
import Foundation
import RunitCore
import RunitFront
import RunitKit

/// The `runit` command: its subcommands, one file each under `Commands/`.
public struct Runit: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "runit",
        abstract: "Start, watch and stop long-running processes; serve the same to AI assistants over MCP.",
        version: "0.1.0",
        subcommands: [
            StartCommand.self, StopCommand.self, RestartCommand.self, ListCommand.self, StatusCommand.self,
            LogsCommand.self, SendCommand.self, SignalCommand.self, RemoveCommand.self, WaitCommand.self, UpCommand.self,
            DownCommand.self,
            ConfigCommand.self, ResurrectCommand.self, StartupCommand.self, ExportCommand.self, DoctorCommand.self,
            TopCommand.self, MCPCommand.self,
        ]
    )

    public init() {}

    /// Parses the command line, runs the command and exits: 0 on success, 1 when the
    /// operation failed, 2 for a usage error.
    public static func run(arguments: [String] = Array(CommandLine.arguments.dropFirst())) async -> Never {
        do {
            var command = try parseAsRoot(arguments)
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
            Foundation.exit(0)
        } catch let error as RunitError {
            report(error.message, code: error.code.rawValue, arguments: arguments)
            Foundation.exit(error.exitCode)
        } catch let error as ExitCode {
            Foundation.exit(error.rawValue)
        } catch {
            let code = exitCode(for: error)
            var message = fullMessage(for: error)
            if code != .success && arguments.contains("--json") {
                report(message.replacingOccurrences(of: "Error: ", with: ""), code: "invalid_input", arguments: arguments)
                Foundation.exit(code == .validationFailure ? 2 : code.rawValue)
            }
            if code == .success {
                if let unknown = unknownHelpTopic(arguments) {
                    Terminal.standardError.write("runit: \(unknown)\n")
                    Foundation.exit(2)
                }
                print(message)
                Foundation.exit(0)
            }
            if let hint = hint(for: arguments) { message += "\n" + hint }
            Terminal.standardError.write(message + "\n")
            Foundation.exit(code == .validationFailure ? 2 : code.rawValue)
        }
    }

    /// Says what went wrong: on stderr, or with `--json` as `{"error": {"code", "message"}}` on
    /// stdout, so a script that reads JSON gets JSON either way (the exit code is the same).
    static func report(_ message: String, code: String, arguments: [String]) {
        guard arguments.contains("--json") else {
            Terminal.standardError.write("runit: \(message)\n")
            return
        }
        let object = ["error": ["code": code, "message": message]]
        if let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]) {
            Terminal.write(String(decoding: data, as: UTF8.self) + "\n")
        }
    }

    /// The names people type for the commands: each command's name and aliases.
    static var commandNames: [String] {
        configuration.subcommands.flatMap { [$0.configuration.commandName ?? ""] + $0.configuration.aliases } + ["help"]
    }

    /// What to try instead, for a command line that did not parse: the nearest command to an
    /// unknown one, and the `--` a program's arguments need after `start NAME`.
    static func hint(for arguments: [String]) -> String? {
        guard let first = arguments.first, !first.hasPrefix("-") else { return nil }
        if !commandNames.contains(first) {
            let nearest =
                commandNames.first { $0.hasPrefix(first) && first.count >= 2 }
                ?? Suggestion.closest(to: first, among: commandNames)
            return "runit: '\(first)' is not a command" + (nearest.map { "; did you mean '\($0)'?" } ?? "; see 'runit --help'")
        }
        if first == "start", !arguments.contains("--"), arguments.dropFirst().filter({ !$0.hasPrefix("-") }).count >= 2 {
            let name = arguments[1]
            let program = arguments.dropFirst(2).joined(separator: " ")
            return "runit: put the program after --: runit start \(name) -- \(program)"
        }
        return nil
    }

    /// `runit help NOSUCH`: an error naming the nearest command, not the overview.
    static func unknownHelpTopic(_ arguments: [String]) -> String? {
        guard arguments.count >= 2, arguments[0] == "help", !commandNames.contains(arguments[1]) else { return nil }
        let nearest = Suggestion.closest(to: arguments[1], among: commandNames)
        return "there is no command '\(arguments[1])'" + (nearest.map { "; did you mean '\($0)'?" } ?? "; see 'runit --help'")
    }
}

extension Runit {
    /// Runs the commands that scripts and `watch` call in loops, in their plain forms, without
    /// ArgumentParser: its set-up (reflection over every subcommand) was a third of `runit list`
    /// and two thirds of `runit start NAME`, measured with callgrind. Anything else, including
    /// any other option, is parsed as usual.
    /// Runs a fast-path command synchronously, before any task or thread of the concurrency
    /// runtime exists, and exits; returns when the command line needs the full parser.
    public static func runFastPathIfPossible(arguments: [String] = Array(CommandLine.arguments.dropFirst())) {
        do {
            guard try fastPath(arguments) else { return }
            Foundation.exit(0)
        } catch let error as RunitError {
            report(error.message, code: error.code.rawValue, arguments: arguments)
            Foundation.exit(error.exitCode)
        } catch let error as ExitCode {
            Foundation.exit(error.rawValue)
        } catch {
            Terminal.standardError.write("runit: \(error.localizedDescription)\n")
            Foundation.exit(1)
        }
    }

    static func fastPath(_ arguments: [String]) throws -> Bool {
        func isName(_ text: String) -> Bool { !text.hasPrefix("-") && !text.contains(where: { "*?[".contains($0) }) }
        switch arguments {
        case ["list"], ["ls"], ["ps"]: try ReportViews.list(json: false)
        case ["list", "--json"], ["ls", "--json"], ["ps", "--json"]: try ReportViews.list(json: true)
        case let words where words.count == 2 && words[0] == "status" && isName(words[1]):
            try ReportViews.status(words[1], json: false)
        case let words where words.count == 3 && words[0] == "status" && isName(words[1]) && words[2] == "--json":
            try ReportViews.status(words[1], json: true)
        case let words where words.count == 2 && words[0] == "stop" && isName(words[1]):
            try StopCommand.stop(words[1], graceMillis: nil, json: false)
        case let words where words.count == 2 && words[0] == "start" && isName(words[1]):
            try StartCommand.start(StartRequest(name: words[1]), json: false)
        case let words where words.count == 4 && words[0] == "start" && isName(words[1]) && words[2] == "--settle":
            guard let settle = DurationText.milliseconds(words[3]) else { return false }
            var request = StartRequest(name: words[1])
            request.settleMillis = settle
            try StartCommand.start(request, json: false)
        default: return false
        }
        return true
    }
}

/// Options every command that prints data has.
struct OutputOptions: ParsableArguments {
    @Flag(name: .long, help: "Print JSON instead of text.")
    var json = false
}
