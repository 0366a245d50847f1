import ArgumentParser
import Foundation
import RunitCore
import RunitKit

/// Where output goes, and whether it may have colors.
struct Terminal {
    /// Standard error, for messages.
    static let standardError = FileHandle.standardError

    /// Whether stdout is a terminal and `NO_COLOR` is unset or empty (no-color.org: only a
    /// non-empty value turns colours off).
    static let colorsEnabled: Bool = isatty(1) == 1 && (ProcessInfo.processInfo.environment["NO_COLOR"] ?? "").isEmpty

    /// The terminal's width, or nil when stdout is not a terminal.
    static var width: Int? {
        guard isatty(1) == 1 else { return nil }
        var size = winsize()
        guard ioctl(1, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 else { return nil }
        return Int(size.ws_col)
    }

    /// `text` in the ANSI color `code`, when colors are enabled.
    static func paint(_ text: String, _ code: String) -> String {
        colorsEnabled ? "\u{1B}[\(code)m\(text)\u{1B}[0m" : text
    }

    /// The color of a state.
    static func stateColor(_ state: String) -> String {
        DisplayState(rawValue: state)?.colorCode ?? "90"
    }

    /// Writes `text` to stdout without buffering surprises.
    static func write(_ text: String) {
        FileHandle.standardOutput.write(Data(text.utf8))
    }

    /// Writes bytes to stdout.
    static func write(bytes: [UInt8]) {
        FileHandle.standardOutput.write(Data(bytes))
    }

    /// Prints an encodable value as JSON, keys sorted.
    static func printJSON<T: Encodable>(_ value: T, pretty: Bool = true) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting =
            pretty ? [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes] : [.sortedKeys, .withoutEscapingSlashes]
        var text = String(decoding: try encoder.encode(value), as: UTF8.self)
        // An empty list or object is `[]` or `{}`, as people and `jq` expect, not split over lines.
        if text.allSatisfy({ "[]{} \n".contains($0) }) { text = text.filter { !$0.isWhitespace } }
        write(text + "\n")
    }
}

extension FileHandle {
    /// Writes a string.
    func write(_ text: String) {
        write(Data(text.utf8))
    }
}

extension CompletionKind {
    /// The names of the processes there are, for shell completion of a name argument.
    static var processNames: CompletionKind {
        .custom { _, _, prefix in
            ((try? Registry(context: .fromEnvironment()).names()) ?? []).filter { $0.hasPrefix(prefix) }
        }
    }

    /// The names of the projects there are, for `--project`.
    static var projectNames: CompletionKind {
        .custom { _, _, prefix in
            let names = (try? Registry(context: .fromEnvironment()).names()) ?? []
            return Array(Set(names.compactMap { ProcessName($0)?.project })).sorted().filter { $0.hasPrefix(prefix) }
        }
    }
}
