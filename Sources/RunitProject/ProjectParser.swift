import Foundation
import RunitCore
import RunitKit
import Yams

/// Reads a `runit.yaml` into a ``Project``, collecting every problem with its line and column.
///
/// The keys follow the CLI's flags (`--ready-log` is `ready_log`). Keys starting with `x-` are
/// left for the user (Compose's extension fields); any other unknown key is an error that names
/// the nearest known one.
struct ProjectParser {
    let file: String
    let directory: String
    var problems: [ProjectProblem] = []

    /// The keys at the top of the file.
    static let topKeys = ["name", "processes"]

    init(file: String) {
        self.file = file
        self.directory = (file as NSString).deletingLastPathComponent
    }

    /// The project in `text`, or every problem found in it.
    mutating func parse(_ text: String) -> Project? {
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch {
            report(yamlError: error)
            return nil
        }
        guard let root, case .mapping(let top) = root else {
            add(root?.mark, "the file must be a mapping with 'processes:' (and optionally 'name:')")
            return nil
        }
        var name = ProjectLoader.defaultName(for: directory)
        var processesNode: (Node, Node)?
        for (key, value) in top {
            guard let text = keyText(key) else { continue }
            switch text {
            case "name":
                guard let given = string(value, "name") else { continue }
                if ProcessName.isValidPart(given) {
                    name = given
                } else {
                    add(value.mark, "the project name '\(given)' is not valid; \(Self.partRule)")
                }
            case "processes": processesNode = (key, value)
            default: unknown(key, text, among: Self.topKeys)
            }
        }
        guard let (processesKey, processesValue) = processesNode else {
            add(root.mark, "no 'processes:' mapping; give each process under it, e.g. processes: {web: {command: npm run dev}}")
            return nil
        }
        guard case .mapping(let entries) = processesValue else {
            add(processesValue.mark ?? processesKey.mark, "'processes' must be a mapping of names to processes")
            return nil
        }
        var processes: [ProjectProcess] = []
        var places: [String: Mark?] = [:]
        for (key, value) in entries {
            guard let processName = keyText(key) else { continue }
            guard ProcessName.isValidPart(processName) else {
                add(key.mark, "'\(processName)' is not a valid process name; \(Self.partRule)")
                continue
            }
            places[processName] = key.mark
            if let process = parseProcess(processName, value, keyMark: key.mark) { processes.append(process) }
        }
        if entries.count == 0 { add(processesValue.mark, "'processes' is empty; give at least one process") }
        checkDependencies(processes, places: places)
        guard problems.isEmpty else { return nil }
        return Project(name: name, directory: directory, file: file, processes: processes)
    }

    static let partRule = "letters, digits, '.', '_' or '-', 1 to 64, starting with a letter or digit"

    // MARK: Reporting

    mutating func add(_ mark: Mark?, _ message: String) {
        problems.append(ProjectProblem(file: file, line: mark?.line ?? 0, column: mark?.column ?? 0, message: message))
    }

    mutating func report(yamlError error: Error) {
        switch error as? YamlError {
        case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
            .composer(let context, let problem, let mark, _):
            let around = context.map { " (\($0.text))" } ?? ""
            // libyaml's own words for its nesting limit name a C function: say what it means.
            if problem.contains("yaml_set_max_nest_level") {
                add(mark, "not valid YAML: it is nested too deep; a project file needs a few levels, not hundreds")
            } else {
                add(mark, "not valid YAML: \(problem)\(around)")
            }
        case .duplicatedKeysInMapping(let duplicates, let context):
            add(context.mark, "a key is given twice in one mapping: \(duplicates.joined(separator: ", "))")
        case .some(let other):
            add(nil, "not valid YAML: \(other)")
        case .none:
            add(nil, "not valid YAML: \(error)")
        }
    }

