import Foundation
import RunitCore
import RunitKit
import Yams

/// One process's keys, and the checks across processes (dependencies, cycles).
extension ProjectParser {
    /// Every key a process may have, as the CLI's flags with `_` for `-`.
    static let processKeys = [
        "command", "argv", "cwd", "env", "env_file", "restart", "depends_on", "ready_log", "ready_port", "ready_http",
        "ready_cmd", "ready_notify", "health_cmd", "health_http", "health_port", "health_interval", "health_timeout",
        "health_retries", "health_start_period", "max_restarts", "min_uptime", "backoff_max", "stop_signal",
        "stop_timeout", "watch", "watch_ignore", "log_max_size", "log_keep", "tty",
    ]

    mutating func parseProcess(_ name: String, _ node: Node, keyMark: Mark?) -> ProjectProcess? {
        let before = problems.count
        var process = ProjectProcess(name: name, cwd: directory)
        var fileEnv: [EnvironmentEntry] = []
        var ownEnv: [EnvironmentEntry] = []
        var policies = ProcessPolicies()
        // A bare string is the command: `web: npm run dev`.
        if case .scalar = node {
            // An empty one is said once: not again as a process with neither command nor argv.
            process.command = command(node, process: name) ?? ""
        } else if case .mapping(let keys) = node {
            for (key, value) in keys {
                guard let text = keyText(key) else { continue }
                // Given, even if its value was wrong (said already): not missing too.
                if text == "command" && process.command == nil { process.command = "" }
                if text == "argv" && process.argv == nil { process.argv = [] }
                apply(text, value, key: key, to: &process, policies: &policies, fileEnv: &fileEnv, ownEnv: &ownEnv)
            }
        } else {
            add(node.mark, "the process '\(name)' must be a mapping of its keys, or a command")
            return nil
        }
        if (process.command == nil) == (process.argv == nil) {
            add(keyMark, "the process '\(name)' needs 'command' (a shell command) or 'argv' (a list), and not both")
        }
        process.env = fileEnv + ownEnv
        process.policies = policies
        if problems.count == before, let valid = ProcessName(name) {
            do {
                process.policies = try PolicyCheck.validated(policies, name: valid)
            } catch {
                add(keyMark, Self.withKeyNames(error.message))
            }
        }
        // Kept even with problems, so that its dependencies are checked too: every problem at once.
        return process
    }

    // swiftlint:disable:next function_parameter_count
    private mutating func apply(
        _ text: String, _ value: Node, key: Node, to process: inout ProjectProcess, policies: inout ProcessPolicies,
        fileEnv: inout [EnvironmentEntry], ownEnv: inout [EnvironmentEntry]
    ) {
        switch text {
        case "command": process.command = command(value, process: process.name) ?? ""
        case "argv":
            guard case .sequence = value else {
                add(value.mark, "'argv' must be a list, such as [python3, -m, api]; for a shell command use 'command'")
                return
            }
            guard let argv = strings(value, text) else { return }
            process.argv = argv
            if argv.isEmpty { add(value.mark, "'argv' is empty; give the program and its arguments") }
        case "cwd":
            guard let path = string(value, text) else { return }
            let absolute = absolute(path)
            if ByteText.isDirectory(absolute) {
                process.cwd = absolute
            } else {
                add(value.mark, "the directory '\(path)' (\(absolute)) does not exist")
            }
        case "env": ownEnv += environment(value) ?? []
        case "env_file":
            for path in strings(value, text) ?? [] { fileEnv += readEnvFile(path, mark: value.mark) ?? [] }
        case "restart":
            guard let given = string(value, text) else { return }
            if let policy = RestartPolicy(rawValue: given) {
                process.restart = policy
            } else {
                add(value.mark, "'restart' must be never, on-failure or always, not '\(given)'")
            }
        case "depends_on": process.dependsOn = dependencies(value) ?? []
        case "log_max_size":
            guard let given = string(value, text) else { return }
            if let size = ByteSize.parse(given), Limits.logMaxSize.contains(size) {
                process.logMaxSize = size
            } else {
                add(value.mark, "'log_max_size' must be a size from 4K to 1024G (e.g. 10M), not '\(given)'")
            }
        case "log_keep":
            guard let keep = integer(value, text) else { return }
            if Limits.logKeep.contains(keep) {
                process.logKeep = keep
            } else {
                add(value.mark, "'log_keep' must be 0 to 1000, not \(keep)")
            }
        default: applyPolicy(text, value, key: key, to: &policies)
        }
    }

