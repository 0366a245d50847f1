/// Parses a regular expression in the syntax people bring from grep -E, Python, JavaScript and
/// RE2: literals, `.`, classes (`[a-z]`, `[^…]`, `[[:alpha:]]`), `\d \w \s` and their negations
/// (ASCII, as RE2 has them), groups (`(…)`, `(?:…)`, `(?<name>…)`), alternation, the
/// quantifiers `* + ? {n} {n,} {n,m}` (a lazy `?` after them is accepted: whether a line
/// matches does not depend on it), `^ $ \b \B`, and the flag `(?i)` or `(?i:…)`.
///
/// What would make matching slower than linear is refused with the reason: backreferences,
/// lookaround, possessive quantifiers. So is what this engine does not know, by name.
struct RegexParser {
    let scalars: [Unicode.Scalar]
    var index = 0
    private var caseless: Bool
    private var depth = 0

    /// The deepest nesting of groups: the parser, the compiler and the tree's release recurse
    /// once a level, on threads whose stacks may be 1 MiB.
    static let maxDepth = 200

    /// The most a counted repetition may ask for, as RE2 allows.
    static let maxRepeat = 1000

    init(_ pattern: String, caseless: Bool) {
        self.scalars = Array(pattern.unicodeScalars)
        self.caseless = caseless
    }

    static func parse(_ pattern: String, caseless: Bool = false) throws(RegexError) -> RegexNode {
        var parser = RegexParser(pattern, caseless: caseless)
        let node = try parser.alternation()
        if parser.index < parser.scalars.count {
            // Only a `)` stops an alternation before the end.
            throw parser.error("unmatched ')' at \(parser.index + 1); escape it as '\\)' to match a parenthesis")
        }
        return node
    }

    private var atEnd: Bool { index >= scalars.count }
    var peek: Unicode.Scalar? { atEnd ? nil : scalars[index] }

    func error(_ message: String) -> RegexError { RegexError(message: message) }

    private mutating func alternation() throws(RegexError) -> RegexNode {
        let saved = caseless
        defer { caseless = saved }
        var branches = [try concatenation()]
        while peek == "|" {
            index += 1
            branches.append(try concatenation())
        }
        return branches.count == 1 ? branches[0] : .alternate(branches)
    }

    private mutating func concatenation() throws(RegexError) -> RegexNode {
        var items: [RegexNode] = []
        while let scalar = peek, scalar != "|", scalar != ")" {
            let start = index
            guard let atom = try atom() else { continue }
            items.append(try quantified(atom, at: start))
        }
        if items.isEmpty { return .empty }
        return items.count == 1 ? items[0] : .concat(items)
    }

    /// One atom, or nil for a flag group that only changed the flags.
    private mutating func atom() throws(RegexError) -> RegexNode? {
        let scalar = scalars[index]
        index += 1
        switch scalar {
        case "(": return try group()
        case "[": return .scalars(try bracket())
        case ".": return .scalars(.anyButNewline)
        case "^": return .assertion(.textStart)
        case "$": return .assertion(.textEnd)
        case "\\": return try escape()
        case "*", "+", "?":
            throw error("'\(scalar)' at \(index) has nothing to repeat; escape it as '\\\(scalar)' to match it")
        default: return literal(scalar.value)
        }
    }

    private func literal(_ value: UInt32) -> RegexNode {
        .scalars(fold(ScalarSet(scalar: value)))
    }

    private func fold(_ set: ScalarSet) -> ScalarSet { caseless ? set.caseFolded() : set }

