import CRunitSystem
import RunitKit

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Watches the paths given to `--watch` for changes (Linux, inotify), for a restart on change.
///
/// A directory is watched recursively, one inotify watch per directory: subdirectories created
/// later are added, removed ones dropped. A file is watched through its parent directory, with
/// the events filtered to its name, so an editor's save that writes a new file and renames it
/// over the old one is seen. A change is a file created, written (modified or closed after
/// writing), deleted or moved; a directory counts by its files (a new empty directory is no
/// change, one moved away is). Paths matched by ``WatchIgnoreRules`` (the `--watch-ignore` globs
/// and the defaults: `.git`, `node_modules`, `.build`, `__pycache__`, `.DS_Store` and editors' swap files) and the
/// directories in `excluding` (runit's own state) are neither watched nor counted.
///
/// Changes are debounced: ``deadline`` is set to the debounce after the last relevant event, and
/// ``takeChange(now:)`` returns the first changed path once it has passed. Memory is bounded:
/// at most `maxWatches` directories (one message in ``problems`` when some are left out), the
/// first changed path only, and a full kernel queue counts as one change. Reading events
/// allocates nothing unless a directory is added or a change starts a new debounce.
struct FileWatch: ~Copyable {
    /// How long after the last relevant event a change is reported, unless init says otherwise.
    static let defaultDebounceMillis: Int64 = 300
    /// The longest a change waits while more keep coming (a build that writes for minutes).
    static let maxDelayMillis: Int64 = 2_000
    /// The most directories watched, unless init says otherwise.
    static let defaultMaxWatches = 10_000
    /// The most problems kept; more are counted in one last line.
    static let maxProblems = 20
    /// What ``takeChange(now:)`` returns after the kernel's event queue overflowed.
    static let overflowChange = "(more changes than inotify could queue)"
    /// The most reads of the inotify descriptor in one ``handleEvents(now:)``; poll wakes again for more.
    static let readsPerCall = 64

    /// A path given to `--watch`.
    struct Root {
        /// The resolved absolute directory watched: the path itself, or a file's parent.
        var directory: [UInt8]
        /// The absolute path as given (links not resolved): the directory, or a file's parent,
        /// resolved again when it comes back (it may come back as a link to somewhere else).
        let unresolved: String
        /// For a file, its name in `directory`, NUL-terminated; nil for a directory (recursive).
        let file: [CChar]?
        /// How the user wrote it, to name changed paths by; empty for `.`.
        let display: String
        /// Set while its directory is gone (deleted, moved away): it is looked for again.
        var lost = false

        /// As a change names it: as the user wrote it, `.` for the working directory.
        var shown: String { display.isEmpty ? "." : display }
        /// What a log line about its directory names.
        var named: String { file == nil ? "'\(shown)'" : "the directory of '\(shown)'" }
    }

    /// One directory watched for a root: its path under the root, empty for the root's directory.
    struct Watched: Equatable {
        let root: Int
        let relative: [UInt8]
    }

    /// The inotify descriptor, to poll for POLLIN; -1 when nothing is watched.
    private(set) var fd: Int32 = -1
    /// When the pending change is due (monotonic milliseconds); nil when nothing changed.
    private(set) var deadline: Int64?
    /// When a root whose directory is gone is looked for next; nil when none is.
    var lookAgainAt: Int64?
    /// How often a lost root is looked for: a tree deleted and made again (a build's output, a
    /// checkout) is watched again within this.
    static let lookAgainMillis: Int64 = 1_000
    /// What could not be watched, each a sentence for the log. Set by init; later entries are added
    /// when a watched path is deleted or a limit is reached.
    private(set) var problems: [String] = []
    let debounceMillis: Int64
    let maxWatches: Int
    let rules: WatchIgnoreRules
    /// Resolved absolute directories never watched (runit's state).
    let excluded: [[UInt8]]
    var roots: [Root] = []
    /// What each inotify watch stands for; more than one entry when roots overlap.
    var watches: [Int32: [Watched]] = [:]
    /// The first path changed since the last ``takeChange(now:)``, as the user would name it.
    var changed: String?
    /// Paths whose changes no longer count: the process itself writes them at each start.
    var quieted: Set<String> = []
    /// When ``changed`` was seen: the change is due ``maxDelayMillis`` after it at the latest.
    var changedAt: Int64 = 0
    /// The roots the pending change came from; nil once it came from none in particular (a full
    /// queue). A change only under roots that are gone by its time waits until they are back.
    var changedRoots: [Int]? = []
    var capReported = false
    var limitReported = false
    var problemsDropped = 0
    /// The buffer events are read into, allocated once.
    let events: UnsafeMutableRawBufferPointer
    /// Where a path is put together to match it against the globs, allocated once.
    let pathBuffer: UnsafeMutableBufferPointer<CChar>

