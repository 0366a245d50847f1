import ArgumentParser
import Foundation
import RunitCore
import RunitFront
import RunitKit
import RunitProject

/// Where a project command finds its project: `-f FILE`, or the nearest `runit.yaml` or
/// `Procfile` from the current directory upwards.
struct ProjectOptions: ParsableArguments {
    @Option(name: [.customShort("f"), .long], help: "The project file (default: runit.yaml or Procfile, looked for upwards).")
    var file: String?

    func project() throws -> Project {
        try ProjectLoader.locate(file: file, from: RunitContext.fromEnvironment().workingDirectory)
    }
}

/// `runit config`: the project as runit reads it.
struct ConfigCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config",
        abstract: "Print the project as runit reads it: env files merged, paths absolute, defaults filled in."
    )

    @OptionGroup var options: ProjectOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        let project = try options.project()
        if output.json {
            try Terminal.printJSON(project)
            return
        }
        var text = "project:  \(project.name)\nfile:     \(project.file)\n"
        let levels = ProjectGraph.levels(project.processes) ?? []
        text += "order:    " + levels.map { $0.joined(separator: ", ") }.joined(separator: " → ") + "\n"
        for process in project.processes {
            text += "\n\(project.name)/\(process.name):\n"
            text += "  command:  " + (process.command ?? (process.argv ?? []).map(Self.quoted).joined(separator: " ")) + "\n"
            text += "  cwd:      \(process.cwd)\n"
            text += "  restart:  \(process.restart.rawValue)\n"
            for entry in process.env { text += "  env:      \(entry.key)=\(entry.displayValue)\n" }
            for dependency in process.dependsOn {
                text += "  after:    \(dependency.name) (\(dependency.condition.rawValue))\n"
            }
            text += Self.policyLines(process.policies)
        }
        // A byte that is not UTF-8 (kept as a stand-in) shows as \xHH, as status shows it.
        Terminal.write(ProjectPrinter.visibleLines(ByteText.shown(text)))
    }

    static func policyLines(_ policies: ProcessPolicies) -> String {
        var lines: [String] = []
        let ready = policies.ready
        if let log = ready.log { lines.append("ready:    a line matching \(log)") }
        if let port = ready.port { lines.append("ready:    port \(port)") }
        if let http = ready.http { lines.append("ready:    \(http)") }
        if let command = ready.command { lines.append("ready:    \(command) exits 0") }
        if ready.notify { lines.append("ready:    READY=1 on $NOTIFY_SOCKET") }
        let health = policies.health
        if health.isSet {
            let check = health.command ?? health.http ?? health.port.map { "port \($0)" } ?? ""
            lines.append(
                "health:   \(check), every \(DurationText.format(milliseconds: health.intervalMillis)), "
                    + "\(health.retries) retries")
        }
        if !policies.watch.isEmpty { lines.append("watch:    " + policies.watch.joined(separator: ", ")) }
        return lines.map { "  " + $0 + "\n" }.joined()
    }

    static func quoted(_ word: String) -> String {
        word.allSatisfy { $0.isLetter || $0.isNumber || "-_./=:@%+,".contains($0) } && !word.isEmpty
            ? word : "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}

/// `runit up [NAME…]`.
struct UpCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "up",
        abstract: "Start a project's processes in dependency order; restart those whose spec changed.",
        discussion: """
            Each process starts once its dependencies' conditions hold (started, ready, healthy or \
            completed_successfully); independent ones start at the same time. A process that runs \
            with the same spec is left alone. Exit 0 when every one is up, 1 when any failed.
            """
    )

    @Argument(help: "Processes of the project to bring up, with what they depend on (default: all).")
    var names: [String] = []
    @OptionGroup var options: ProjectOptions
    @Flag(help: "Also wait until each started process with a readiness check is ready.")
    var wait = false
    @Option(parsing: .unconditional, help: "How long to wait for dependencies and readiness (0s to 1d).")
    var timeout = "2m"
    @Option(help: "How long each start watches for an early exit, as start's --settle; 0 to return once all run.")
    var settle = "200ms"
    @OptionGroup var output: OutputOptions

    func run() async throws {
        guard let timeoutMillis = DurationText.milliseconds(timeout) else {
            throw RunitError(.invalidInput, "--timeout '\(timeout)' is not a duration; \(DurationText.rule)")
        }
        // 0 waits for nothing: each process is started once, its dependencies not waited for.
        try Limits.check(milliseconds: timeoutMillis, in: Limits.waitMillis, "the time to wait (--timeout)")
        guard let settleMillis = DurationText.milliseconds(settle) else {
            throw RunitError(.invalidInput, "--settle '\(settle)' is not a duration from 0s to 1m; \(DurationText.rule)")
        }
        try Limits.check(milliseconds: settleMillis, in: Limits.settleMillis, "the settle time (--settle)")
        let project = try options.project()
        var runner = ProjectRunner(registry: Registry(context: .fromEnvironment()), project: project)
        runner.settleMillis = settleMillis
        let json = output.json
        let results = try runner.up(names, wait: wait, timeoutMillis: timeoutMillis) { result in
            if !json { ProjectPrinter.print(result) }
        }
        try ProjectPrinter.finish(results, json: json)
    }
}

