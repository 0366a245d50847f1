import RunitKit
import RunitState

/// What `list` and `status` show, in text and JSON: the front runs them without Foundation; the
/// full CLI's `list --project` and `status --utc` come here too.
public enum ReportViews {
    /// The command's work, callable without argument parsing (see `Runit.fastPath`). Loose
    /// processes come first, then each project's, a blank line between groups.
    public static func list(json: Bool, project: String? = nil) throws {
        var reports = try Registry(context: .fromEnvironment()).reports()
        if let project {
            try Registry.checkProject(project, among: reports.map(\.project))
            reports = reports.filter { $0.project == project }
        }
        reports.sort { ($0.project ?? "", $0.name) < ($1.project ?? "", $1.name) }
        if json {
            try Terminal.printJSON(reports)
            return
        }
        if reports.isEmpty {
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
                    report.uptimeSeconds.map { ProcessMetrics.formatDuration(Double($0)) } ?? "-",
                    String(report.restarts), Self.ports(report.ports, separator: ","),
                    report.problem ?? report.command ?? "?",
                ],
                colors: [nil, Terminal.stateColor(report.state.rawValue), nil, nil, nil, nil, nil])
        }
        Terminal.write(table.render(width: Terminal.width))
    }

    /// Ports as a cell or a value: `-` when there are none.
    public static func ports(_ ports: [Int], separator: String) -> String {
        ports.isEmpty ? "-" : ports.map(String.init).joined(separator: separator)
    }

    /// Shows one process (the plain forms run on the fast path, without ArgumentParser).
    public static func status(_ name: String, json: Bool, utc: Bool = false) throws {
        let report = try Registry(context: .fromEnvironment()).report(name)
        if json {
            try Terminal.printJSON(report)
        } else {
            Terminal.write(render(report, utc: utc))
        }
        // What could be read is shown; a damaged file still makes the command fail, naming it.
        if let problem = report.problem {
            Terminal.standardError.write("runit: \(problem)\n")
            throw FrontExit(code: 1)
        }
    }

    /// The text form of a report: one `key: value` row per line.
    public static func render(_ report: ProcessReport, utc: Bool = false) -> String {
        var rows: [(String, String)] = [
            ("name", report.name),
            ("state", report.state.rawValue),
            ("pid", report.pid.map(String.init) ?? "-"),
            ("ports", ports(report.ports, separator: ", ")),
            ("command", report.command ?? "?"),
            ("cwd", ByteText.shown(report.cwd ?? "?")),
        ]
        for (key, value) in (report.env ?? [:]).sorted(by: { $0.key < $1.key }) {
            rows.append(("env", ByteText.shown("\(key)=\(value)")))
        }
        rows.append(("restart", report.restartPolicy ?? "never"))
        rows.append(("started at", report.startedAt.map { LocalTime.text(rfc3339: $0, utc: utc) } ?? "-"))
        rows.append(("uptime", report.uptimeSeconds.map { ProcessMetrics.formatDuration(Double($0)) } ?? "-"))
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
            let count = report.processCount ?? 1
            rows.append(("memory", ProcessMetrics.formatBytes(memory) + " RSS in \(count) process\(count == 1 ? "" : "es")"))
        }
        if let cpu = report.cpuSeconds { rows.append(("cpu", seconds(hundredths: cpu) + "s")) }
        rows.append(("log", report.logPath))
        if let problem = report.problem { rows.append(("problem", problem)) }
        // Every value with its control characters as escapes: none (an env value, a message, a
        // path) can break its row, fake another field or drive the terminal.
        // Joined by hand: `joined()` of strings ran unspecialized.
        var text = ""
        for (key, value) in rows {
            var shown = LogText.visible(value)
            if key == "state" { shown = Terminal.paint(shown, Terminal.stateColor(value)) }
            text += key + ":" + String(repeating: " ", count: max(1, 11 - key.count)) + shown + "\n"
        }
        return text
    }

    /// `value` with two decimals, as `%.2f` prints it.
    static func seconds(hundredths value: Double) -> String {
        let hundredths = Int((value * 100).rounded())
        let cents = hundredths % 100
        return "\(hundredths / 100)." + (cents < 10 ? "0" : "") + "\(cents)"
    }
}

/// An exit with `code` after the message was written.
public struct FrontExit: Error {
    public let code: Int32

    public init(code: Int32) {
        self.code = code
    }
}