    private mutating func applyPolicy(_ text: String, _ value: Node, key: Node, to policies: inout ProcessPolicies) {
        switch text {
        case "ready_log": policies.ready.log = string(value, text)
        case "ready_port": policies.ready.port = integer(value, text)
        case "ready_http": policies.ready.http = string(value, text)
        case "ready_cmd": policies.ready.command = string(value, text)
        case "ready_notify": policies.ready.notify = boolean(value, text) ?? false
        case "tty": policies.tty = boolean(value, text) ?? false
        case "health_cmd": policies.health.command = string(value, text)
        case "health_http": policies.health.http = string(value, text)
        case "health_port": policies.health.port = integer(value, text)
        case "health_interval": duration(value, text).map { policies.health.intervalMillis = $0 }
        case "health_timeout": duration(value, text).map { policies.health.timeoutMillis = $0 }
        case "health_retries": integer(value, text).map { policies.health.retries = $0 }
        case "health_start_period": duration(value, text).map { policies.health.startPeriodMillis = $0 }
        case "max_restarts": integer(value, text).map { policies.maxRestarts = $0 }
        case "min_uptime": duration(value, text).map { policies.minUptimeMillis = $0 }
        case "backoff_max": duration(value, text).map { policies.backoffMaxMillis = $0 }
        case "stop_signal":
            guard let given = string(value, text) else { return }
            if let number = SignalName.number(given) {
                policies.stopSignal = number
            } else {
                add(value.mark, "'stop_signal' '\(given)' is not a signal; \(SignalName.rule)")
            }
        case "stop_timeout": duration(value, text).map { policies.stopTimeoutMillis = $0 }
        case "watch": policies.watch = strings(value, text) ?? []
        case "watch_ignore": policies.watchIgnore = strings(value, text) ?? []
        default: unknown(key, text, among: Self.processKeys)
        }
    }

    /// `env:` as a mapping (`KEY: value`) or a list (`- KEY=value`).
    private mutating func environment(_ node: Node) -> [EnvironmentEntry]? {
        var entries: [EnvironmentEntry] = []
        switch node {
        case .mapping(let pairs):
            for (key, value) in pairs {
                guard let name = keyText(key) else { continue }
                guard EnvFile.isKey(name) else {
                    add(key.mark, "'\(name)' is not a variable name: letters, digits and '_', not starting with a digit")
                    continue
                }
                // `KEY:` with nothing after it is an empty value, as Compose reads it.
                let text = value.scalar?.tag == Tag(.null) ? "" : string(value, name) ?? ""
                entries.append(EnvironmentEntry(key: name, value: text))
            }
        case .sequence(let items):
            for item in items {
                guard let text = string(item, "env entries") else { continue }
                guard let entry = try? EnvironmentEntry(parsing: text), EnvFile.isKey(entry.key) else {
                    add(item.mark, "'\(text)' is not KEY=VALUE")
                    continue
                }
                entries.append(entry)
            }
        default:
            add(node.mark, "'env' must be a mapping (KEY: value) or a list of KEY=VALUE")
            return nil
        }
        return entries
    }

    /// The entries of the env file at `path` (relative to the project's directory).
    private mutating func readEnvFile(_ path: String, mark: Mark?) -> [EnvironmentEntry]? {
        let absolute = absolute(path)
        let text: String
        do {
            text = try ProjectLoader.readText(absolute)
        } catch {
            add(mark, "cannot read the env file '\(path)': \(error.message)")
            return nil
        }
        do {
            return try EnvFile.parse(text)
        } catch {
            add(mark, "in the env file \(absolute), line \(error.line): \(error.message)")
            return nil
        }
    }