    /// Watches `paths` (relative ones taken from `base`, the process's working directory), ignoring
    /// what `ignore` (globs) or the defaults match and whatever lies in `excluding`.
    init(
        paths: [String], ignore: [String], base: String, excluding: [String] = [],
        debounceMillis: Int64 = Self.defaultDebounceMillis, maxWatches: Int = Self.defaultMaxWatches
    ) {
        self.debounceMillis = debounceMillis
        self.maxWatches = maxWatches
        let anchor = Self.resolved(base) ?? base
        rules = WatchIgnoreRules(ignore, base: anchor)
        excluded = excluding.map { path in
            let absolute = Self.absolute(path, base: anchor)
            return Array((Self.resolved(absolute) ?? absolute).utf8)
        }
        events = .allocate(byteCount: 16 * 1024, alignment: 16)
        pathBuffer = .allocate(capacity: 2 * Int(PATH_MAX) + 512)
        #if os(Linux)
            fd = inotify_init1(Int32(IN_CLOEXEC | IN_NONBLOCK))
            guard fd >= 0 else {
                let code = crunit_errno()
                addProblem(
                    code == EMFILE
                        ? "cannot watch files: the limit on inotify instances is reached (fs.inotify.max_user_instances)"
                        : "cannot watch files: inotify: \(Platform.describe(errno: code))")
                return
            }
            for path in paths { addRoot(path, base: anchor) }
            if watches.isEmpty {
                close(fd)
                fd = -1
            }
        #else
            if !paths.isEmpty { addProblem("watching files for changes needs Linux (inotify): nothing is watched") }
        #endif
    }

    /// Removes every watch and gives up the inotify descriptor, not closed (its close would
    /// wait for the watches to be freed): the caller holds it until the exit. Nil when nothing
    /// was watched.
    mutating func retire() -> Int32? {
        guard fd >= 0 else { return nil }
        #if os(Linux)
            for wd in watches.keys { _ = inotify_rm_watch(fd, wd) }
        #endif
        watches = [:]
        defer { fd = -1 }
        return fd
    }

    deinit {
        if fd >= 0 { close(fd) }
        events.deallocate()
        pathBuffer.deallocate()
    }

    /// Returns the first changed path once the debounce has passed since the last change, and
    /// starts over; nil before then or when nothing changed.
    ///
    /// Changes only under roots whose directories are gone by then (a clean build deleting its
    /// output, a checkout) are dropped: a restart now would run without them. A root's return
    /// is a change of its own (``lookAgain(now:)``), so the process restarts once, when it is back.
    mutating func takeChange(now: Int64) -> String? {
        guard let due = deadline, now >= due else { return nil }
        deadline = nil
        let path = changed
        let from = changedRoots
        changed = nil
        changedRoots = []
        if let from, !from.isEmpty, from.allSatisfy({ roots[$0].lost }) { return nil }
        return path
    }

