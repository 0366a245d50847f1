/// The few string helpers the client side took from Foundation.
extension StringProtocol {
    /// The text without leading and trailing spaces, tabs and line ends.
    package var trimmedWhitespace: String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else {
            return ""
        }
        return String(self[first...last])
    }
}

extension BinaryInteger {
    /// Lowercase hexadecimal with at least `width` digits, as `%0*llx` prints it.
    package func hex(width: Int) -> String {
        let digits = String(self, radix: 16)
        return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
    }
}