    private mutating func quantified(_ atom: RegexNode, at start: Int) throws(RegexError) -> RegexNode {
        var node = atom
        var quantifiers = 0
        while let scalar = peek {
            let quantifierStart = index
            let bounds: (Int, Int?)
            switch scalar {
            case "*": bounds = (0, nil)
            case "+": bounds = (1, nil)
            case "?": bounds = (0, 1)
            case "{":
                guard let counted = try counted() else { return node }
                bounds = counted
            default: return node
            }
            if scalar != "{" { index += 1 }
            quantifiers += 1
            if quantifiers > 1 {
                let first = String(String.UnicodeScalarView(scalars[start..<quantifierStart]))
                let second = String(String.UnicodeScalarView(scalars[quantifierStart..<index]))
                throw error(
                    "a second quantifier '\(second)' at \(quantifierStart + 1) repeats a repetition; group it first, "
                        + "as '(\(first))\(second)'")
            }
            if peek == "?" {
                index += 1  // Lazy: the same lines match.
            } else if peek == "+" {
                throw error(
                    "the possessive quantifier at \(index + 1) is not supported (it is not regular); "
                        + "write the repetition without the '+'")
            }
            node = .repetition(node, min: bounds.0, max: bounds.1)
        }
        return node
    }

    /// `{n}`, `{n,}`, `{n,m}`; nil (and the `{` taken as itself) when it is not one.
    private mutating func counted() throws(RegexError) -> (Int, Int?)? {
        var cursor = index + 1
        func number() -> Int? {
            var value = 0
            var digits = 0
            while cursor < scalars.count, let digit = Int(String(scalars[cursor])), scalars[cursor].isASCII {
                value = min(value * 10 + digit, 1_000_000)
                digits += 1
                cursor += 1
            }
            return digits > 0 ? value : nil
        }
        guard let low = number() else { return nil }
        var high: Int? = low
        if cursor < scalars.count && scalars[cursor] == "," {
            cursor += 1
            high = number()
        }
        guard cursor < scalars.count && scalars[cursor] == "}" else { return nil }
        let place = index + 1
        index = cursor + 1
        if max(low, high ?? 0) > Self.maxRepeat {
            throw error("the repetition count at \(place) is over \(Self.maxRepeat), the most allowed")
        }
        if let high, high < low { throw error("the repetition at \(place) has its minimum over its maximum") }
        return (low, high)
    }

    private mutating func group() throws(RegexError) -> RegexNode? {
        let open = index
        depth += 1
        defer { depth -= 1 }
        if depth > Self.maxDepth {
            throw error("the groups are nested more than \(Self.maxDepth) deep at \(open); write the pattern flatter")
        }
        if peek == "?" {
            index += 1
            switch peek {
            case ":": index += 1
            case "=", "!":
                throw error("lookahead '(?\(peek!)' at \(open) is not supported: it cannot be matched in linear time")
            case "<" where index + 1 < scalars.count && (scalars[index + 1] == "=" || scalars[index + 1] == "!"):
                throw error(
                    "lookbehind '(?<\(scalars[index + 1])' at \(open) is not supported: it cannot be matched in linear time")
            case "<", "P":
                if peek == "P" { index += 1 }
                guard peek == "<" else { throw error("'(?P' at \(open) must be followed by '<name>'") }
                index += 1
                let nameStart = index
                while let scalar = peek, scalar != ">" { index += 1 }
                guard peek == ">" else { throw error("the group name at \(open) has no closing '>'") }
                let name = scalars[nameStart..<index]
                let word = ScalarSet.word
                guard let head = name.first, !("0"..."9").contains(head),
                    name.allSatisfy({ scalar in word.ranges.contains { $0.contains(scalar.value) } })
                else {
                    throw error(
                        "the group name at \(open) is '\(String(String.UnicodeScalarView(name)))'; a name is letters, digits "
                            + "and '_', not starting with a digit")
                }
                index += 1
            default:
                return try flags(open: open)
            }
        }
        let inner = try alternation()
        guard peek == ")" else { throw error("the group opened at \(open) has no closing ')'") }
        index += 1
        return inner
    }

