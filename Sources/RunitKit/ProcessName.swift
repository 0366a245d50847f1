/// A managed process's name: an identifier, never a path.
///
/// A loose process's name is one part, `[A-Za-z0-9][A-Za-z0-9._-]{0,63}`; a project's process
/// is `project/name`, two such parts. On disk (its directory under `procs/`, its lock) the two
/// parts are joined by `~`, a character no part can hold, so the storage name maps back.
public struct ProcessName: Hashable, Sendable, CustomStringConvertible {
    /// The validated name, as users write it: `web` or `shop/web`.
    public let rawValue: String

    /// The rule, as said to a user whose name was refused.
    public static let rule =
        "a name is 1 to 64 characters: letters, digits, '.', '_' or '-', starting with a letter or digit "
        + "(a project's process is PROJECT/NAME, each part such a name)"

    /// Validates `rawValue`; returns nil if it is not a valid name.
    public init?(_ rawValue: String) {
        guard Self.isValid(rawValue) else { return nil }
        self.rawValue = rawValue
    }

    /// The name whose directory (or lock file) is called `storage`; nil for any other file name.
    public init?(storage: String) {
        guard Self.isValid(storage, separator: UInt8(ascii: "~")) else { return nil }
        self.rawValue = Self.replacing(UInt8(ascii: "~"), with: UInt8(ascii: "/"), in: storage)
    }

    /// The project, for `project/name`; nil for a loose process.
    public var project: String? {
        guard let slash = rawValue.utf8.firstIndex(of: UInt8(ascii: "/")) else { return nil }
        return String(rawValue[..<slash])
    }

    /// The name within its project (the whole name for a loose process).
    public var base: String {
        guard let slash = rawValue.utf8.firstIndex(of: UInt8(ascii: "/")) else { return rawValue }
        return String(rawValue[rawValue.index(after: slash)...])
    }

    /// The name of its directory under `procs/` and of its lock file.
    public var storage: String { Self.storage(of: rawValue) }

    /// The storage name of a name given as text (valid or not: a `/` becomes `~`).
    public static func storage(of name: String) -> String {
        replacing(UInt8(ascii: "/"), with: UInt8(ascii: "~"), in: name)
    }

    /// `text` with every byte `old` made `new` (both ASCII); `text` itself when it holds none.
    private static func replacing(_ old: UInt8, with new: UInt8, in text: String) -> String {
        guard text.utf8.contains(old) else { return text }
        return String(decoding: text.utf8.map { $0 == old ? new : $0 }, as: UTF8.self)
    }

    /// Whether `text` is a valid process name: one part, or two joined by `/`.
    public static func isValid(_ text: String) -> Bool {
        isValid(text, separator: UInt8(ascii: "/"))
    }

    /// Whether `text` is one valid part, or two joined by `separator`. Read as UTF-8 bytes: every
    /// byte of a valid name is ASCII, and `list` checks a name per process, where splitting the
    /// text into characters cost it a twentieth of its instructions.
    static func isValid(_ text: String, separator: UInt8) -> Bool {
        var text = text
        return text.withUTF8 { bytes in
            var start = 0
            var parts = 0
            for index in 0...bytes.count where index == bytes.count || bytes[index] == separator {
                parts += 1
                guard parts <= 2, isValidPart(UnsafeBufferPointer(rebasing: bytes[start..<index])) else { return false }
                start = index + 1
            }
            return true
        }
    }

    /// Whether `text` is one valid part: a loose name, a project's name, or a name in a project.
    public static func isValidPart(_ text: String) -> Bool {
        var text = text
        return text.withUTF8 { isValidPart($0) }
    }

    private static func isValidPart(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard !bytes.isEmpty, bytes.count <= 64, isAlnum(bytes[0]) else { return false }
        for byte in bytes.dropFirst() {
            guard
                isAlnum(byte) || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "_")
                    || byte == UInt8(ascii: "-")
            else { return false }
        }
        return true
    }

    /// Why `text` is not a valid name, in words; nil when it is valid.
    public static func problem(with text: String) -> String? {
        if text.isEmpty { return "the name is empty; \(rule)" }
        if isValid(text) { return nil }
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        if parts.count == 1, text.utf8.count > 64 { return "the name is \(text.utf8.count) characters long; \(rule)" }
        // As the user typed it, but with its control characters visible: a name is no place for them.
        let shown = ByteText.visible(text)
        if parts.count > 2 { return "'\(shown)' has more than one '/'; \(rule)" }
        return "'\(shown)' is not a valid name; \(rule)"
    }

    public var description: String { rawValue }

    private static func isAlnum(_ byte: UInt8) -> Bool {
        (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
    }
}