    /// Reads the pending events: new directories are watched, removed ones dropped, and a change
    /// to a path not ignored sets ``deadline`` to `now` plus the debounce.
    mutating func handleEvents(now: Int64) {
        #if os(Linux)
            guard fd >= 0 else { return }
            var overflowed = false
            for _ in 0..<Self.readsPerCall {
                let count = read(fd, events.baseAddress, events.count)
                guard count > 0 else { break }
                var offset = 0
                // struct inotify_event: wd, mask, cookie, len, then len bytes of name, NUL-padded.
                while offset + 16 <= count {
                    let wd = events.load(fromByteOffset: offset, as: Int32.self)
                    let mask = events.load(fromByteOffset: offset + 4, as: UInt32.self)
                    let length = Int(events.load(fromByteOffset: offset + 12, as: UInt32.self))
                    let start = events.baseAddress! + offset + 16
                    let name = UnsafeRawBufferPointer(
                        start: start, count: length == 0 ? 0 : strnlen(start.assumingMemoryBound(to: CChar.self), length))
                    if mask & UInt32(IN_Q_OVERFLOW) != 0 {
                        overflowed = true
                    } else {
                        handle(wd: wd, mask: mask, name: name, now: now)
                    }
                    offset += 16 + length
                }
            }
            if overflowed {
                // Events were lost, new directories among them perhaps: count it as a change and
                // look for directories that are not watched yet.
                note(now: now, root: nil) { Self.overflowChange }
                for index in roots.indices where roots[index].file == nil {
                    _ = addTree(root: index, relative: [], findFile: false)
                }
            }
        #endif
    }

    #if os(Linux)
        /// Handles one event on watch `wd`, for each root the watch stands for.
        mutating func handle(wd: Int32, mask: UInt32, name: UnsafeRawBufferPointer, now: Int64) {
            guard let entries = watches[wd] else { return }
            if mask & UInt32(IN_IGNORED) != 0 {
                // The kernel dropped the watch: its directory was deleted (or unmounted).
                watches[wd] = nil
                for entry in entries where entry.relative.isEmpty { lose(entry.root, how: "deleted", now: now) }
                return
            }
            for entry in entries {
                if mask & UInt32(IN_MOVE_SELF) != 0 {
                    // A subdirectory's move is handled in its parent; a root's ends its watch.
                    if entry.relative.isEmpty { lose(entry.root, how: "moved away", now: now) }
                    continue
                }
                guard !name.isEmpty, mask & UInt32(IN_DELETE_SELF) == 0 else { continue }
                let root = roots[entry.root]
                if let file = root.file {
                    // A file named in --watch: only its own events, whatever the globs say.
                    let isFile = file.withUnsafeBufferPointer { file in
                        name.count == file.count - 1 && memcmp(name.baseAddress!, file.baseAddress!, name.count) == 0
                    }
                    if isFile && mask & UInt32(IN_ISDIR) == 0 { note(now: now, root: entry.root) { root.display } }
                    continue
                }
                let isDirectory = mask & UInt32(IN_ISDIR) != 0
                guard !isIgnored(root: entry.root, under: entry.relative, name: name, directory: isDirectory) else { continue }
                guard isDirectory else {
                    note(now: now, root: entry.root) { Self.describe(root, entry.relative, name) }
                    continue
                }
                let child = Self.joined(entry.relative, name)
                if mask & UInt32(IN_CREATE | IN_MOVED_TO) != 0 {
                    // Files may have been made in it before its watch: the walk finds them.
                    if let found = addTree(root: entry.root, relative: child, findFile: true) {
                        note(now: now, root: entry.root) { found }
                    }
                } else if mask & UInt32(IN_MOVED_FROM) != 0 {
                    dropTree(root: entry.root, relative: child)
                    note(now: now, root: entry.root) { Self.describe(root, entry.relative, name) }
                }
                // A deleted directory: the deletion of each of its files was reported in it already.
            }
        }

        /// A root's directory is gone: a change, and a problem, since nothing there is watched now.
        mutating func lose(_ index: Int, how: String, now: Int64) {
            let root = roots[index]
            note(now: now, root: index) { root.shown }
            addProblem("\(root.named) was \(how): it is watched again, and the process restarted, once it is back")
            dropTree(root: index, relative: [])
            roots[index].lost = true
            if lookAgainAt == nil { lookAgainAt = now + Self.lookAgainMillis }
        }

