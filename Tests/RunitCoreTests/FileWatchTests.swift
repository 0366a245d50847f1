import Foundation
import Testing

@testable import RunitKit
@testable import RunitSupervisor

/// A temporary directory of real files to watch, removed at the end of the test.
struct WatchedTree: ~Copyable {
    let path: String

    init() {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("runit-watch-\(UUID().uuidString.prefix(8))").path
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    /// Writes `text` to the file at `relative` (its directories made first), as an editor's plain
    /// save does: open, write, close.
    func save(_ relative: String, _ text: String = "changed\n") {
        let file = path + "/" + relative
        try? FileManager.default.createDirectory(
            atPath: (file as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        let fd = open(file, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        _ = text.withCString { write(fd, $0, strlen($0)) }
        close(fd)
    }

    func makeDirectory(_ relative: String) {
        try? FileManager.default.createDirectory(atPath: path + "/" + relative, withIntermediateDirectories: true)
    }

    func remove(_ relative: String) { try? FileManager.default.removeItem(atPath: path + "/" + relative) }

    func move(_ from: String, _ to: String) { _ = rename(path + "/" + from, path + "/" + to) }
}

/// Reads the events pending at `now` (a write's event is queued before the write returns) and
/// returns the change once its debounce has long passed: no wall clock involved.
private func change(_ watch: inout FileWatch, at now: Int64) -> String? {
    watch.handleEvents(now: now)
    return watch.takeChange(now: now + 60_000)
}

#if os(Linux)
    private let hasInotify = true
#else
    private let hasInotify = false
#endif

@Suite("Restart on change: the file watch", .enabled(if: hasInotify, "the watch uses inotify, Linux's"))
struct FileWatchTests {
    @Test("a burst of writes to a watched file is one change, reported once the debounce has passed")
    func burstIsOneChange() {
        let tree = WatchedTree()
        tree.save("src/app.js", "one\n")
        var watch = FileWatch(paths: ["src"], ignore: [], base: tree.path)
        #expect(watch.problems.isEmpty)
        #expect(watch.fd >= 0)
        for step in 0..<5 {
            tree.save("src/app.js", "write \(step)\n")
            let now = 1_000 + Int64(step) * 100
            watch.handleEvents(now: now)
            #expect(watch.deadline == now + FileWatch.defaultDebounceMillis)
            #expect(watch.takeChange(now: now + 99) == nil, "a change before the debounce has passed")
        }
        #expect(watch.takeChange(now: 1_699) == nil)
        #expect(watch.takeChange(now: 1_700) == "src/app.js")
        #expect(watch.deadline == nil)
        #expect(change(&watch, at: 2_000) == nil, "the burst was reported twice")
    }

    @Test("the descriptor wakes poll and the change comes after the debounce, on the real clock")
    func pollAndClock() {
        let tree = WatchedTree()
        var watch = FileWatch(paths: ["."], ignore: [], base: tree.path, debounceMillis: 50)
        tree.save("main.py")
        var change: String?
        let giveUp = Platform.monotonicMillis() + 10_000
        while change == nil && Platform.monotonicMillis() < giveUp {
            var entry = pollfd(fd: watch.fd, events: Int16(POLLIN), revents: 0)
            let wait = watch.deadline.map { max(0, $0 - Platform.monotonicMillis()) } ?? 1_000
            if poll(&entry, 1, Int32(wait)) > 0 { watch.handleEvents(now: Platform.monotonicMillis()) }
            change = watch.takeChange(now: Platform.monotonicMillis())
        }
        #expect(change == "main.py")
    }

    @Test("changes in ignored paths, by a glob or by default, are no change")
    func ignoredPaths() {
        let tree = WatchedTree()
        for file in ["node_modules/pkg/index.js", ".git/HEAD", "dist/app.js", "src/main.js", "src/generated/api.js"] {
            tree.save(file)
        }
        var watch = FileWatch(
            paths: ["."], ignore: ["*.log", "dist/**", "src/generated", "**/*.tmp"], base: tree.path)
        #expect(watch.problems.isEmpty)
        tree.save("node_modules/pkg/index.js")
        tree.save("src/lib/node_modules/x.js")
        tree.save(".git/HEAD")
        tree.save("server.log")
        tree.save("src/deep/debug.log")
        tree.save("dist/app.js")
        tree.save("src/generated/api.js")
        tree.save("scratch.tmp")
        tree.save("src/.DS_Store")
        #expect(change(&watch, at: 1_000) == nil)
        // Something not ignored, after all of them: the first change named must be it.
        tree.save("node_modules/pkg/index.js")
        tree.save("src/main.js")
        #expect(change(&watch, at: 2_000) == "src/main.js")
    }

    @Test("a file in a subdirectory made after the watch started is seen")
    func newSubdirectory() {
        let tree = WatchedTree()
        var watch = FileWatch(paths: ["."], ignore: [], base: tree.path)
        tree.makeDirectory("empty")
        #expect(change(&watch, at: 1_000) == nil, "a new empty directory is no change")
        tree.save("empty/first.txt")
        #expect(change(&watch, at: 2_000) == "empty/first.txt")
        // Made and filled before the watch reads the event: the walk of the new directory finds it.
        tree.save("fresh/deep/early.txt")
        #expect(change(&watch, at: 3_000) == "fresh/deep/early.txt")
        tree.save("fresh/deep/later.txt")
        #expect(change(&watch, at: 4_000) == "fresh/deep/later.txt")
    }

    @Test("deleting or moving a directory does not break the watch")
    func deletedDirectory() {
        let tree = WatchedTree()
        tree.save("sub/inner/a.txt")
        tree.save("old/b.txt")
        var watch = FileWatch(paths: ["."], ignore: [], base: tree.path)
        tree.remove("sub")
        #expect(change(&watch, at: 1_000)?.hasPrefix("sub/") == true)
        tree.save("top.txt")
        #expect(change(&watch, at: 2_000) == "top.txt")
        tree.save("sub/again.txt")
        #expect(change(&watch, at: 3_000) == "sub/again.txt")
        tree.move("old", "new")
        #expect(change(&watch, at: 4_000) == "old")
        tree.save("new/b.txt")
        #expect(change(&watch, at: 5_000) == "new/b.txt", "a moved directory is named by its new path")
        #expect(watch.problems.isEmpty)
    }

    @Test("a watched directory deleted is a change, and a problem that names it")
    func deletedRoot() {
        let tree = WatchedTree()
        tree.save("sub/a.txt")
        tree.save("keep/b.txt")
        var watch = FileWatch(paths: ["sub", "keep"], ignore: [], base: tree.path)
        tree.remove("sub")
        // A restart now would run without it: its changes wait until it is back.
        #expect(change(&watch, at: 1_000) == nil, "a deleted root restarted the process before it was back")
        #expect(watch.problems == ["'sub' was deleted: it is watched again, and the process restarted, once it is back"])
        tree.save("keep/b.txt")
        #expect(change(&watch, at: 2_000) == "keep/b.txt", "the other root's changes still count")
        // Made again (a build's output, a checkout): watched again, the return itself a change.
        tree.save("sub/c.txt")
        #expect(watch.lookAgainAt == 2_000, "looked for a second after it was lost")
        watch.lookAgain(now: 1_500)
        #expect(watch.problems.count == 1, "not looked for before its time")
        watch.lookAgain(now: 2_000)
        #expect(watch.problems.last == "'sub' is back: it is watched again")
        #expect(watch.lookAgainAt == nil)
        #expect(change(&watch, at: 2_100) == "sub")
        tree.save("sub/deeper/d.txt")
        #expect(change(&watch, at: 3_000) == "sub/deeper/d.txt", "its tree is watched again, new directories too")
    }

    @Test("a watched folder that comes back as a link is resolved again, and runit's state under it stays out")
    func rootBackAsLink() {
        let tree = WatchedTree()
        tree.save("src/a.txt")
        tree.save("state/status.json")
        var watch = FileWatch(paths: ["src"], ignore: [], base: tree.path, excluding: [tree.path + "/state"])
        tree.remove("src")
        _ = change(&watch, at: 1_000)
        #expect(symlink(tree.path, tree.path + "/src") == 0)
        watch.lookAgain(now: 2_000)
        #expect(watch.problems.last == "'src' is back: it is watched again")
        _ = change(&watch, at: 2_100)
        tree.save("state/status.json")
        #expect(change(&watch, at: 3_000) == nil, "a write in runit's state, through the link, was taken for a change")
        tree.save("other.txt")
        #expect(change(&watch, at: 4_000) == "src/other.txt")
    }

    @Test("a watched file whose directory is deleted is looked for until the directory is back")
    func deletedFileDirectory() {
        let tree = WatchedTree()
        tree.save("conf/app.toml")
        var watch = FileWatch(paths: ["conf/app.toml"], ignore: [], base: tree.path)
        tree.remove("conf")
        #expect(change(&watch, at: 1_000) == nil, "restarted before the directory was back")
        watch.lookAgain(now: 2_000)
        #expect(watch.lookAgainAt == 3_000, "still gone: looked for again a second later")
        tree.save("conf/app.toml")
        watch.lookAgain(now: 3_000)
        #expect(watch.problems.last == "the directory of 'conf/app.toml' is back: it is watched again")
        #expect(change(&watch, at: 3_100) == "conf/app.toml", "its return is one change")
        tree.save("conf/app.toml")
        #expect(change(&watch, at: 4_000) == "conf/app.toml")
    }

    @Test("a missing path is reported by name; the others are still watched")
    func missingPath() {
        let tree = WatchedTree()
        var watch = FileWatch(paths: ["missing", "src"], ignore: [], base: tree.path)
        #expect(watch.problems.count == 2)
        #expect(watch.problems.allSatisfy { $0.contains("does not exist") })
        #expect(watch.problems[0].contains("'missing'") && watch.problems[0].contains("/missing does not exist"))
        #expect(watch.fd == -1, "nothing to watch, nothing to poll")
        tree.save("src/a.txt")
        var second = FileWatch(paths: ["nope", "src"], ignore: [], base: tree.path)
        #expect(second.problems.count == 1)
        tree.save("src/a.txt")
        #expect(change(&second, at: 1_000) == "src/a.txt")
        #expect(change(&watch, at: 1_000) == nil)
    }

    @Test("a watched file is seen through its directory, also when an editor saves by renaming")
    func singleFile() {
        let tree = WatchedTree()
        tree.save("config.json", "{}")
        var watch = FileWatch(paths: ["./config.json"], ignore: ["*.json"], base: tree.path)
        tree.save("other.json")
        tree.save(".config.json.swp")
        #expect(change(&watch, at: 1_000) == nil)
        tree.save("config.json.new", "{\"a\": 1}")
        tree.move("config.json.new", "config.json")
        #expect(change(&watch, at: 2_000) == "config.json")
    }

    @Test("runit's own state directory is never watched")
    func stateDirectory() {
        let tree = WatchedTree()
        tree.save("state/procs/web/logs/current.log")
        var watch = FileWatch(paths: ["."], ignore: [], base: tree.path, excluding: [tree.path + "/state"])
        tree.save("state/procs/web/logs/current.log")
        tree.save("state/procs/web/status.json")
        #expect(change(&watch, at: 1_000) == nil)
        let inside = FileWatch(paths: ["state/procs"], ignore: [], base: tree.path, excluding: ["state"])
        #expect(inside.problems.count == 1)
        #expect(inside.problems.first?.contains("state directory") == true)
    }

    @Test("an overflow of the kernel's queue is a change, and directories made meanwhile are found")
    func queueOverflow() {
        let tree = WatchedTree()
        let limit =
            (try? String(contentsOfFile: "/proc/sys/fs/inotify/max_queued_events", encoding: .utf8))
            .flatMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) } ?? 16_384
        var watch = FileWatch(paths: ["."], ignore: [], base: tree.path)
        // Three events a file (created, written, closed): half the limit in files overflows the
        // queue, and the event of the new directory is lost with the rest.
        for index in 0..<(min(limit, 100_000) / 2 + 100) { tree.save("f\(index)") }
        tree.makeDirectory("late/inner")
        #expect(change(&watch, at: 1_000) != nil)
        tree.save("late/inner/file.txt")
        #expect(change(&watch, at: 2_000) == "late/inner/file.txt")
    }

    @Test("past the most watches, a message says some directories are not watched")
    func watchCap() {
        let tree = WatchedTree()
        for name in ["a", "b", "c", "d"] { tree.makeDirectory(name) }
        var watch = FileWatch(paths: ["."], ignore: [], base: tree.path, maxWatches: 3)
        #expect(watch.problems.count == 1)
        #expect(watch.problems.first?.contains("3 directories") == true)
        tree.makeDirectory("e")
        tree.save("top.txt")
        #expect(change(&watch, at: 1_000) == "top.txt")
        #expect(watch.problems.count == 1, "the message is said once")
    }
}

@Suite("Restart on change: ignore globs")
struct WatchIgnoreRulesTests {
    @Test("globs match the name, the path under the root, and the path under the base")
    func ignoreRules() {
        let rules = WatchIgnoreRules(["*.log", "dist/**", "src/gen", "**/*.tmp", "./build/", "/abs/skip"], base: "/p")
        let cases: [(absolute: String, relative: String, name: String, ignored: Bool)] = [
            ("/p/a/b/node_modules", "a/b/node_modules", "node_modules", true),
            ("/p/.git", ".git", ".git", true),
            ("/p/x/server.log", "x/server.log", "server.log", true),
            ("/p/dist/", "dist/", "dist", true),
            ("/p/dist/a/b.js", "dist/a/b.js", "b.js", true),
            ("/p/src/gen", "gen", "gen", true),
            ("/p/a.tmp", "a.tmp", "a.tmp", true),
            ("/p/build", "build", "build", true),
            ("/abs/skip", "skip", "skip", true),
            ("/p/src/main.js", "src/main.js", "main.js", false),
            ("/p/logs", "logs", "logs", false),
            ("/p/lib/dist", "lib/dist", "dist", false),
            ("/p/lib/gen", "gen", "gen", false),
        ]
        for item in cases {
            let ignored = rules.ignores(absolute: item.absolute, relative: item.relative, name: item.name)
            #expect(ignored == item.ignored, "\(item.absolute)")
        }
    }
}
