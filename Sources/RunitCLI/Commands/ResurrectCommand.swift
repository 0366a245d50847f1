import ArgumentParser
import Foundation
import RunitCore
import RunitFront
import RunitKit
import RunitProject

/// `runit resurrect`: back after a reboot.
struct ResurrectCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "resurrect",
        abstract: "Start again every process that was running when its supervisor died (a reboot, a kill -9).",
        discussion: """
            A process you stopped stays stopped, and one that ended by itself stays ended: only \
            those last started whose supervisor is gone are started, with their stored spec. \
            Safe to run twice at once; does nothing when nothing is to do. 'runit startup' runs \
            it at login.
            """
    )

    @OptionGroup var output: OutputOptions

    func run() async throws {
        let results = try ProjectRunner.resurrect(Registry(context: .fromEnvironment()))
        if output.json {
            try Terminal.printJSON(
                results.map { BatchJSON(name: $0.name, result: $0.result, error: $0.error) })
        } else if results.isEmpty {
            Terminal.write("nothing to resurrect\n")
        }
        for result in results where !output.json {
            if let error = result.error {
                Terminal.standardError.write("runit: \(result.name): \(LogText.visible(error))\n")
            } else {
                Terminal.write("\(result.name): \(result.result)\n")
            }
        }
        if results.contains(where: { $0.error != nil }) { throw ExitCode(1) }
    }
}

/// `runit startup [--remove]`: `runit resurrect` at login.
struct StartupCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "startup",
        abstract: "Run 'runit resurrect' at login: writes a systemd user unit (a launchd agent on macOS).",
        discussion: "Prints the one command that enables it. --remove deletes what it wrote."
    )

    @Flag(help: "Delete the unit (or agent) written before.")
    var remove = false

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        let runit = RunitContext.resolved(
            CommandLine.arguments[0].hasPrefix("/")
                ? CommandLine.arguments[0] : (RunitContext.ownDirectory() ?? ".") + "/runit")
        // The state directory as this command finds it, absolute: systemd or launchd runs the unit
        // without this shell's RUNIT_HOME or XDG_STATE_HOME (and would take a relative one from
        // the unit's own directory).
        let unit = StartupUnit(executable: runit, home: RunitContext.fromEnvironment().home, environment: environment)
        #if os(macOS)
            let path = unit.launchdPath
            let text = unit.launchdAgent
            let enable = "launchctl load -w \(path)"
        #else
            let path = unit.systemdPath
            let text = unit.systemdUnit
            let enable = "systemctl --user daemon-reload && systemctl --user enable runit-resurrect.service"
        #endif
        if remove {
            var info = stat()
            guard lstat(path, &info) == 0 else {
                Terminal.write("nothing to remove: \(path) does not exist\n")
                return
            }
            // A folder there is not what runit wrote: it is left alone, not deleted with all it holds.
            guard info.st_mode & S_IFMT == S_IFREG || info.st_mode & S_IFMT == S_IFLNK else {
                throw RunitError(
                    .invalidInput,
                    "\(path) is \(Platform.kind(of: info.st_mode)), not the file 'runit startup' writes; left alone")
            }
            guard unlink(path) == 0 else {
                throw RunitError(.storage, "cannot remove \(path): \(Platform.describe(errno: Platform.lastError))")
            }
            Terminal.write("removed \(path)\n")
            return
        }
        try UnitFile.write(text, to: path)
        Terminal.write("wrote \(path)\nenable it with:\n  \(enable)\n")
    }
}

/// The files that run `runit resurrect` at login.
struct StartupUnit {
    let executable: String
    let home: String?
    let environment: [String: String]

    /// `HOME`, or the password database's entry when it is unset or empty (as for the state directory).
    var homeDirectory: String {
        environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? RunitContext.homeDirectory()
    }

    var systemdPath: String {
        // The XDG Base Directory spec: a relative XDG_CONFIG_HOME is ignored, as an empty one is.
        let config =
            environment["XDG_CONFIG_HOME"].flatMap { $0.hasPrefix("/") ? $0 : nil } ?? homeDirectory + "/.config"
        return config + "/systemd/user/runit-resurrect.service"
    }

    var systemdUnit: String {
        var lines = [
            "[Unit]", "Description=Start the runit processes that were running before (runit resurrect)",
            "After=default.target", "", "[Service]", "Type=oneshot",
            "ExecStart=\(SystemdText.quoted([executable, "resurrect"]))",
        ]
        if let home { lines.append("Environment=\(SystemdText.environment("RUNIT_HOME", home))") }
        lines += ["", "[Install]", "WantedBy=default.target", ""]
        return lines.joined(separator: "\n")
    }

    var launchdPath: String { homeDirectory + "/Library/LaunchAgents/dev.runit.resurrect.plist" }

    var launchdAgent: String {
        func escaped(_ text: String) -> String {
            text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
        }
        let env =
            home.map {
                "<key>EnvironmentVariables</key><dict><key>RUNIT_HOME</key><string>\(escaped($0))</string></dict>"
            } ?? ""
        return """
            <?xml version="1.0" encoding="UTF-8"?>
            <!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
            <plist version="1.0"><dict>
            <key>Label</key><string>dev.runit.resurrect</string>
            <key>ProgramArguments</key><array><string>\(escaped(executable))</string><string>resurrect</string></array>
            <key>RunAtLoad</key><true/>\(env)
            </dict></plist>

            """
    }
}
