import Foundation
import RunitKit

/// Text for systemd unit files: quoting, and one unit per runit process (`runit export systemd`).
public enum SystemdText {
    /// Words for `ExecStart=`: each in double quotes with `\` and `"` escaped, `%` as `%%` and
    /// `$` as `$$`, so systemd passes every word as it is.
    public static func quoted(_ words: [String]) -> String {
        words.map { "\"" + escaped($0).replacingOccurrences(of: "$", with: "$$") + "\"" }.joined(separator: " ")
    }

    /// An `Environment=` value: `"KEY=value"`, escaped as in ``quoted(_:)`` (no `$` expansion happens there).
    public static func environment(_ key: String, _ value: String) -> String {
        "\"" + escaped(key + "=" + value) + "\""
    }

    /// A path setting (`WorkingDirectory=`): `%` doubled; systemd takes the rest of the line.
    public static func path(_ path: String) -> String { path.replacingOccurrences(of: "%", with: "%%") }

    /// Why `specs` cannot be written as units, or nil: a working directory with a control
    /// character (systemd reads a path setting to the end of its line, with no escapes, so a
    /// newline would start a directive of the path's choosing), or two processes whose units
    /// would have one name (`shop/web` and `shop-web`).
    public static func refusal(_ specs: [ProcessSpec]) -> String? {
        var names: [String: String] = [:]
        for spec in specs {
            if spec.cwd.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) {
                return "'\(spec.name)': its working directory holds a control character (a newline, a tab), "
                    + "which a systemd unit cannot hold"
            }
            let unit = unitName(spec.name)
            if let other = names.updateValue(spec.name, forKey: unit) {
                return "'\(other)' and '\(spec.name)' would both be \(unit); export them to separate directories with --dir"
            }
        }
        return nil
    }

    static func escaped(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "%": out += "%%"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            default:
                // A byte that is not UTF-8 (``ByteText``) as systemd's C escape of it.
                if let byte = ByteText.escapedByte(scalar) {
                    out += "\\x" + String(byte, radix: 16)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out
    }

    /// The unit name of the process `name`: `runit-web.service`, `runit-shop-web.service`.
    public static func unitName(_ name: String) -> String {
        "runit-" + name.replacingOccurrences(of: "/", with: "-") + ".service"
    }

    /// A unit that runs `spec` as runit does: its command, directory, environment, restart policy
    /// with its limits, stop signal and timeout, and its project dependencies. `oneShot` makes it
    /// `Type=oneshot` (another process waits for it to complete).
    public static func unit(for spec: ProcessSpec, oneShot: Bool) -> String {
        let name = ProcessName(spec.name)
        let policies = spec.policies
        var unit = ["[Unit]", "Description=\(spec.name) (exported from runit)"]
        var after = ["network.target"]
        var requires: [String] = []
        if let project = name?.project {
            for dependency in spec.project?.dependsOn ?? [] {
                let other = unitName(project + "/" + dependency.name)
                after.append(other)
                requires.append(other)
            }
        }
        unit.append("After=" + after.joined(separator: " "))
        if !requires.isEmpty { unit.append("Requires=" + requires.joined(separator: " ")) }
        if spec.restart != .never {
            let window = max(1, policies.minUptimeMillis * Int64(max(1, policies.maxRestarts)) / 1000)
            unit.append("StartLimitIntervalSec=\(window)")
            unit.append("StartLimitBurst=\(max(1, policies.maxRestarts))")
        }
        var service = ["", "[Service]"]
        if oneShot {
            service += ["Type=oneshot", "RemainAfterExit=yes"]
        } else {
            service.append(policies.ready.notify ? "Type=notify" : "Type=exec")
        }
        service.append("WorkingDirectory=" + path(spec.cwd))
        for entry in spec.env { service.append("Environment=" + environment(entry.key, entry.value)) }
        service.append("ExecStart=" + quoted(spec.argv))
        if !oneShot {
            switch spec.restart {
            case .never: service.append("Restart=no")
            case .onFailure: service.append("Restart=on-failure")
            case .always: service.append("Restart=always")
            }
            if spec.restart != .never { service.append("RestartSec=500ms") }
        }
        let signal = SignalName.name(policies.stopSignal)
        service.append("KillSignal=" + (Int(signal) == nil ? "SIG" + signal : signal))
        service.append("KillMode=mixed")
        service.append("TimeoutStopSec=\(DurationText.format(milliseconds: policies.stopTimeoutMillis))")
        let install = ["", "[Install]", "WantedBy=default.target", ""]
        return (unit + service + install).joined(separator: "\n")
    }
}
