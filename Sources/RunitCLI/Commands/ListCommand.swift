import ArgumentParser
import Foundation
import RunitCore
import RunitFront
import RunitKit

/// `runit list [--json]`.
struct ListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "List every process: name, state, pid, uptime, restarts, ports, command.",
        aliases: ["ls", "ps"])

    @Option(name: .long, help: "Only the processes of this project.", completion: .projectNames)
    var project: String?

    @OptionGroup var output: OutputOptions

    func run() async throws {
        try ReportViews.list(json: output.json, project: project)
    }
}

/// `runit status NAME [--json]`.
struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "Show one process: state, pid, ports, command, env, uptime, exits, memory and CPU.")

    @Argument(help: "The process name.", completion: .processNames)
    var name: String

    @Flag(name: .long, help: "Show times in UTC (RFC 3339) instead of local time.")
    var utc = false

    @OptionGroup var output: OutputOptions

    func run() async throws {
        try ReportViews.status(name, json: output.json, utc: utc)
    }
}