    /// A key's text; reports a key that is not a plain string.
    mutating func keyText(_ key: Node) -> String? {
        guard case .scalar(let scalar) = key else {
            add(key.mark, "a key must be a plain name, not a list or mapping")
            return nil
        }
        return scalar.string
    }

    /// Reports an unknown key, naming the nearest known one; `x-` keys are the user's and pass.
    mutating func unknown(_ key: Node, _ text: String, among known: [String]) {
        if text.hasPrefix("x-") { return }
        if text == "<<" {
            add(key.mark, "merge keys ('<<') are not supported; write the keys out")
            return
        }
        let nearest = known.min { ProjectLoader.distance($0, text) < ProjectLoader.distance($1, text) }
        let hint =
            nearest.map { ProjectLoader.distance($0, text) <= max(2, text.count / 3) ? "; did you mean '\($0)'?" : "" } ?? ""
        add(key.mark, "unknown key '\(text)'\(hint) (known: \(known.joined(separator: ", ")))")
    }

    // MARK: Values

    /// A scalar's text; reports a list or mapping where text is expected.
    mutating func string(_ node: Node, _ key: String) -> String? {
        guard case .scalar(let scalar) = node else {
            add(node.mark, "'\(key)' must be text, not a \(Self.kind(node))")
            return nil
        }
        // Arguments, variables, paths and commands reach the kernel as C strings, cut at a NUL.
        guard !scalar.string.utf8.contains(0) else {
            add(node.mark, "'\(key)' holds a NUL byte (\\0), which no argument, variable, path or command can hold")
            return nil
        }
        return scalar.string
    }

    /// A shell command: text with something in it (a YAML null, `~`, or blanks is none; `~`
    /// ran as the command `~`, the home folder).
    mutating func command(_ node: Node, process name: String) -> String? {
        guard let text = string(node, "command") else { return nil }
        let null = node.scalar?.style == .plain && ["", "~", "null", "Null", "NULL"].contains(text)
        guard !null, text.contains(where: { !$0.isWhitespace }) else {
            add(node.mark, "the process '\(name)' has an empty command; give the shell command to run")
            return nil
        }
        return text
    }

    /// An integer; reports anything else.
    mutating func integer(_ node: Node, _ key: String) -> Int? {
        guard let text = string(node, key) else { return nil }
        guard let value = Int(text) else {
            add(node.mark, "'\(key)' must be a whole number, not '\(text)'")
            return nil
        }
        return value
    }

    /// `true` or `false` (YAML 1.1's `yes`/`no`/`on`/`off` too).
    mutating func boolean(_ node: Node, _ key: String) -> Bool? {
        guard let text = string(node, key) else { return nil }
        switch text.lowercased() {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default:
            add(node.mark, "'\(key)' must be true or false, not '\(text)'")
            return nil
        }
    }

    /// A duration: `500ms`, `10s`, `2m` … or a number of seconds.
    mutating func duration(_ node: Node, _ key: String) -> Int64? {
        guard let text = string(node, key) else { return nil }
        guard let millis = DurationText.milliseconds(text) else {
            add(node.mark, "'\(key)' must be a duration, not '\(text)'; \(DurationText.rule)")
            return nil
        }
        return millis
    }

    /// One string, or a list of strings.
    mutating func strings(_ node: Node, _ key: String) -> [String]? {
        if case .sequence(let items) = node {
            var out: [String] = []
            for item in items {
                guard let text = string(item, key + " entries") else { return nil }
                out.append(text)
            }
            return out
        }
        return string(node, key).map { [$0] }
    }

    static func kind(_ node: Node) -> String {
        switch node {
        case .scalar: "value"
        case .mapping: "mapping"
        case .sequence: "list"
        case .alias: "alias"
        }
    }

    /// `path` made absolute against the project's directory.
    func absolute(_ path: String) -> String {
        let joined = path.hasPrefix("/") ? path : directory + "/" + path
        return (joined as NSString).standardizingPath
    }
}