    /// `(?flags)` (for the rest of the enclosing group) or `(?flags:…)`; the flags are `i`
    /// (ignore case) and `s`, `m` (no change for one line at a time), each negated after `-`.
    private mutating func flags(open: Int) throws(RegexError) -> RegexNode? {
        var value = caseless
        var negate = false
        while let scalar = peek {
            index += 1
            switch scalar {
            case "i": value = !negate
            case "s", "m": break
            case "-": negate = true
            case ")":
                caseless = value
                return nil
            case ":":
                let saved = caseless
                caseless = value
                let inner = try alternation()
                caseless = saved
                guard peek == ")" else { throw error("the group opened at \(open) has no closing ')'") }
                index += 1
                return inner
            default:
                throw error("'(?\(scalar)' at \(open) is not a flag this engine knows; the flags are i, s and m")
            }
        }
        throw error("the group opened at \(open) has no closing ')'")
    }

    private mutating func escape() throws(RegexError) -> RegexNode {
        guard let scalar = peek else { throw error("the pattern ends with a lone '\\'; write '\\\\' for a backslash") }
        index += 1
        switch scalar {
        case "b": return .assertion(.wordBoundary)
        case "B": return .assertion(.notWordBoundary)
        case "A": return .assertion(.textStart)
        case "z", "Z": return .assertion(.textEnd)
        case "1"..."9":
            throw error(
                "the backreference '\\\(scalar)' at \(index - 1) is not supported: it cannot be matched in linear time; "
                    + "write the text out instead")
        default:
            if let set = try classEscape(scalar) { return .scalars(set) }
            return literal(try literalEscape(scalar))
        }
    }

    /// `\d \D \s \S \w \W`, nil for any other escape.
    func classEscape(_ scalar: Unicode.Scalar) throws(RegexError) -> ScalarSet? {
        switch scalar {
        case "d": return .digits
        case "D": return ScalarSet.digits.inverted()
        case "s": return .spaces
        case "S": return ScalarSet.spaces.inverted()
        case "w": return .word
        case "W": return ScalarSet.word.inverted()
        case "p", "P":
            throw error("'\\\(scalar)' (a Unicode property) at \(index - 1) is not supported; use a class such as [A-Za-z]")
        default: return nil
        }
    }

    /// The scalar an escape stands for: a control (`\t \n \r \f \v \a \e`), a code (`\xHH`,
    /// `\x{H…}`, `\uHHHH`), or a punctuation character as itself.
    mutating func literalEscape(_ scalar: Unicode.Scalar) throws(RegexError) -> UInt32 {
        switch scalar {
        case "t": return 0x09
        case "n": return 0x0A
        case "r": return 0x0D
        case "f": return 0x0C
        case "v": return 0x0B
        case "a": return 0x07
        case "e": return 0x1B
        case "x", "u":
            let start = index - 1  // the backslash, counted from 1
            let braced = scalar == "x" && peek == "{"
            if braced { index += 1 }
            var value: UInt32 = 0
            var digits = 0
            let most = braced ? 6 : (scalar == "x" ? 2 : 4)
            while digits < most, let next = peek, next.isASCII, let digit = UInt32(String(next), radix: 16) {
                value = value * 16 + digit
                digits += 1
                index += 1
            }
            if braced {
                guard peek == "}" else { throw error("'\\x{' at \(index) has no closing '}'") }
                index += 1
            }
            guard digits > 0, braced || digits == most else {
                throw error("'\\\(scalar)' at \(index) needs hexadecimal digits: \\xHH, \\x{HHHH} or \\uHHHH")
            }
            let hex = String(value, radix: 16, uppercase: true)
            guard value <= ScalarSet.maxScalar else {
                throw error("'\\x{\(hex)}' at \(start) is past U+10FFFF, the last character Unicode has")
            }
            guard !(0xD800...0xDFFF).contains(value) else {
                throw error(
                    "'\\\(scalar)\(braced ? "{" : "")\(hex)\(braced ? "}" : "")' at \(start) is a surrogate, which no text holds; "
                        + "a character is U+0000 to U+D7FF or U+E000 to U+10FFFF")
            }
            return value
        default:
            if scalar.isASCII && (scalar.properties.isAlphabetic || ("0"..."9").contains(scalar)) {
                throw error(
                    "'\\\(scalar)' at \(index - 1) is not an escape this engine knows; the escapes are \\d \\D \\w \\W \\s \\S "
                        + "\\b \\B \\t \\n \\r \\xHH, and '\\' before punctuation")
            }
            return scalar.value
        }
    }
}

