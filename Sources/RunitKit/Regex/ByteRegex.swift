/// A regular expression matched on bytes in time linear in the text, whatever the pattern:
/// the engine behind `runit logs --grep`, MCP's `grep` and `log_regex`, and the supervisor's
/// readiness check. See `RegexParser` for the syntax and what is refused.
public struct ByteRegex: Sendable {
    let program: RegexProgram
    /// The pattern as given.
    public let source: String
    /// Bytes that every match contains (at least 3 of them), for finding candidate lines with
    /// `memmem` before the automaton runs; nil when the pattern has no such run.
    public let requiredLiteral: [UInt8]?

    /// Compiles `pattern`; the error says what is wrong and what is allowed.
    public init(_ pattern: String, ignoringCase: Bool = false) throws(RegexError) {
        let node = try RegexParser.parse(pattern, caseless: ignoringCase)
        program = try RegexProgram(node)
        source = pattern
        let literal = Self.literal(of: node).required
        requiredLiteral = literal.count >= 3 ? literal : nil
    }

    /// A matcher of its own, with an empty cache of states.
    public func matcher(maxStates: Int = 2000) -> LazyDFA {
        LazyDFA(program, maxStates: maxStates)
    }

    /// What `node` must match: `exact` when it matches exactly those bytes, and `required`, the
    /// longest run of bytes every match of it contains.
    static func literal(of node: RegexNode) -> (exact: [UInt8]?, required: [UInt8]) {
        switch node {
        case .empty, .assertion:
            return ([], [])
        case .scalars(let set):
            // U+FFFD also matches each sequence that is not UTF-8: no bytes of its own to look for.
            guard let value = set.single, value != 0xFFFD else { return (nil, []) }
            let bytes = value >= ByteText.firstEscape ? [UInt8(truncatingIfNeeded: value)] : UTF8Ranges.encode(value)
            return (bytes, bytes)
        case .concat(let items):
            var run: [UInt8] = []
            var best: [UInt8] = []
            var exact = true
            for item in items {
                let inner = literal(of: item)
                if inner.required.count > best.count { best = inner.required }
                if let bytes = inner.exact {
                    run += bytes
                } else {
                    exact = false
                    if run.count > best.count { best = run }
                    run = []
                }
            }
            if run.count > best.count { best = run }
            return (exact ? run : nil, best)
        case .alternate(let branches):
            let all = branches.map { literal(of: $0).exact }
            if let first = all.first, let bytes = first, all.allSatisfy({ $0 == bytes }) { return (bytes, bytes) }
            return (nil, [])
        case .repetition(let inner, let min, let max):
            let info = literal(of: inner)
            if min == 0 { return (max == 0 ? [] : nil, []) }
            if min == max, let bytes = info.exact, bytes.count * min <= 256 {
                let repeated = Array([[UInt8]](repeating: bytes, count: min).joined())
                return (repeated, repeated)
            }
            return (nil, info.exact ?? info.required)
        }
    }
}
