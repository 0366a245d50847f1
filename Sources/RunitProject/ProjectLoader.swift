import Foundation
import RunitCore
import RunitKit

/// Finds and reads a project: `runit.yaml` (or `runit.yml`), else a `Procfile` with the `.env`
/// beside it, in the directory given or the nearest one above it, as git finds its repository.
public enum ProjectLoader {
    /// The file names looked for, in order of preference within one directory.
    public static let fileNames = ["runit.yaml", "runit.yml", "Procfile"]
    /// The largest project or env file read.
    public static let sizeLimit = 1 << 20

    /// The project file in `directory` or the nearest directory above it; nil when there is none.
    public static func find(from directory: String) -> String? {
        var current = (directory as NSString).standardizingPath
        while true {
            for name in fileNames {
                let path = current == "/" ? "/" + name : current + "/" + name
                // A folder of that name is returned too, so that reading it says what is wrong
                // (a `runit.yaml` folder was passed over, or a Procfile beside it read instead).
                if FileManager.default.fileExists(atPath: path) { return path }
            }
            guard current != "/" else { return nil }
            current = (current as NSString).deletingLastPathComponent
        }
    }

    /// Whether `file` is a Procfile: named `Procfile`, `Procfile.dev` and the like, or `*.procfile`,
    /// as foreman and honcho take them (`-f Procfile.dev` was read as YAML).
    static func isProcfile(_ file: String) -> Bool {
        let name = (file as NSString).lastPathComponent.lowercased()
        return name == "procfile" || name.hasPrefix("procfile.") || name.hasSuffix(".procfile")
    }

    /// The project of `file` (a `runit.yaml` or a `Procfile`), or every problem in it.
    public static func load(file given: String) throws(ProjectErrors) -> Project {
        let file = RunitContext.resolved(given)
        let text: String
        do {
            text = try readText(file)
        } catch {
            throw ProjectErrors(problems: [ProjectProblem(file: given, line: 0, column: 0, message: error.message)])
        }
        if isProcfile(file) { return try Procfile.project(file: file, text: text) }
        var parser = ProjectParser(file: file)
        guard let project = parser.parse(text) else { throw ProjectErrors(problems: parser.problems) }
        return project
    }

    /// The project for a command run in `directory`: the file given with `-f`, or the one found
    /// from `directory` upwards.
    public static func locate(file: String?, from directory: String) throws(RunitError) -> Project {
        let path: String
        if let file {
            path = RunitContext.absolute(file, from: directory)
        } else {
            guard let found = find(from: directory) else {
                throw RunitError(
                    .invalidInput,
                    "no runit.yaml or Procfile in \(directory) or above it; write one, or give its path with -f FILE")
            }
            path = found
        }
        do {
            return try load(file: path)
        } catch {
            throw error.runitError
        }
    }

    /// The text of a file a person wrote: links followed, a regular file of at most 1 MiB, never
    /// a FIFO to block on.
    static func readText(_ path: String) throws(RunitError) -> String {
        let real = RunitContext.resolved(path)
        switch Platform.readRegular(real, limit: sizeLimit) {
        // Bytes that are not UTF-8 (an argument, a variable) kept as they are (``ByteText``).
        // A UTF-8 byte order mark, which some editors put first, is no part of the text.
        case .success(let bytes): return ByteText.text(bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? bytes.dropFirst(3) : bytes[...])
        case .failure(.tooLarge(let size)):
            throw RunitError(.invalidInput, "\(path) is \(size) bytes; a project or env file may be at most 1 MiB")
        case .failure(let problem):
            throw RunitError(.invalidInput, problem == .link ? "\(path) is a broken link" : problem.describe(path))
        }
    }

    /// A project's name taken from its directory: the directory's name, with what a name cannot
    /// hold made `-`.
    public static func defaultName(for directory: String) -> String {
        let base = (directory as NSString).lastPathComponent
        var name = String(
            base.unicodeScalars.map { scalar -> Character in
                scalar.isASCII
                    && (scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) || "._-".unicodeScalars.contains(scalar))
                    ? Character(scalar) : "-"
            })
        while let first = name.first, !(first.isLetter || first.isNumber) { name.removeFirst() }
        if name.isEmpty { name = "project" }
        return String(name.prefix(64))
    }

    /// The edit distance between two short texts, for "did you mean".
    static func distance(_ a: String, _ b: String) -> Int {
        let a = Array(a)
        let b = Array(b)
        var row = Array(0...b.count)
        for i in 1...max(1, a.count) where !a.isEmpty {
            var previous = row[0]
            row[0] = i
            for j in stride(from: 1, through: b.count, by: 1) {
                let old = row[j]
                row[j] = min(row[j] + 1, row[j - 1] + 1, previous + (a[i - 1] == b[j - 1] ? 0 : 1))
                previous = old
            }
        }
        return a.isEmpty ? b.count : row[b.count]
    }
}
