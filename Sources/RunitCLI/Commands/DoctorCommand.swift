import ArgumentParser
import Foundation
import RunitCore
import RunitFront
import RunitKit

/// `runit doctor`: whether the installation and the state directory are sound.
struct DoctorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "doctor",
        abstract: "Check the installation: the supervisor and MCP server beside runit, the state directory, inotify limits.",
        discussion: "Each check says ok, warn or fail, and what to do; exit 1 when one fails."
    )

    @OptionGroup var output: OutputOptions

    struct Check: Encodable {
        var name: String
        var result: String
        var detail: String
    }

    func run() async throws {
        let context = RunitContext.fromEnvironment()
        var checks: [Check] = []
        let directory = (context.supervisorPath as NSString).deletingLastPathComponent
        for tool in ["runit-supervise", "runit-cli", "runit-mcp"] {
            // runit-cli is the program running this: it is where it runs, wherever the supervisor is.
            let path = (tool == "runit-cli" ? RunitContext.ownDirectory() ?? directory : directory) + "/" + tool
            let ok = FileManager.default.isExecutableFile(atPath: path)
            checks.append(
                Check(
                    name: tool, result: ok ? "ok" : tool == "runit-mcp" ? "warn" : "fail",
                    detail: ok ? path : "\(path) is missing; install it beside runit (Scripts/install does)"))
        }
        let registry = Registry(context: context)
        do {
            try registry.checkHome()
            checks.append(Check(name: "state", result: "ok", detail: context.home))
        } catch {
            checks.append(Check(name: "state", result: "fail", detail: error.message))
        }
        for (file, floor, what) in [
            ("max_user_instances", 64, "each --watch, wait, logs --follow, top and MCP server uses one"),
            ("max_user_watches", 8192, "--watch uses one per directory"),
        ] {
            let text = Platform.readFile("/proc/sys/fs/inotify/" + file).map { String(decoding: $0, as: UTF8.self) }
            guard let value = text.flatMap({ Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }) else { continue }
            checks.append(
                Check(
                    name: "inotify " + file, result: value >= floor ? "ok" : "warn",
                    detail: value >= floor
                        ? String(value) : "\(value) is low (\(what)); raise fs.inotify.\(file) with sysctl"))
        }
        let lost = (try? registry.lostButWanted()) ?? []
        checks.append(
            Check(
                name: "processes", result: lost.isEmpty ? "ok" : "warn",
                detail: lost.isEmpty
                    ? "\((try? registry.names().count) ?? 0) known, none lost"
                    : "lost without a word (a reboot?): \(lost.joined(separator: ", ")); 'runit resurrect' starts them"))
        if output.json {
            try Terminal.printJSON(checks)
        } else {
            for check in checks {
                Terminal.write(
                    "\(check.result.padding(toLength: 5, withPad: " ", startingAt: 0))\(check.name): \(LogText.visible(check.detail))\n"
                )
            }
        }
        if checks.contains(where: { $0.result == "fail" }) { throw ExitCode(1) }
    }
}
