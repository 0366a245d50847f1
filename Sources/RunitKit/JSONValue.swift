/// A small JSON parser for runit's own files, without Foundation: the supervisor's status
/// file and the client's spec file are read on every `runit list`, where Foundation's
/// `JSONDecoder` costs tens of microseconds per file.
public enum JSONValue: Equatable, Sendable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    /// An object's members in the order of the text (two objects are equal when their members
    /// come in the same order). A lookup walks them: runit's objects have at most a few dozen,
    /// and hashing each key cost `runit list` more than the walk does.
    case object([Member])

    /// One member of an object.
    public struct Member: Equatable, Sendable {
        public var key: String
        public var value: JSONValue
    }

    /// Parses a whole JSON text; nil when it is not valid JSON.
    public init?(parsing array: [UInt8]) {
        // Parsed in place: `list` parses two files per process, and the array's checks and
        // reference counting per byte were a third of the parse.
        let parsed = array.withUnsafeBufferPointer { bytes -> JSONValue? in
            var parser = Parser(bytes: bytes)
            guard let value = parser.value() else { return nil }
            parser.skipSpace()
            return parser.index == bytes.count ? value : nil
        }
        guard let parsed else { return nil }
        self = parsed
    }

    /// The member `key` of an object (the last one, if the text gives it twice).
    public subscript(key: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        // The lengths first: comparing two different keys of one length is most of the cost.
        let length = key.utf8.count
        for member in members.reversed() where member.key.utf8.count == length && member.key == key {
            return member.value
        }
        return nil
    }

    /// The string, if this is one.
    public var string: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    /// The number as an exact integer, if this is one.
    public var integer: Int64? {
        guard case .number(let value) = self, value.rounded() == value, abs(value) < 9.0e15 else { return nil }
        return Int64(value)
    }

    /// The elements, if this is an array.
    public var array: [JSONValue]? {
        if case .array(let value) = self { return value }
        return nil
    }

    /// The members, if this is an object (the last of a key given twice).
    public var object: [String: JSONValue]? {
        guard case .object(let members) = self else { return nil }
        return Dictionary(members.map { ($0.key, $0.value) }, uniquingKeysWith: { _, last in last })
    }

    /// Whether this is an object.
    public var isObject: Bool {
        if case .object = self { return true }
        return false
    }

    /// Whether this is `null`.
    public var isNull: Bool { self == .null }

    private struct Parser {
        let bytes: UnsafeBufferPointer<UInt8>
        var index = 0
        var depth = 0

        mutating func skipSpace() {
            while index < bytes.count {
                switch bytes[index] {
                case 0x20, 0x0A, 0x0D, 0x09: index += 1
                default: return
                }
            }
        }

        mutating func value() -> JSONValue? {
            skipSpace()
            guard index < bytes.count else { return nil }
            switch bytes[index] {
            case UInt8(ascii: "{"): return object()
            case UInt8(ascii: "["): return array()
            case UInt8(ascii: "\""): return string().map { .string($0) }
            case UInt8(ascii: "t"): return literal("true", .bool(true))
            case UInt8(ascii: "f"): return literal("false", .bool(false))
            case UInt8(ascii: "n"): return literal("null", .null)
            default: return number()
            }
        }

        mutating func literal(_ word: StaticString, _ value: JSONValue) -> JSONValue? {
            let count = word.utf8CodeUnitCount
            guard index + count <= bytes.count else { return nil }
            for offset in 0..<count where bytes[index + offset] != word.utf8Start[offset] { return nil }
            index += count
            return value
        }

        /// A number as JSON spells it, `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`;
        /// nil for anything else (`+1`, `01`, `.5`, `1.`), which `Double` alone would take.
        mutating func number() -> JSONValue? {
            let start = index
            let negative = index < bytes.count && bytes[index] == UInt8(ascii: "-")
            if negative { index += 1 }
            let integerStart = index
            let integerDigits = digits()
            guard integerDigits > 0, integerDigits == 1 || bytes[integerStart] != UInt8(ascii: "0") else { return nil }
            var simple = true
            if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
                index += 1
                guard digits() > 0 else { return nil }
                simple = false
            }
            if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
                index += 1
                if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
                guard digits() > 0 else { return nil }
                simple = false
            }
            // Plain integers, the common case in runit's files, skip the text-to-Double parse.
            if simple && integerDigits <= 15 {
                var whole: Int64 = 0
                for byte in UnsafeBufferPointer(rebasing: bytes[integerStart..<index]) { whole = whole * 10 + Int64(byte - 0x30) }
                return .number(Double(negative ? -whole : whole))
            }
            let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
            guard let value = Double(text) else { return nil }
            return .number(value)
        }

        /// Skips decimal digits; how many.
        mutating func digits() -> Int {
            let start = index
            while index < bytes.count, bytes[index] >= 0x30, bytes[index] <= 0x39 { index += 1 }
            return index - start
        }

        mutating func object() -> JSONValue? {
            depth += 1
            defer { depth -= 1 }
            guard depth < 64 else { return nil }
            index += 1
            var members: [Member] = []
            // runit's files hold objects of up to about 20 members: grown once, not five times.
            members.reserveCapacity(8)
            skipSpace()
            if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
                index += 1
                return .object(members)
            }
            while true {
                skipSpace()
                guard index < bytes.count, bytes[index] == UInt8(ascii: "\""), let key = string() else { return nil }
                skipSpace()
                guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { return nil }
                index += 1
                guard let member = value() else { return nil }
                members.append(Member(key: key, value: member))
                skipSpace()
                guard index < bytes.count else { return nil }
                if bytes[index] == UInt8(ascii: ",") {
                    index += 1
                    continue
                }
                guard bytes[index] == UInt8(ascii: "}") else { return nil }
                index += 1
                return .object(members)
            }
        }

        mutating func array() -> JSONValue? {
            depth += 1
            defer { depth -= 1 }
            guard depth < 64 else { return nil }
            index += 1
            var elements: [JSONValue] = []
            skipSpace()
            if index < bytes.count, bytes[index] == UInt8(ascii: "]") {
                index += 1
                return .array(elements)
            }
            while true {
                guard let element = value() else { return nil }
                elements.append(element)
                skipSpace()
                guard index < bytes.count else { return nil }
                if bytes[index] == UInt8(ascii: ",") {
                    index += 1
                    continue
                }
                guard bytes[index] == UInt8(ascii: "]") else { return nil }
                index += 1
                return .array(elements)
            }
        }

        /// A string starting at the opening quote; escapes decoded, surrogate pairs joined. A lone
        /// `\udcXX` is byte XX, as ``ByteText`` writes it, and a scalar of the range that
        /// ByteText's escapes use is read as the escapes of its bytes, so the text is ByteText's.
        mutating func string() -> String? {
            index += 1
            var run = index
            var out: [UInt8] = []
            // Whether a scalar of ByteText's range may be in the string: its UTF-8 starts with 0xF4.
            var reserved = false
            func appendPiece(_ range: Range<Int>, to out: inout [UInt8]) {
                let piece = UnsafeBufferPointer(rebasing: bytes[range])
                if reserved {
                    out.append(contentsOf: ByteText.escapingReserved(ArraySlice(piece)))
                } else {
                    out.append(contentsOf: piece)
                }
            }
            while index < bytes.count {
                // The plain bytes up to the next that matters, in a local index.
                var next = index
                while next < bytes.count {
                    let byte = bytes[next]
                    if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") || byte < 0x20 || byte == 0xF4 { break }
                    next += 1
                }
                index = next
                guard index < bytes.count else { return nil }
                let byte = bytes[index]
                if byte == UInt8(ascii: "\"") {
                    // Without escapes (most strings), straight from the bytes: no buffer to allocate.
                    if out.isEmpty && !reserved {
                        defer { index += 1 }
                        return String(decoding: UnsafeBufferPointer(rebasing: bytes[run..<index]), as: UTF8.self)
                    }
                    appendPiece(run..<index, to: &out)
                    index += 1
                    return String(decoding: out, as: UTF8.self)
                }
                if byte < 0x20 { return nil }
                if byte == 0xF4 { reserved = true }
                guard byte == UInt8(ascii: "\\") else {
                    index += 1
                    continue
                }
                appendPiece(run..<index, to: &out)
                index += 1
                guard index < bytes.count else { return nil }
                let escape = bytes[index]
                index += 1
                switch escape {
                case UInt8(ascii: "\""): out.append(0x22)
                case UInt8(ascii: "\\"): out.append(0x5C)
                case UInt8(ascii: "/"): out.append(0x2F)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "u"):
                    guard var code = hex4() else { return nil }
                    if let escape = ByteText.jsonEscape(code) {
                        out.append(contentsOf: escape)
                        run = index
                        continue
                    }
                    if (0xD800..<0xDC00).contains(code) {
                        guard index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u")
                        else {
                            return nil
                        }
                        index += 2
                        guard let low = hex4(), (0xDC00..<0xE000).contains(low) else { return nil }
                        code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                    }
                    guard let scalar = Unicode.Scalar(code) else { return nil }
                    // A pair can spell a scalar of ByteText's escapes' range: it is itself, as
                    // the same scalar written as raw UTF-8 is, not the escape of a byte.
                    let encoded = Array(String(Character(scalar)).utf8)
                    out.append(
                        contentsOf: scalar.value >= ByteText.firstEscape ? ByteText.escapingReserved(encoded[...]) : encoded)
                default: return nil
                }
                run = index
            }
            return nil
        }

        /// Four hex digits, and nothing else (`UInt32(_:radix:)` would take a sign).
        mutating func hex4() -> UInt32? {
            guard index + 4 <= bytes.count else { return nil }
            var value: UInt32 = 0
            for byte in UnsafeBufferPointer(rebasing: bytes[index..<(index + 4)]) {
                let digit: UInt8
                switch byte {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
                case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
                case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
                default: return nil
                }
                value = value << 4 | UInt32(digit)
            }
            index += 4
            return value
        }
    }
}
