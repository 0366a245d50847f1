#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The `--watch-ignore` globs and the default ones, kept as C strings so that matching a path
/// allocates nothing.
///
/// A glob is matched with `fnmatch` (no flags: `*` also matches `/`) against three forms of a
/// path: its last component (so `node_modules` or `*.log` is ignored at any depth), its path
/// relative to the watched root, and its absolute path. A glob that holds a `/` is also taken
/// relative to the base directory (the process's cwd), so `--watch src --watch-ignore
/// src/generated` means what it says; one that starts with `/` is matched against the absolute
/// path only. A directory is also matched with a `/` after it, so `dist/**` leaves `dist` itself
/// unwatched. `./x` is read as `x`, `x/` as `x`, and `**/x` also as `x`.
struct WatchIgnoreRules {
    /// Ignored unless the user says otherwise: what changes all the time and never needs a restart,
    /// and the swap, backup and lock files editors write beside a file being edited (Vim's
    /// `.x.swp` and its `4913` probe, Emacs's `#x#` and `.#x`, `x~`).
    static let defaults = [
        ".git", "node_modules", ".build", "__pycache__", ".DS_Store", "*.swp", "*.swo", "*.swx", "4913", "*~", "#*#",
        ".#*",
    ]

    /// Globs matched against the last component and the path relative to the root.
    private(set) var relative: [[CChar]] = []
    /// Globs matched against the absolute path.
    private(set) var absolute: [[CChar]] = []

    /// Rules for `globs` and the defaults, with relative globs that hold a `/` anchored at `base`
    /// (an absolute directory).
    init(_ globs: [String], base: String) {
        let anchor = Self.escaped(base.hasSuffix("/") ? String(base.dropLast()) : base)
        for glob in Self.defaults + globs {
            for form in Self.forms(of: glob) {
                if form.hasPrefix("/") {
                    absolute.append(Array(form.utf8CString))
                } else {
                    relative.append(Array(form.utf8CString))
                    if form.contains("/") { absolute.append(Array((anchor + "/" + form).utf8CString)) }
                }
            }
        }
    }

    /// The forms a user's glob is matched in: without `./` before it or `/` after it, and
    /// without a leading `**/` too, since `**/*.log` should also match `a.log` at the root.
    static func forms(of glob: String) -> [String] {
        var text = Substring(glob)
        while text.hasPrefix("./") { text = text.dropFirst(2) }
        while text.count > 1 && text.hasSuffix("/") { text = text.dropLast() }
        guard !text.isEmpty, text != "." else { return [] }
        var forms = [String(text)]
        var bare = text
        while bare.hasPrefix("**/") { bare = bare.dropFirst(3) }
        if bare != text && !bare.isEmpty { forms.append(String(bare)) }
        return forms
    }

    /// `text` with the characters `fnmatch` treats specially escaped, to be matched literally.
    static func escaped(_ text: String) -> String {
        var out = ""
        for character in text {
            if "*?[]\\".contains(character) { out.append("\\") }
            out.append(character)
        }
        return out
    }

    /// Whether a path is ignored, given its absolute form, its form relative to the watched root
    /// and its last component, each a NUL-terminated C string.
    func ignores(
        absolute path: UnsafePointer<CChar>, relative: UnsafePointer<CChar>, name: UnsafePointer<CChar>
    ) -> Bool {
        for glob in self.relative {
            let hit = glob.withUnsafeBufferPointer { glob in
                fnmatch(glob.baseAddress!, name, 0) == 0 || fnmatch(glob.baseAddress!, relative, 0) == 0
            }
            if hit { return true }
        }
        for glob in absolute {
            if glob.withUnsafeBufferPointer({ fnmatch($0.baseAddress!, path, 0) == 0 }) { return true }
        }
        return false
    }

    /// Whether a path is ignored, from Swift strings (tests and set-up; allocates).
    func ignores(absolute path: String, relative: String, name: String) -> Bool {
        path.withCString { path in
            relative.withCString { relative in name.withCString { ignores(absolute: path, relative: relative, name: $0) } }
        }
    }
}
