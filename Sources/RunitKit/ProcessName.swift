/// A managed process's name: an identifier, never a path.
///
/// Allowed: `[A-Za-z0-9][A-Za-z0-9._-]{0,63}`.
public struct ProcessName: Hashable, Sendable, CustomStringConvertible {
    /// The validated name.
    public let rawValue: String

    /// The rule, as said to a user whose name was refused.
    public static let rule =
        "a name is 1 to 64 characters: letters, digits, '.', '_' or '-', starting with a letter or digit"

    /// Validates `rawValue`; returns nil if it is not a valid name.
    public init?(_ rawValue: String) {
        guard Self.isValid(rawValue) else { return nil }
        self.rawValue = rawValue
    }

    /// Whether `text` is a valid process name.
    public static func isValid(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard !bytes.isEmpty, bytes.count <= 64 else { return false }
        guard isAlnum(bytes[0]) else { return false }
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
        if text.utf8.count > 64 { return "the name is \(text.utf8.count) characters long; \(rule)" }
        if isValid(text) { return nil }
        return "'\(text)' is not a valid name; \(rule)"
    }

    public var description: String { rawValue }

    private static func isAlnum(_ byte: UInt8) -> Bool {
        (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
    }
}
