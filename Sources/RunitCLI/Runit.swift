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
    /// operation failed, 2 for a usage error. The arguments keep bytes that are not UTF-8 (``ByteText``).
    public static func run(arguments: [String] = ByteText.arguments) async -> Never {
        do {
            var command = try parseAsRoot(arguments)
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
            Foundation.exit(0)
        } catch let error as RunitError {
            Front.report(error.message, code: error.code.rawValue, arguments: arguments)
            Foundation.exit(error.exitCode)
        } catch let error as ExitCode {
            Foundation.exit(error.rawValue)
        } catch let error as FrontExit {
            Foundation.exit(error.code)
        } catch {
            let code = exitCode(for: error)
            var message = fullMessage(for: error)
            if code != .success && Front.wantsJSON(arguments) {
                Front.report(
                    message.replacingOccurrences(of: "Error: ", with: ""), code: "invalid_input", arguments: arguments)
                Foundation.exit(code == .validationFailure ? 2 : code.rawValue)
            }
            if code == .success {
                if let unknown = unknownHelpTopic(arguments) {
                    Terminal.standardError.write("runit: \(ByteText.visible(unknown))\n")
                    Foundation.exit(2)
                }
                print(message)
                Foundation.exit(0)
            }
            if let hint = hint(for: arguments) { message += "\n" + hint }
            Terminal.standardError.write(ByteText.visible(ByteText.shown(message), keepingLines: true) + "\n")
            Foundation.exit(code == .validationFailure ? 2 : code.rawValue)
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

/// Options every command that prints data has.
struct OutputOptions: ParsableArguments {
    @Flag(name: .long, help: "Print JSON instead of text.")
    var json = false
}
