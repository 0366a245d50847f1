import ArgumentParser
import Foundation
import RunitCore
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
        try Self.list(json: output.json, project: project)
    }

    /// The command's work, callable without argument parsing (see `Runit.fastPath`). Loose
    /// processes come first, then each project's, a blank line between groups.
    static func list(json: Bool, project: String? = nil) throws {
        var reports = try Registry(context: .fromEnvironment()).reports()
        if let project { reports = reports.filter { $0.project == project } }
        reports.sort { ($0.project ?? "", $0.name) < ($1.project ?? "", $1.name) }
        if json {
            try Terminal.printJSON(reports)
            return
        }
        if reports.isEmpty {
            if let project {
                Terminal.write("no processes in project '\(project)'\n")
                return
            }
            Terminal.write("no processes; start one with: runit start NAME -- PROGRAM ARG..., or runit up in a project\n")
            return
        }
        var table = Table(headers: ["NAME", "STATE", "PID", "UPTIME", "RESTARTS", "PORTS", "COMMAND"])
        for (index, report) in reports.enumerated() {
            if index > 0 && reports[index - 1].project != report.project {
                table.add(Array(repeating: "", count: 7), colors: Array(repeating: nil, count: 7))
            }
            table.add(
                [
                    report.name, report.state.rawValue, report.pid.map(String.init) ?? "-",
                    report.uptimeSeconds.map { ProcessMetrics.formatDuration(TimeInterval($0)) } ?? "-",
                    String(report.restarts), Self.ports(report.ports, separator: ","),
                    report.problem ?? report.command ?? "?",
                ],
                colors: [nil, Terminal.stateColor(report.state.rawValue), nil, nil, nil, nil, nil])
        }
        Terminal.write(table.render(width: Terminal.width))
    }

    /// Ports as a cell or a value: `-` when there are none.
    static func ports(_ ports: [Int], separator: String) -> String {
        ports.isEmpty ? "-" : ports.map(String.init).joined(separator: separator)
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
        try Self.status(name, json: output.json, utc: utc)
    }

    /// Shows one process (the plain forms run on the fast path, without ArgumentParser).
    static func status(_ name: String, json: Bool, utc: Bool = false) throws {
        let report = try Registry(context: .fromEnvironment()).report(name)
        if json {
            try Terminal.printJSON(report)
        } else {
            Terminal.write(Self.render(report, utc: utc))
        }
        // What could be read is shown; a damaged file still makes the command fail, naming it.
        if let problem = report.problem {
            Terminal.standardError.write("runit: \(problem)\n")
            throw ExitCode(1)
        }
    }

    /// The text form of a report: one `key: value` row per line.
    static func render(_ report: ProcessReport, utc: Bool = false) -> String {
        var rows: [(String, String)] = [
            ("name", report.name),
            ("state", report.state.rawValue),
            ("pid", report.pid.map(String.init) ?? "-"),
            ("ports", ListCommand.ports(report.ports, separator: ", ")),
            ("command", report.command ?? "?"),
            ("cwd", report.cwd ?? "?"),
        ]
        for (key, value) in (report.env ?? [:]).sorted(by: { $0.key < $1.key }) { rows.append(("env", "\(key)=\(value)")) }
        rows.append(("restart", report.restartPolicy ?? "never"))
        rows.append(("started at", report.startedAt.map { LocalTime.text(rfc3339: $0, utc: utc) } ?? "-"))
        rows.append(("uptime", report.uptimeSeconds.map { ProcessMetrics.formatDuration(TimeInterval($0)) } ?? "-"))
        rows.append(("restarts", String(report.restarts)))
        if let startedBy = report.startedBy { rows.append(("started by", startedBy)) }
        rows.append(("last exit", report.lastExit ?? "-"))
        if let message = report.message { rows.append(("message", message)) }
        if let health = report.health { rows.append(("health", health.summary)) }
        if let left = report.nextRestartInSeconds, let at = report.nextRestartAt {
            let wait =
                left < 1 ? "\(max(0, Int((left * 1000).rounded(.up))))ms" : ProcessMetrics.formatDuration(left.rounded(.up))
            rows.append(("next start", "in \(wait) (\(at))"))
        }
        if let memory = report.memoryBytes {
            rows.append(("memory", ProcessMetrics.formatBytes(memory) + " RSS in \(report.processCount ?? 1) processes"))
        }
        if let cpu = report.cpuSeconds { rows.append(("cpu", String(format: "%.2fs", cpu))) }
        rows.append(("log", report.logPath))
        if let problem = report.problem { rows.append(("problem", problem)) }
        // Every value with its control characters as escapes: none (an env value, a message, a
        // path) can break its row, fake another field or drive the terminal.
        return rows.map { key, value in
            var shown = LogText.visible(value)
            if key == "state" { shown = Terminal.paint(shown, Terminal.stateColor(value)) }
            return key + ":" + String(repeating: " ", count: max(1, 11 - key.count)) + shown + "\n"
        }.joined()
    }
}
