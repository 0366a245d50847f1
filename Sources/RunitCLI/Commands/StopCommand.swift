import ArgumentParser
import Foundation
import RunitCore
import RunitFront
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
        let grace = try target.graceMillis()
        if let name = target.single {
            try ControlViews.stop(name, graceMillis: grace, json: output.json)
            return
        }
        let registry = Registry(context: .fromEnvironment())
        try Batch.run(try target.selected(registry), json: output.json) { name in
            let outcome = try registry.stop(name, graceMillis: grace)
            let report = registry.report(for: outcome.snapshot)
            return outcome.wasRunning ? "stopped" + (report.lastExit.map { " (\($0))" } ?? "") : "was not running"
        }
    }
}

/// The processes a stopping command acts on, and its grace period.
struct StopTarget: ParsableArguments {
    @Argument(
        help: "Process names or glob patterns ('web-*'); a project's process is PROJECT/NAME.", completion: .processNames)
    var names: [String] = []

    @Option(name: .long, help: "Every process of this project.", completion: .projectNames)
    var project: String?

    @Flag(name: .long, help: "Every process.")
    var all = false

    @Option(
        name: .long,
        help: "Seconds (or a duration, e.g. 500ms) before SIGKILL (default: its --stop-timeout, else 10s).")
    var timeout: String?

    /// The one name of a plain single-process call (no pattern, project or --all); nil for a batch.
    var single: String? {
        guard names.count == 1, project == nil, !all, !names[0].contains(where: { "*?[".contains($0) }) else { return nil }
        return names[0]
    }

    /// The names a batch acts on, and the names or patterns that match nothing (each a failure
    /// of the batch, as `docker stop` reports them, while the others are still acted on).
    func selected(_ registry: Registry) throws -> (names: [String], unknown: [BatchJSON]) {
        guard !names.isEmpty || project != nil || all else {
            throw RunitError(
                .invalidInput, "name a process (or several, or a glob such as 'web-*'), or give --project P or --all")
        }
        if all && (project != nil || !names.isEmpty) {
            // `--project P --all` stopped every process of every project, and loose ones.
            throw RunitError(
                .invalidInput,
                "--all is every process, and cannot be narrowed; give --project P or names without --all")
        }
        var chosen = try registry.select([], project: project, all: all)
        var unknown: [BatchJSON] = []
        for pattern in names {
            do throws(RunitError) {
                for name in try registry.select([pattern]) where !chosen.contains(name) { chosen.append(name) }
            } catch {
                guard error.code == .notFound else { throw error }
                unknown.append(BatchJSON(name: pattern, result: "failed", error: error.message))
            }
        }
        return (chosen, unknown)
    }

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

/// What a batch did to one process, for `--json`.
struct BatchJSON: Encodable {
    var name: String
    var result: String
    var error: String?
}

/// Runs a batch: `act` on each name concurrently, a line each (or a JSON array), exit 1 if any failed.
enum Batch {
    static func run(
        _ selection: (names: [String], unknown: [BatchJSON]), json: Bool, _ act: @escaping @Sendable (String) throws -> String
    ) throws {
        let results = Registry.concurrently(selection.names) { name -> BatchJSON in
            do {
                return BatchJSON(name: name, result: try act(name))
            } catch let error as RunitError {
                return BatchJSON(name: name, result: "failed", error: error.message)
            } catch {
                return BatchJSON(name: name, result: "failed", error: "\(error)")
            }
        }
        let all = results + selection.unknown
        if json {
            try Terminal.printJSON(all)
        } else {
            for result in all {
                if let error = result.error {
                    Terminal.standardError.write("runit: \(LogText.visible(result.name)): \(LogText.visible(error))\n")
                } else {
                    Terminal.write("\(result.name): \(LogText.visible(result.result))\n")
                }
            }
        }
        if all.contains(where: { $0.error != nil }) { throw ExitCode(1) }
    }
}
