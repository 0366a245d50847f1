import RunitKit
import RunitState

/// What `stop NAME` and `start NAME` do and say: the front runs their plain forms, the full CLI
/// the others (`--json`, several names, a new command).
public enum ControlViews {
    /// The command's work, callable without argument parsing.
    public static func stop(_ name: String, graceMillis: Int64?, json: Bool) throws {
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

    /// The command's work for a validated request, callable without argument parsing.
    public static func start(_ request: StartRequest, json: Bool, quiet: Bool = false) throws {
        let registry = Registry(context: .fromEnvironment())
        let outcome = try registry.start(request)
        let report = registry.report(for: outcome.snapshot)
        warn(outcome.warnings)
        let needsOutput = json || outcome.failure != nil
        let lines = needsOutput ? registry.runLines(report.name, count: 10) : []
        if json {
            try Terminal.printJSON(
                StartJSON(
                    process: report, failure: outcome.failure, output: lines.map { LogText.clean($0.textString) },
                    warnings: outcome.warnings, port: outcome.port))
        } else if let failure = outcome.failure {
            throw RunitError(.startFailed, failureMessage(failure, name: report.name, lines: lines))
        } else if quiet {
            // What follows (`start --wait --json`) prints the one JSON document.
        } else if outcome.finishedCleanly {
            Terminal.write("\(report.name) ran and exited with code 0\n")
        } else {
            let port = outcome.port.map { ", PORT=\($0)" } ?? ""
            Terminal.write("started \(report.name) (pid \(report.pid.map(String.init) ?? "?")\(port))\n")
        }
        if outcome.failure != nil { throw FrontExit(code: 1) }
    }

    /// What a failed start or restart says: what happened, the run's last output, and what to
    /// run next (a plain `start NAME` runs the stored command again, so the fix is a new one).
    public static func failureMessage(_ failure: String, name: String, lines: [LogRecord]) -> String {
        var message = failure
        if !lines.isEmpty {
            message += "; its last output:\n" + lines.map { "  " + LogText.clean($0.textString) }.joined(separator: "\n")
        }
        return message
            + "\nTo run another command: 'runit start \(name) -- PROGRAM ARGS…' (or --command \"…\"); "
            + "'runit start \(name)' alone runs the same one again. See 'runit logs \(name)'."
    }

    /// Prints each warning on stderr, its control characters as escapes (a command line of
    /// another process is part of it).
    public static func warn(_ warnings: [String]) {
        for warning in warnings { Terminal.standardError.write("runit: warning: \(LogText.visible(warning))\n") }
    }
}

/// `runit start --json` output.
public struct StartJSON: Encodable {
    var process: ProcessReport
    var failure: String?
    var output: [String]
    /// Said on stderr too: a `PORT` another process already listens on.
    var warnings: [String]
    /// The port given as `PORT`, when `--port` asked for one.
    var port: Int?

    public init(process: ProcessReport, failure: String?, output: [String], warnings: [String], port: Int? = nil) {
        (self.process, self.failure, self.output, self.warnings, self.port) = (process, failure, output, warnings, port)
    }
}

/// `runit stop --json` and `runit remove --json` output.
public struct StopJSON: Encodable {
    var wasRunning: Bool
    var process: ProcessReport

    public init(wasRunning: Bool, process: ProcessReport) {
        self.wasRunning = wasRunning
        self.process = process
    }

    enum CodingKeys: String, CodingKey {
        case wasRunning = "was_running"
        case process
    }
}