extension RegexParser {
    /// The POSIX classes inside brackets, ASCII as in the C locale.
    static let posixClasses: [String: ScalarSet] = [
        "alpha": ScalarSet([0x41...0x5A, 0x61...0x7A]), "digit": .digits,
        "alnum": ScalarSet([0x30...0x39, 0x41...0x5A, 0x61...0x7A]),
        "upper": ScalarSet([0x41...0x5A]), "lower": ScalarSet([0x61...0x7A]), "space": .spaces,
        "blank": ScalarSet([0x09...0x09, 0x20...0x20]), "punct": ScalarSet([0x21...0x2F, 0x3A...0x40, 0x5B...0x60, 0x7B...0x7E]),
        "xdigit": ScalarSet([0x30...0x39, 0x41...0x46, 0x61...0x66]), "word": .word, "cntrl": ScalarSet([0...0x1F, 0x7F...0x7F]),
        "print": ScalarSet([0x20...0x7E]), "graph": ScalarSet([0x21...0x7E]),
    ]

    /// A bracket expression after its `[`: `]` first is itself, `^` first negates (the newline
    /// stays out, as with `.`), `a-z` ranges, escapes as outside, and `[:name:]` classes.
    fileprivate mutating func bracket() throws(RegexError) -> ScalarSet {
        let open = index
        var set = ScalarSet()
        let negated = peek == "^"
        if negated { index += 1 }
        var first = true
        while true {
            guard let scalar = peek else {
                throw error("the class '[' at \(open) has no closing ']'; escape it as '\\[' to match a bracket")
            }
            if scalar == "]" && !first { break }
            first = false
            if scalar == "[" && index + 1 < scalars.count && scalars[index + 1] == ":" {
                set.formUnion(try posixClass())
                continue
            }
            index += 1
            let low: UInt32
            if scalar == "\\" {
                guard let escaped = peek else { throw error("the class '[' at \(open) has no closing ']'") }
                index += 1
                if let escapedClass = try classEscape(escaped) {
                    set.formUnion(escapedClass)
                    continue
                }
                low = escaped == "b" ? 0x08 : try literalEscape(escaped)
            } else {
                low = scalar.value
            }
            // A range, unless the '-' is last.
            if peek == "-", index + 1 < scalars.count, scalars[index + 1] != "]" {
                index += 1
                var high = scalars[index].value
                index += 1
                if high == 0x5C {
                    guard let escaped = peek else { throw error("the class '[' at \(open) has no closing ']'") }
                    index += 1
                    if "dDsSwWpP".unicodeScalars.contains(escaped) {
                        throw error(
                            "the range at \(index - 3) in the class '[' at \(open) ends at the class '\\\(escaped)', "
                                + "which is not one character; put the '-' last, or write '\\-', to match a hyphen")
                    }
                    high = try literalEscape(escaped)
                }
                guard low <= high else {
                    throw error(
                        "the range at \(index - 2) in the class '[' at \(open) runs backward; write the smaller end first")
                }
                set.insert(low...high)
            } else {
                set.insert(low...low)
            }
        }
        index += 1
        set = fold(set)
        return negated ? set.inverted().subtracting(newline: ()) : set
    }

    private mutating func posixClass() throws(RegexError) -> ScalarSet {
        let start = index
        var cursor = index + 2
        var name = ""
        while cursor + 1 < scalars.count, !(scalars[cursor] == ":" && scalars[cursor + 1] == "]") {
            name.unicodeScalars.append(scalars[cursor])
            cursor += 1
        }
        guard cursor + 1 < scalars.count, let set = Self.posixClasses[name] else {
            let names = Self.posixClasses.keys.sorted().joined(separator: ", ")
            throw error("'[:\(name):]' at \(start + 1) is not a class; the classes are \(names)")
        }
        index = cursor + 2
        return set
    }
}
