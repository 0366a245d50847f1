import ArgumentParser
import Foundation
import RunitCore
import RunitKit

/// `runit stop NAME [--timeout SECONDS]`.
struct StopCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stop",
        abstract: "Stop a process: SIGTERM to its tree, SIGKILL after the timeout; returns when all of it is gone."
    )

    @Argument(help: "The process name.")
    var name: String

    @Option(name: [.long, .short], help: "Seconds (or a duration, e.g. 500ms) before SIGKILL (default 10).")
    var timeout: String?

    @OptionGroup var output: OutputOptions

    func run() async throws {
        let registry = Registry(context: .fromEnvironment())
        let outcome = try registry.stop(name, graceMillis: try graceMillis(timeout))
        let report = ProcessReport(
            outcome.snapshot, paths: ProcessPaths(home: registry.context.home, name: outcome.snapshot.name), withMetrics: false)
        if output.json {
            try Terminal.printJSON(StopJSON(wasRunning: outcome.wasRunning, process: report))
        } else if outcome.wasRunning {
            Terminal.write("stopped \(report.name)" + (report.lastExit.map { " (\($0))" } ?? "") + "\n")
        } else {
            Terminal.write("\(report.name) was not running (\(report.state.rawValue))\n")
        }
    }
}

/// `runit stop --json` and `runit remove --json` output.
struct StopJSON: Encodable {
    var wasRunning: Bool
    var process: ProcessReport

    enum CodingKeys: String, CodingKey {
        case wasRunning = "was_running"
        case process
    }
}

/// `runit restart NAME`.
struct RestartCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restart",
        abstract: "Stop a process if it runs, then start it again with the same spec."
    )

    @Argument(help: "The process name.")
    var name: String

    @Option(name: [.long, .short], help: "Seconds (or a duration) before SIGKILL while stopping (default 10).")
    var timeout: String?

    @OptionGroup var output: OutputOptions

    func run() async throws {
        let registry = Registry(context: .fromEnvironment())
        let outcome = try registry.restart(name, graceMillis: try graceMillis(timeout))
        let report = ProcessReport(
            outcome.snapshot, paths: ProcessPaths(home: registry.context.home, name: outcome.snapshot.name), withMetrics: false)
        if output.json {
            try Terminal.printJSON(StartJSON(process: report, failure: outcome.failure, output: []))
            if outcome.failure != nil { throw ExitCode(1) }
        } else if let failure = outcome.failure {
            throw RunitError(.startFailed, failure + "; see 'runit logs \(report.name)'")
        } else {
            Terminal.write("restarted \(report.name) (pid \(report.pid.map(String.init) ?? "?"), restarts \(report.restarts))\n")
        }
    }
}

/// `runit remove NAME`.
struct RemoveCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "remove",
        abstract: "Stop a process if needed, then delete its state and logs."
    )

    @Argument(help: "The process name.")
    var name: String

    @Option(name: [.long, .short], help: "Seconds (or a duration) before SIGKILL while stopping (default 10).")
    var timeout: String?

    @OptionGroup var output: OutputOptions

    func run() async throws {
        let registry = Registry(context: .fromEnvironment())
        let outcome = try registry.remove(name, graceMillis: try graceMillis(timeout))
        if output.json {
            let report = ProcessReport(
                outcome.snapshot, paths: ProcessPaths(home: registry.context.home, name: outcome.snapshot.name),
                withMetrics: false)
            try Terminal.printJSON(StopJSON(wasRunning: outcome.wasRunning, process: report))
        } else {
            Terminal.write("removed \(outcome.snapshot.name)" + (outcome.wasRunning ? " (stopped it first)" : "") + "\n")
        }
    }
}

/// `runit send NAME TEXT`.
struct SendCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "send",
        abstract: "Write a line to a running process's stdin."
    )

    @Argument(help: "The process name.")
    var name: String

    @Argument(help: "The text to send.")
    var text: String

    @Flag(name: .long, help: "Do not add a newline after the text.")
    var noNewline = false

    func run() async throws {
        let registry = Registry(context: .fromEnvironment())
        let count = try registry.send(name, text: text, newline: !noNewline)
        Terminal.write("sent \(count) bytes to \(name)\n")
    }
}
