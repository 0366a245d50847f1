import ArgumentParser
import Foundation
import RunitCore
import RunitFront
import RunitKit

/// `runit restart NAME`.
struct RestartCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restart",
        abstract: "Stop a process if it runs, then start it again with the same spec."
    )

    @OptionGroup var target: StopTarget

    @OptionGroup var output: OutputOptions

    func run() async throws {
        let registry = Registry(context: .fromEnvironment())
        let grace = try target.graceMillis()
        guard let name = target.single else {
            try Batch.run(try target.selected(registry), json: output.json) { name in
                let outcome = try registry.restart(name, graceMillis: grace)
                if outcome.finishedCleanly { return "ran and exited with code 0" }
                if let failure = outcome.failure { throw RunitError(.startFailed, failure) }
                return "restarted (pid \((outcome.snapshot.status?.pid).map { String($0) } ?? "?"))"
            }
            return
        }
        let outcome = try registry.restart(name, graceMillis: grace)
        let report = registry.report(for: outcome.snapshot)
        ControlViews.warn(outcome.warnings)
        let lines = outcome.failure == nil ? [] : registry.runLines(report.name, count: 10)
        if output.json {
            try Terminal.printJSON(
                StartJSON(
                    process: report, failure: outcome.failure, output: lines.map { LogText.clean($0.textString) },
                    warnings: outcome.warnings))
            if outcome.failure != nil { throw ExitCode(1) }
        } else if let failure = outcome.failure {
            throw RunitError(.startFailed, ControlViews.failureMessage(failure, name: report.name, lines: lines))
        } else {
            Terminal.write("restarted \(report.name) (pid \(report.pid.map(String.init) ?? "?"), restarts \(report.restarts))\n")
        }
    }
}
