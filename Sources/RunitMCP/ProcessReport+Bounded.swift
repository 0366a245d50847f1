import RunitCore

/// A process report fitted into an answer: every field echoed from the user's input (the
/// command, its argv, its env, its directory) cut, so that a 100 KB command cannot make an
/// answer of 200 KB, nor a list of many such processes one of megabytes.
extension ProcessReport {
    /// The most characters of one echoed field.
    static let maxFieldCharacters = 500
    /// The most argv entries and env entries echoed.
    static let maxEntries = 50

    /// This report with each echoed field cut, saying how much was left out.
    var bounded: ProcessReport {
        var copy = self
        copy.command = command.map(Self.cut)
        copy.cwd = cwd.map(Self.cut)
        copy.message = message.map(Self.cut)
        copy.problem = problem.map(Self.cut)
        if let argv {
            var kept = argv.prefix(Self.maxEntries).map(Self.cut)
            if argv.count > Self.maxEntries { kept.append("… (\(argv.count - Self.maxEntries) more arguments)") }
            copy.argv = kept
        }
        if let env {
            let keys = env.keys.sorted()
            var kept: [String: String] = [:]
            for key in keys.prefix(Self.maxEntries) { kept[Self.cut(key)] = Self.cut(env[key] ?? "") }
            if keys.count > Self.maxEntries { kept["…"] = "(\(keys.count - Self.maxEntries) more variables)" }
            copy.env = kept
        }
        return copy
    }

    /// `text` cut to ``maxFieldCharacters`` with a marker.
    static func cut(_ text: String) -> String {
        guard text.count > maxFieldCharacters else { return text }
        return String(text.prefix(maxFieldCharacters)) + "… (\(text.count - maxFieldCharacters) more characters)"
    }
}
