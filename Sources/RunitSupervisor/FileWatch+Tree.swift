import CRunitSystem
import RunitKit

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The watched trees: roots, the walk that adds a watch per directory, and the paths matched
/// against the ignore rules.
extension FileWatch {
    /// How a path given to `--watch` is shown: without `./` before it or `/` after it; `.` is empty.
    static func display(_ given: String) -> String {
        var text = Substring(given)
        while text.hasPrefix("./") { text = text.dropFirst(2) }
        while text.count > 1 && text.hasSuffix("/") { text = text.dropLast() }
        return text == "." ? "" : String(text)
    }

    /// Puts the absolute path of `name` in the directory `relative` under a root into
    /// ``pathBuffer``, NUL-terminated, with a `/` after it when `slash` (no `name`: the directory
    /// itself). Returns where its path under the root and its last component begin and where it
    /// ends, or nil when it does not fit.
    func compose(
        root index: Int, relative: [UInt8], name: UnsafeRawBufferPointer?, slash: Bool = false
    ) -> (relative: Int, name: Int, end: Int)? {
        let buffer = UnsafeMutableRawBufferPointer(pathBuffer)
        var length = 0
        func put(_ bytes: UnsafeRawBufferPointer) -> Bool {
            guard length + bytes.count < buffer.count else { return false }
            if let start = bytes.baseAddress { (buffer.baseAddress! + length).copyMemory(from: start, byteCount: bytes.count) }
            length += bytes.count
            return true
        }
        func putSlash() -> Bool {
            guard length + 1 < buffer.count else { return false }
            buffer[length] = 0x2F
            length += 1
            return true
        }
        let directory = roots[index].directory
        // The root "/" adds no byte of its own before the "/" that follows it.
        if directory != [0x2F] {
            guard directory.withUnsafeBytes({ put($0) }) else { return nil }
        }
        if !relative.isEmpty || name != nil || length == 0 { guard putSlash() else { return nil } }
        let relativeStart = length
        guard relative.withUnsafeBytes({ put($0) }) else { return nil }
        var nameStart = relativeStart
        if let name {
            if !relative.isEmpty { guard putSlash() else { return nil } }
            nameStart = length
            guard put(name) else { return nil }
        }
        if slash { guard putSlash() else { return nil } }
        guard length < buffer.count else { return nil }
        buffer[length] = 0
        return (relativeStart, nameStart, length)
    }

    /// Whether `name` in the directory `relative` under a root is ignored: a glob matches it, or
    /// it lies in an excluded directory. A directory is matched with a `/` after it too.
    func isIgnored(root index: Int, under relative: [UInt8], name: UnsafeRawBufferPointer, directory: Bool) -> Bool {
        guard let plain = compose(root: index, relative: relative, name: name) else { return false }
        let path = UnsafePointer(pathBuffer.baseAddress!)
        if isExcluded(length: plain.end) { return true }
        if rules.ignores(absolute: path, relative: path + plain.relative, name: path + plain.name) { return true }
        guard directory, let slashed = compose(root: index, relative: relative, name: name, slash: true) else { return false }
        // The last component with its slash is not matched: `dist/**` means the root's dist only.
        return rules.ignores(absolute: path, relative: path + slashed.relative, name: path + slashed.relative)
    }

    /// Whether the path of `length` bytes in ``pathBuffer`` is an excluded directory or lies in one.
    func isExcluded(length: Int) -> Bool {
        let path = UnsafeRawBufferPointer(pathBuffer)
        for directory in excluded where length >= directory.count {
            let same = directory.withUnsafeBytes { memcmp($0.baseAddress!, path.baseAddress!, directory.count) == 0 }
            if same && (length == directory.count || path[directory.count] == 0x2F) { return true }
        }
        return false
    }
}