/// `runit down [NAME…]`.
struct DownCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "down",
        abstract: "Stop a project's processes, those that depend on others first.",
        discussion: "With names, stops those and what depends on them. The processes stay listed, stopped."
    )

    @Argument(help: "Processes of the project to stop, with what depends on them (default: all).")
    var names: [String] = []
    @OptionGroup var options: ProjectOptions
    @Option(
        name: .long, parsing: .unconditional,
        help: "Seconds (or a duration, up to 1h) before SIGKILL (default: each one's --stop-timeout).")
    var timeout: String?
    @OptionGroup var output: OutputOptions

    func run() async throws {
        let grace = try timeout.map { text throws -> Int64 in
            guard let millis = DurationText.milliseconds(text) else {
                throw RunitError(.invalidInput, "--timeout '\(text)' is not a duration; \(DurationText.rule)")
            }
            // Refused up front, as stop does: each process said so, and went on running.
            try Limits.check(milliseconds: millis, in: Limits.graceMillis, "the grace period (--timeout)")
            return millis
        }
        let registry = Registry(context: .fromEnvironment())
        let project = try Self.project(options, registry)
        let runner = ProjectRunner(registry: registry, project: project)
        let results = try runner.down(names, graceMillis: grace)
        if !output.json { results.forEach(ProjectPrinter.print) }
        if !output.json && results.isEmpty { Terminal.write("nothing of project '\(project.name)' is running\n") }
        try ProjectPrinter.finish(results, json: output.json)
    }
}

extension DownCommand {
    /// The project to take down: its file, or, when the file is broken or gone since `up`, what
    /// `up` recorded of the project in that folder (never a folder above a path given with `-f`).
    static func project(_ options: ProjectOptions, _ registry: Registry) throws -> Project {
        let here = registry.context.workingDirectory
        func recordedInstead(of error: Error, _ recorded: Project) -> Project {
            let message = (error as? RunitError)?.message ?? "\(error)"
            let lines = message.split(separator: "\n")
            let why = message.hasPrefix("the project file has") ? lines.dropFirst().joined(separator: "; ") : message
            let shown = ByteText.visible(why, keepingLines: true)
            Terminal.standardError.write(
                "runit: \(shown)\nrunit: so taking down what up started of project '\(recorded.name)' in \(recorded.directory)\n")
            return recorded
        }
        if let file = options.file {
            let path = RunitContext.absolute(file, from: here)
            do {
                return try options.project()
            } catch {
                guard
                    let recorded = ProjectRunner.recorded(
                        registry, from: (path as NSString).deletingLastPathComponent, upwards: false),
                    recorded.file == path
                else { throw error }
                return recordedInstead(of: error, recorded)
            }
        }
        let found = ProjectLoader.find(from: here).map { ($0 as NSString).deletingLastPathComponent }
        if let recorded = ProjectRunner.recorded(registry, from: here), recorded.directory.count > (found?.count ?? 0) {
            // The file `up` read is not found from here: one given with -f (Procfile.dev), or one
            // gone; the nearest file found is a folder above's, another project.
            do {
                return try ProjectLoader.load(file: recorded.file)
            } catch {
                return recordedInstead(of: error.runitError, recorded)
            }
        }
        do {
            return try options.project()
        } catch {
            guard let recorded = ProjectRunner.recorded(registry, from: here) else { throw error }
            return recordedInstead(of: error, recorded)
        }
    }
}

/// How a project command says what happened to each process.
enum ProjectPrinter {
    static func print(_ result: ProjectResult) {
        var line = "\(result.name): \(result.result)"
        if let pid = result.pid, result.error == nil { line += " (pid \(pid))" }
        if let error = result.error { line += ": \(error)" }
        if !result.lastLines.isEmpty {
            line += "; its last lines:\n" + result.lastLines.map { "  " + $0 }.joined(separator: "\n")
        }
        let text = visibleLines(line) + "\n"
        if result.succeeded { Terminal.write(text) } else { Terminal.standardError.write(text) }
    }

    /// `text` with control characters shown as escapes, line by line.
    static func visibleLines(_ text: String) -> String {
        text.split(separator: "\n", omittingEmptySubsequences: false).map { LogText.visible(String($0)) }.joined(separator: "\n")
    }

    /// Prints the JSON (when asked) and exits 1 when any process failed.
    static func finish(_ results: [ProjectResult], json: Bool) throws {
        if json { try Terminal.printJSON(results) }
        if results.contains(where: { !$0.succeeded }) { throw ExitCode(1) }
    }
}
