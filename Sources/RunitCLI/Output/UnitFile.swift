import RunitCore
import RunitKit

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A file that `export` or `startup` writes for a service manager, written whole or not at all.
enum UnitFile {
    /// Writes `text` to `path` (mode 0644, by a rename), making its folder first. A folder or
    /// another non-file in its place, or a folder that cannot be made, is an error that names
    /// the path and what is wrong.
    static func write(_ text: String, to path: String) throws(RunitError) {
        let folder = path.lastIndex(of: "/").map { String(path[..<$0]) } ?? "."
        // Folders as any tool makes them (0777 less the umask): a unit folder is no private state.
        guard folder.isEmpty || Platform.makeDirectories(folder, mode: 0o777) else {
            throw RunitError(
                .storage,
                "cannot create the folder \(folder) for \(path): \(Platform.describe(errno: Platform.lastError))")
        }
        try check(path)
        let failure = Platform.writeAtomically(path, Array(text.utf8), mode: 0o644)
        guard failure == 0 else {
            throw RunitError(.storage, "cannot write \(path): \(Platform.describe(errno: failure))")
        }
    }

    /// Refuses a folder or another non-file where the file goes (a link is replaced, as a file is).
    static func check(_ path: String) throws(RunitError) {
        var info = stat()
        guard lstat(path, &info) == 0, info.st_mode & S_IFMT != S_IFREG, info.st_mode & S_IFMT != S_IFLNK else { return }
        throw RunitError(
            .invalidInput,
            "cannot write \(path): \(Platform.kind(of: info.st_mode)) is there, where the file goes; remove it or "
                + "write elsewhere")
    }
}
