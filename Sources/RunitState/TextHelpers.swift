/// The few string helpers the client side took from Foundation.
extension StringProtocol {
    /// The text without leading and trailing white space and line ends, as Foundation's
    /// `.whitespacesAndNewlines` trims: every Unicode `White_Space` scalar (tab, `\v`, `\f`,
    /// NBSP, U+3000 ...) and the zero-width space, which Foundation counts too; by scalars, so a
    /// `\r\n` pair goes as well.
    package var trimmedWhitespace: String { trimmed { $0.properties.isWhitespace || $0.value == 0x200B } }

    /// The text without leading and trailing spaces, as Foundation's `.whitespaces` trims:
    /// white space that is not a line end (`\n`, `\v`, `\f`, `\r`, U+0085, U+2028, U+2029 stay).
    package var trimmedSpaces: String {
        trimmed {
            ($0.properties.isWhitespace || $0.value == 0x200B) && !(0x0A...0x0D).contains($0.value)
                && ![0x85, 0x2028, 0x2029].contains($0.value)
        }
    }

    private func trimmed(_ isSpace: (Unicode.Scalar) -> Bool) -> String {
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { !isSpace($0) }), let last = scalars.lastIndex(where: { !isSpace($0) })
        else { return "" }
        var out = String.UnicodeScalarView()
        out.append(contentsOf: scalars[first...last])
        return String(out)
    }
}

extension BinaryInteger {
    /// Lowercase hexadecimal with at least `width` digits, as `%0*llx` prints it.
    package func hex(width: Int) -> String {
        let digits = String(self, radix: 16)
        return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
    }
}
