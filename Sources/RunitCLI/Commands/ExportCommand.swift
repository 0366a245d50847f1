import ArgumentParser
import Foundation
import RunitCore
import RunitFront
import RunitKit

/// `runit export systemd [NAME…] [--dir D]`.
struct ExportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write a systemd unit per process, for a stack that moves to a server.",
        discussion: """
            Each unit has the process's command, directory, environment, restart policy with its \
            limits, stop signal and timeout, and a project's dependencies as After= and Requires=. \
            A process another one waits for to complete is Type=oneshot.
            """
    )

    @Argument(help: "The format: systemd.")
    var format: String

    @Argument(help: "Process names or glob patterns (default: every process).")
    var names: [String] = []

    @Option(name: .long, help: "Every process of this project.")
    var project: String?

    @Option(name: .long, help: "Where to write the units (default: the current directory).")
    var dir: String = "."

    func run() async throws {
        guard format == "systemd" else {
            throw RunitError(.invalidInput, "'\(format)' is not a format runit exports; the one there is: systemd")
        }
        let registry = Registry(context: .fromEnvironment())
        let chosen = try registry.select(names, project: project, all: names.isEmpty && project == nil)
        guard !chosen.isEmpty else { throw RunitError(.notFound, "no processes to export") }
        let specs = chosen.compactMap { try? registry.existing($0).spec }
        // A process that a dependant waits on to complete runs once: Type=oneshot.
        var oneShots: Set<String> = []
        for spec in specs {
            guard let project = ProcessName(spec.name)?.project else { continue }
            for dependency in spec.project?.dependsOn ?? [] where dependency.condition == .completedSuccessfully {
                oneShots.insert(project + "/" + dependency.name)
            }
        }
        if let refusal = SystemdText.refusal(specs) {
            throw RunitError(.invalidInput, "cannot export \(refusal); nothing was written")
        }
        let directory = RunitContext.absolute(dir, from: FileManager.default.currentDirectoryPath)
        // Every target first: a refusal leaves nothing half written.
        for spec in specs { try UnitFile.check(directory + "/" + SystemdText.unitName(spec.name)) }
        for spec in specs {
            let path = directory + "/" + SystemdText.unitName(spec.name)
            let text = SystemdText.unit(for: spec, oneShot: oneShots.contains(spec.name))
            try UnitFile.write(text, to: path)
            Terminal.write("wrote \(path)\n")
        }
    }
}