        /// Watches again each lost root whose directory is back, once ``lookAgainAt`` has passed:
        /// a change (what it holds may be new) and a line for the log.
        mutating func lookAgain(now: Int64) {
            guard let due = lookAgainAt, now >= due else { return }
            lookAgainAt = nil
            for index in roots.indices where roots[index].lost {
                var info = stat()
                // Resolved again, and kept out of runit's state as at the start: a root that
                // comes back as a link to a folder holding it would restart on its own writes.
                guard let real = Self.resolved(roots[index].unresolved), stat(real, &info) == 0,
                    info.st_mode & S_IFMT == S_IFDIR, !excluded.contains(where: { Self.isPath(Array(real.utf8), within: $0) })
                else {
                    lookAgainAt = now + Self.lookAgainMillis
                    continue
                }
                roots[index].directory = Array(real.utf8)
                let root = roots[index]
                guard compose(root: index, relative: [], name: nil) != nil else { continue }
                if root.file == nil {
                    _ = addTree(root: index, relative: [], findFile: false)
                } else {
                    _ = addWatch(pathBuffer.baseAddress!, root: index, relative: [])
                }
                guard watches.values.contains(where: { $0.contains { $0.root == index && $0.relative.isEmpty } }) else {
                    lookAgainAt = now + Self.lookAgainMillis
                    continue
                }
                roots[index].lost = false
                addProblem("\(root.named) is back: it is watched again")
                // A change of its own, debounced from now: a build may still be writing it.
                if changedRoots?.contains(index) == true { (changed, changedRoots) = (nil, []) }
                note(now: now, root: index) { root.shown }
            }
        }
    #endif

    /// Notes a relevant event under `root` (nil: under none in particular): the debounce starts
    /// again, but ends ``maxDelayMillis`` after the first change at the latest; the path is kept
    /// if it is the first.
    mutating func note(now: Int64, root: Int?, _ path: () -> String) {
        if changed == nil {
            let text = path()
            guard !quieted.contains(text) else { return }
            changed = text
            changedAt = now
        }
        if let root {
            if changedRoots?.contains(root) == false { changedRoots?.append(root) }
        } else {
            changedRoots = nil
        }
        deadline = min(now + debounceMillis, changedAt + max(debounceMillis, Self.maxDelayMillis))
    }

    /// Adds a sentence to ``problems``: at most ``maxProblems``, then one line that counts the rest.
    mutating func addProblem(_ text: String) {
        guard problems.count >= Self.maxProblems else {
            problems.append(text)
            return
        }
        problemsDropped += 1
        let summary = "and \(problemsDropped) more problems with watched paths"
        if problemsDropped == 1 { problems.append(summary) } else { problems[Self.maxProblems] = summary }
    }

    /// `path` made absolute against `base`.
    static func absolute(_ path: String, base: String) -> String {
        path.hasPrefix("/") ? path : base == "/" ? "/" + path : base + "/" + path
    }

    /// `path` with links, `.` and `..` resolved; nil if it cannot be (errno says why).
    static func resolved(_ path: String) -> String? {
        guard let real = realpath(path, nil) else { return nil }
        defer { free(real) }
        return String(cString: real)
    }

    /// How a path under a root is shown: the root as the user wrote it, then the path under it.
    static func describe(_ root: Root, _ relative: [UInt8], _ name: UnsafeRawBufferPointer) -> String {
        let under = String(decoding: joined(relative, name), as: UTF8.self)
        return root.display.isEmpty ? under : root.display + "/" + under
    }

    /// `relative` and `name` joined with a `/` (just `name` when `relative` is empty).
    static func joined(_ relative: [UInt8], _ name: UnsafeRawBufferPointer) -> [UInt8] {
        relative.isEmpty ? Array(name) : relative + [0x2F] + Array(name)
    }
}