#if os(Linux)
    extension FileWatch {
        /// What a watch reports: names created, written, deleted or moved in the directory, and the
        /// directory itself deleted or moved.
        static let eventMask = UInt32(
            IN_CREATE | IN_DELETE | IN_MODIFY | IN_CLOSE_WRITE | IN_MOVED_FROM | IN_MOVED_TO | IN_DELETE_SELF
                | IN_MOVE_SELF | IN_EXCL_UNLINK | IN_ONLYDIR)

        /// What came of adding one watch.
        enum WatchResult {
            case added
            /// The directory could not be watched (gone already, or a problem was noted).
            case skipped
            /// A limit is reached: stop adding.
            case full
        }

        /// Watches a path given to `--watch`: a directory with all its subdirectories, or a file
        /// through its parent. A path that cannot be watched is a problem, named.
        mutating func addRoot(_ given: String, base: String) {
            let path = Self.absolute(given, base: base)
            var info = stat()
            guard let real = Self.resolved(path), stat(real, &info) == 0 else {
                let code = crunit_errno()
                addProblem(
                    code == ENOENT
                        ? "cannot watch '\(given)': \(path) does not exist"
                        : "cannot watch '\(given)': \(Platform.describe(errno: code))")
                return
            }
            let bytes = Array(real.utf8)
            if let state = excluded.first(where: { Self.isPath(bytes, within: $0) }) {
                let name = String(decoding: state, as: UTF8.self)
                addProblem("cannot watch '\(given)': it is in runit's state directory \(name), whose files change all the time")
                return
            }
            if info.st_mode & S_IFMT == S_IFDIR {
                roots.append(Root(directory: bytes, unresolved: path, file: nil, display: Self.display(given)))
                _ = addTree(root: roots.count - 1, relative: [], findFile: false)
                return
            }
            let slash = bytes.lastIndex(of: 0x2F) ?? 0
            let parent = slash == 0 ? [0x2F] : Array(bytes[..<slash])
            let file = bytes[(slash + 1)...].map { CChar(bitPattern: $0) } + [0]
            // The folder as given, to find it again if it goes (the file's own link is not followed there).
            let folder = path.lastIndex(of: "/").map { String(path[..<$0]) } ?? ""
            roots.append(
                Root(directory: parent, unresolved: folder.isEmpty ? "/" : folder, file: file, display: Self.display(given)))
            guard compose(root: roots.count - 1, relative: [], name: nil) != nil else { return }
            _ = addWatch(pathBuffer.baseAddress!, root: roots.count - 1, relative: [])
        }

        /// Watches the directory `start` under a root and every subdirectory not ignored. With
        /// `findFile`, returns the first file not ignored that it finds (made before its watch).
        mutating func addTree(root index: Int, relative start: [UInt8], findFile: Bool) -> String? {
            var found: String?
            var pending = [start]
            while let relative = pending.popLast() {
                guard compose(root: index, relative: relative, name: nil) != nil else { continue }
                // The watch first, then the listing: a file made in between is seen by one of them.
                switch addWatch(pathBuffer.baseAddress!, root: index, relative: relative) {
                case .full: return found
                case .skipped: continue
                case .added: break
                }
                guard let stream = opendir(pathBuffer.baseAddress!) else { continue }
                while let item = readdir(stream) {
                    // Read in place: an entry can be shorter than `struct dirent`, so copying its
                    // whole `d_name` could read past the end of the listing's buffer.
                    let start = UnsafeRawPointer(item) + MemoryLayout<dirent>.offset(of: \dirent.d_name)!
                    let text = start.assumingMemoryBound(to: CChar.self)
                    let name = Array(UnsafeRawBufferPointer(start: start, count: strlen(text)))
                    if name == [0x2E] || name == [0x2E, 0x2E] { continue }
                    var isDirectory = Int(item.pointee.d_type) == Int(DT_DIR)
                    if Int(item.pointee.d_type) == Int(DT_UNKNOWN) {
                        var info = stat()
                        let composed = name.withUnsafeBytes { compose(root: index, relative: relative, name: $0) }
                        isDirectory =
                            composed != nil && lstat(pathBuffer.baseAddress!, &info) == 0 && info.st_mode & S_IFMT == S_IFDIR
                    }
                    guard isDirectory || (findFile && found == nil) else { continue }
                    let ignored = name.withUnsafeBytes {
                        isIgnored(root: index, under: relative, name: $0, directory: isDirectory)
                    }
                    if ignored { continue }
                    if isDirectory {
                        // The walk's list stays within the cap too: a directory of a million
                        // subdirectories costs no more than the most watches.
                        guard pending.count < maxWatches else {
                            reportCap()
                            continue
                        }
                        pending.append(name.withUnsafeBytes { Self.joined(relative, $0) })
                    } else {
                        found = name.withUnsafeBytes { Self.describe(roots[index], relative, $0) }
                    }
                }
                closedir(stream)
            }
            return found
        }

        /// Adds an inotify watch on the directory at `path` for a root.
        mutating func addWatch(_ path: UnsafePointer<CChar>, root: Int, relative: [UInt8]) -> WatchResult {
            guard watches.count < maxWatches else {
                reportCap()
                return .full
            }
            // Links to directories under a root are not followed; the root itself was resolved.
            let mask = relative.isEmpty ? Self.eventMask : Self.eventMask | UInt32(IN_DONT_FOLLOW)
            let wd = inotify_add_watch(fd, path, mask)
            guard wd >= 0 else {
                let code = crunit_errno()
                if code == ENOSPC {
                    if !limitReported {
                        limitReported = true
                        let shown = roots[root].display.isEmpty ? "." : roots[root].display
                        addProblem(
                            "the system's limit on inotify watches is reached (fs.inotify.max_user_watches): "
                                + "some directories under '\(shown)' are not watched; raise the limit with sysctl")
                    }
                    return .full
                }
                // Gone before it could be watched: its parent reports what became of it.
                if code != ENOENT && code != ENOTDIR {
                    addProblem("cannot watch \(String(cString: path)): \(Platform.describe(errno: code))")
                }
                return .skipped
            }
            let entry = Watched(root: root, relative: relative)
            if let list = watches[wd] {
                if !list.contains(entry) { watches[wd] = list + [entry] }
            } else {
                watches[wd] = [entry]
            }
            return .added
        }

        /// Says once that the most watches are reached.
        mutating func reportCap() {
            guard !capReported else { return }
            capReported = true
            addProblem(
                "watching \(maxWatches) directories, the most runit watches: the others are not watched "
                    + "(--watch-ignore GLOB leaves out those that need no watching)")
        }

        /// Stops watching the directory `relative` under a root and every directory below it (all of
        /// the root's when `relative` is empty).
        mutating func dropTree(root index: Int, relative: [UInt8]) {
            for (wd, list) in watches {
                let kept = list.filter { entry in
                    entry.root != index || !(relative.isEmpty || Self.isPath(entry.relative, within: relative))
                }
                guard kept.count != list.count else { continue }
                if kept.isEmpty {
                    watches[wd] = nil
                    _ = inotify_rm_watch(fd, wd)
                } else {
                    watches[wd] = kept
                }
            }
        }

        /// Whether `path` is `directory` or lies under it (both relative to the same root).
        static func isPath(_ path: [UInt8], within directory: [UInt8]) -> Bool {
            path.starts(with: directory) && (path.count == directory.count || path[directory.count] == 0x2F)
        }
    }
#endif
