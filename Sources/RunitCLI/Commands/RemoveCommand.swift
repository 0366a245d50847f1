import ArgumentParser
import Foundation
import RunitCore
import RunitKit

/// `runit remove NAME`.
struct RemoveCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "remove",
        abstract: "Stop a process if needed, then delete its state and logs."
    )

    @OptionGroup var target: StopTarget

    @OptionGroup var output: OutputOptions

    func run() async throws {
        let registry = Registry(context: .fromEnvironment())
        let outcome = try registry.remove(target.name, graceMillis: try target.graceMillis())
        if output.json {
            let report = registry.report(for: outcome.snapshot)
            try Terminal.printJSON(StopJSON(wasRunning: outcome.wasRunning, process: report))
        } else {
            Terminal.write("removed \(outcome.snapshot.name)" + (outcome.wasRunning ? " (stopped it first)" : "") + "\n")
        }
    }
}