    /// `depends_on:` as a list of names (condition `started`), or a mapping of names to a
    /// condition or to `{condition: …}`.
    private mutating func dependencies(_ node: Node) -> [ProcessDependency]? {
        let conditions = DependencyCondition.allCases.map(\.rawValue).joined(separator: ", ")
        switch node {
        case .sequence(let items):
            return items.compactMap { item in string(item, "depends_on entries").map { ProcessDependency(name: $0) } }
        case .mapping(let pairs):
            var out: [ProcessDependency] = []
            for (key, value) in pairs {
                guard let name = keyText(key) else { continue }
                var conditionNode = value
                if case .mapping(let inner) = value {
                    guard let found = inner.first(where: { $0.key.string == "condition" }), inner.count == 1 else {
                        add(value.mark, "a dependency's mapping takes one key, 'condition' (\(conditions))")
                        continue
                    }
                    conditionNode = found.value
                }
                guard let text = string(conditionNode, "condition") else { continue }
                guard let condition = DependencyCondition(rawValue: text) else {
                    add(conditionNode.mark, "'\(text)' is not a condition; give one of: \(conditions)")
                    continue
                }
                out.append(ProcessDependency(name: name, condition: condition))
            }
            return out
        default:
            if let name = string(node, "depends_on") { return [ProcessDependency(name: name)] }
            return nil
        }
    }

    /// Unknown dependencies and cycles.
    mutating func checkDependencies(_ processes: [ProjectProcess], places: [String: Mark?]) {
        let names = Set(processes.map(\.name))
        for process in processes {
            for dependency in process.dependsOn where !names.contains(dependency.name) {
                let known = processes.map(\.name).filter { $0 != process.name }.joined(separator: ", ")
                add(
                    places[process.name] ?? nil,
                    "'\(process.name)' depends on '\(dependency.name)', which is not a process of this project "
                        + (known.isEmpty ? "(it has no other)" : "(its other processes: \(known))"))
            }
            if process.dependsOn.contains(where: { $0.name == process.name }) {
                add(places[process.name] ?? nil, "'\(process.name)' depends on itself")
            }
            // A condition its dependency has no check for could never hold, or would hold at once.
            for dependency in process.dependsOn {
                guard let target = processes.first(where: { $0.name == dependency.name }) else { continue }
                if dependency.condition == .ready && !target.policies.ready.isSet {
                    add(
                        places[process.name] ?? nil,
                        "'\(process.name)' waits for '\(dependency.name)' to be ready, and '\(dependency.name)' has no "
                            + "readiness check; give it one (ready_log, ready_port, ready_http, ready_cmd or ready_notify), or wait for started"
                    )
                }
                if dependency.condition == .healthy && !target.policies.health.isSet {
                    add(
                        places[process.name] ?? nil,
                        "'\(process.name)' waits for '\(dependency.name)' to be healthy, and '\(dependency.name)' has no "
                            + "health check; give it one (health_cmd, health_http or health_port), or wait for started")
                }
            }
        }
        if let cycle = ProjectGraph.cycle(in: processes) {
            add(
                places[cycle[0]] ?? nil,
                "the dependencies go round in a circle: \((cycle + [cycle[0]]).joined(separator: " → ")); break it")
        }
    }

    /// A message of the CLI's checks with the file's key names: `--health-retries` → `health_retries`.
    static func withKeyNames(_ message: String) -> String {
        var out = ""
        var index = message.startIndex
        while index < message.endIndex {
            if message[index...].hasPrefix("--"), let next = message.index(index, offsetBy: 2, limitedBy: message.endIndex),
                next < message.endIndex, message[next].isLetter
            {
                var end = next
                while end < message.endIndex && (message[end].isLetter || message[end] == "-") { end = message.index(after: end) }
                out += message[next..<end].replacingOccurrences(of: "-", with: "_")
                index = end
                continue
            }
            out.append(message[index])
            index = message.index(after: index)
        }
        return out
    }
}
