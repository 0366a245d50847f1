import ArgumentParser
import Foundation
import RunitCore
import RunitKit

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
