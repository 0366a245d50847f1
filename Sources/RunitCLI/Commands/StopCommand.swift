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

    @OptionGroup var target: StopTarget

    @OptionGroup var output: OutputOptions

    func run() async throws {
        try Self.stop(target.name, graceMillis: try target.graceMillis(), json: output.json)
    }

    /// The command's work, callable without argument parsing.
    static func stop(_ name: String, graceMillis: Int64?, json: Bool) throws {
        let registry = Registry(context: .fromEnvironment())
        let outcome = try registry.stop(name, graceMillis: graceMillis)
        let report = registry.report(for: outcome.snapshot)
        if json {
            try Terminal.printJSON(StopJSON(wasRunning: outcome.wasRunning, process: report))
        } else if outcome.wasRunning {
            Terminal.write("stopped \(report.name)" + (report.lastExit.map { " (\($0))" } ?? "") + "\n")
        } else {
            Terminal.write("\(report.name) was not running (\(report.state.rawValue))\n")
        }
        // A lost process whose leftovers could not all be proven its own: say what may be left.
        if let message = report.message, message.contains("left them alone") {
            Terminal.standardError.write("runit: '\(report.name)': \(message)\n")
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

/// The process a stopping command acts on, and its grace period.
struct StopTarget: ParsableArguments {
    @Argument(help: "The process name.")
    var name: String

    @Option(
        name: [.long, .short],
        help: "Seconds (or a duration, e.g. 500ms) before SIGKILL (default: its --stop-timeout, else 10s).")
    var timeout: String?

    /// The grace period in milliseconds; nil for the process's own --stop-timeout.
    func graceMillis() throws -> Int64? {
        guard let timeout else { return nil }
        guard let millis = DurationText.milliseconds(timeout) else {
            throw RunitError(
                .invalidInput, "--timeout '\(timeout)' is not a duration from 0s to 1h; \(DurationText.rule)")
        }
        return millis
    }
}
