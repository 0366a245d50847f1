import Foundation
import RunitCore
import RunitKit

/// A `Procfile`, as foreman and Overmind read it: `name: command` a line, `#` comments and blank
/// lines skipped. The `.env` beside it, when there is one, is every process's environment.
public enum Procfile {
    /// The entries of `text`: each process's name and command, in order; problems with their lines.
    public static func entries(_ text: String) -> (entries: [(name: String, command: String)], problems: [(Int, String)]) {
        var entries: [(name: String, command: String)] = []
        var problems: [(Int, String)] = []
        var seen: Set<String> = []
        // "\r\n" is one Character: a split on "\n" alone would read a CRLF file as one line.
        let lines = text.split(omittingEmptySubsequences: false) { $0 == "\n" || $0 == "\r\n" }
        for (offset, raw) in lines.enumerated() {
            let line = raw.hasSuffix("\r") ? raw.dropLast() : raw
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
            guard let colon = trimmed.firstIndex(of: ":") else {
                problems.append((offset + 1, "'\(trimmed)' is not 'name: command'"))
                continue
            }
            let name = trimmed[..<colon].trimmingCharacters(in: .whitespaces)
            let command = trimmed[trimmed.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            guard ProcessName.isValidPart(name) else {
                problems.append((offset + 1, "'\(name)' is not a valid process name; \(ProjectParser.partRule)"))
                continue
            }
            guard !command.isEmpty else {
                problems.append((offset + 1, "'\(name)' has no command after its ':'"))
                continue
            }
            guard seen.insert(name).inserted else {
                problems.append((offset + 1, "'\(name)' is given twice"))
                continue
            }
            entries.append((name, command))
        }
        return (entries, problems)
    }

    /// The project of the Procfile `file` with the text `text`.
    static func project(file: String, text: String) throws(ProjectErrors) -> Project {
        let directory = (file as NSString).deletingLastPathComponent
        let (entries, found) = entries(text)
        var problems = found.map { ProjectProblem(file: file, line: $0.0, column: 1, message: $0.1) }
        var env: [EnvironmentEntry] = []
        let envPath = directory + "/.env"
        // A link to nowhere is read too, so that the error says so: passed over, its variables were
        // missing from every process without a word.
        if FileManager.default.fileExists(atPath: envPath)
            || (try? FileManager.default.destinationOfSymbolicLink(atPath: envPath)) != nil
        {
            do {
                env = try EnvFile.parse(try ProjectLoader.readText(envPath))
            } catch let error as EnvFile.Problem {
                problems.append(ProjectProblem(file: envPath, line: error.line, column: 1, message: error.message))
            } catch let error as RunitError {
                problems.append(ProjectProblem(file: envPath, line: 0, column: 0, message: error.message))
            } catch {
                problems.append(ProjectProblem(file: envPath, line: 0, column: 0, message: "\(error)"))
            }
        }
        if entries.isEmpty && problems.isEmpty {
            problems.append(
                ProjectProblem(file: file, line: 0, column: 0, message: "no process in it; write 'name: command' lines"))
        }
        guard problems.isEmpty else { throw ProjectErrors(problems: problems) }
        let processes = entries.map { entry in
            var process = ProjectProcess(name: entry.name, cwd: directory)
            process.command = entry.command
            process.env = env
            return process
        }
        return Project(
            name: ProjectLoader.defaultName(for: directory), directory: directory, file: file, processes: processes)
    }
}
