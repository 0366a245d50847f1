/// A `--command` runs as `/bin/sh -c COMMAND`. When COMMAND is one simple command, the shell is
/// told to `exec` it: the process runit supervises is then the program itself, not a shell
/// waiting for it (one process instead of two per command; signals, exit codes and ports belong
/// to the program). Debian's dash, unlike bash, does not do this on its own.
///
/// Only what is surely one simple command gets `exec`: nothing that joins or groups commands
/// (`;`, `&`, `|`, a newline, parentheses, braces, backquotes), no comment or backslash, no variable
/// assignment before the program, and a first word that is no shell keyword or built-in (`exit 3`
/// must stay the shell's own exit). Anything else runs exactly as written.
public enum ShellExec {
    /// `argv` with `exec ` put before a simple command given to `/bin/sh -c`; any other argv as it is.
    public static func direct(_ argv: [String]) -> [String] {
        guard argv.count == 3, argv[0] == "/bin/sh", argv[1] == "-c", isSimple(argv[2]) else { return argv }
        return ["/bin/sh", "-c", "exec " + argv[2]]
    }

    /// Whether `command` is one simple command that `exec` can run in the shell's place.
    public static func isSimple(_ command: String) -> Bool {
        let bytes = Array(command.utf8)
        for byte in bytes {
            switch byte {
            case UInt8(ascii: ";"), UInt8(ascii: "&"), UInt8(ascii: "|"), UInt8(ascii: "\n"), UInt8(ascii: "\r"),
                UInt8(ascii: "("), UInt8(ascii: ")"), UInt8(ascii: "{"), UInt8(ascii: "}"), UInt8(ascii: "`"),
                UInt8(ascii: "#"), UInt8(ascii: "\\"):
                return false
            default: continue
            }
        }
        let words = bytes.split(whereSeparator: { $0 == 0x20 || $0 == 0x09 })
        guard let first = words.first else { return false }
        // `FOO=1 cmd` (an assignment first), `<in cmd` or `2>/dev/null cmd` (a redirection in the
        // first word: the program is a later word, unchecked), `-x` (an option to
        // the shell's `exec`) and a quoted first word
        // (`'exit' 3` is still the built-in) stay as written.
        guard !first.contains(UInt8(ascii: "=")), !first.contains(UInt8(ascii: "<")), !first.contains(UInt8(ascii: ">")),
            first.first != UInt8(ascii: "$"), first.first != UInt8(ascii: "-"), !first.contains(UInt8(ascii: "'")),
            !first.contains(UInt8(ascii: "\""))
        else { return false }
        return !keywordsAndBuiltins.contains(String(decoding: first, as: UTF8.self))
    }

    /// The words that the shell itself handles: POSIX keywords, dash's and bash's built-ins.
    static let keywordsAndBuiltins: Set<String> = [
        "!", "[[", "]]", "case", "do", "done", "elif", "else", "esac", "fi", "for", "function", "if", "in", "select",
        "then", "time", "until", "while", ".", ":", "[", "alias", "bg", "break", "builtin", "cd", "chdir", "command",
        "continue", "declare", "echo", "eval", "exec", "exit", "export", "false", "fc", "fg", "getopts", "hash", "jobs",
        "kill", "let", "local", "logout", "printf", "pwd", "read", "readonly", "return", "set", "shift", "source",
        "test", "times", "trap", "true", "type", "typeset", "ulimit", "umask", "unalias", "unset", "wait",
    ]
}
