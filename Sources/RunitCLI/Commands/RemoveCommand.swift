import ArgumentParser
import Foundation
import RunitCore
import RunitFront
import RunitKit

/// `runit remove NAME`.
struct RemoveCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "remove",
        abstract: "Stop a process if needed, then delete its state and logs.",
        aliases: ["rm"]
    )

    @OptionGroup var target: StopTarget

    @OptionGroup var output: OutputOptions

    @Flag(name: .long, help: "Do not ask before removing every process (--all, or patterns that match them all).")
    var yes = false

    func run() async throws {
        let registry = Registry(context: .fromEnvironment())
        let grace = try target.graceMillis()
        guard let name = target.single else {
            let selection = try target.selected(registry)
            // Patterns that match every process (`'*'`) remove as much as --all, and ask as it does;
            // names given one by one are what the user meant, whatever else exists.
            let patterned = target.names.contains { $0.contains(where: { "*?[".contains($0) }) }
            let everyone = Set((try? registry.names()) ?? [])
            let all = target.all || (patterned && !everyone.isEmpty && Set(selection.names) == everyone)
            if all && !yes { try Self.confirm(selection.names) }
            try Batch.run(selection, json: output.json) { name in
                let outcome = try registry.remove(name, graceMillis: grace)
                return outcome.wasRunning ? "removed (stopped it first)" : "removed"
            }
            return
        }
        let outcome = try registry.remove(name, graceMillis: grace)
        if output.json {
            let report = registry.report(for: outcome.snapshot)
            try Terminal.printJSON(StopJSON(wasRunning: outcome.wasRunning, process: report))
        } else {
            Terminal.write("removed \(outcome.snapshot.name)" + (outcome.wasRunning ? " (stopped it first)" : "") + "\n")
        }
    }

    /// Asks on a terminal before removing every process; refuses without one.
    static func confirm(_ names: [String]) throws {
        guard isatty(0) == 1 else {
            throw RunitError(
                .invalidInput,
                "this removes every process (\(names.count)) and their logs; add --yes to do it without a terminal")
        }
        Terminal.standardError.write("Remove \(names.count) processes and their logs (\(names.joined(separator: ", ")))? [y/N] ")
        let answer = readLine()?.trimmingCharacters(in: .whitespaces).lowercased() ?? ""
        guard answer == "y" || answer == "yes" else { throw RunitError(.invalidInput, "nothing removed") }
    }
}
