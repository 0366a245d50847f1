/// JSON text of `Encodable` values without Foundation, byte for byte as Foundation's
/// `JSONEncoder` writes it with `.sortedKeys` and `.withoutEscapingSlashes` (and `.prettyPrinted`
/// when asked): keys in byte order, `" : "` and two-space indents when pretty, an empty array or
/// object over two lines, integral doubles without `.0`. The commands that start without
/// Foundation (`list`, `status`) print with it, so their output does not depend on which
/// executable ran them.
public enum JSONText {
    /// The JSON text of `value`.
    public static func encode<T: Encodable>(_ value: T, pretty: Bool) throws -> String {
        let root = Node()
        try value.encode(to: TreeEncoder(node: root, codingPath: []))
        var out = ""
        write(root, pretty: pretty, indent: 0, into: &out)
        return out
    }

    /// A JSON string literal of `text`: quotes, backslashes and control characters escaped.
    public static func quoted(_ text: String) -> String {
        if !text.utf8.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) {
            return "\"" + text + "\""
        }
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{8}": out += "\\b"
            case "\u{C}": out += "\\f"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    /// A double as `JSONEncoder` writes it: Swift's shortest form, `.0` dropped.
    static func number(_ value: Double) -> String {
        let text = value.description
        return text.hasSuffix(".0") ? String(text.dropLast(2)) : text
    }

    private static func write(_ node: Node, pretty: Bool, indent: Int, into out: inout String) {
        let inner = String(repeating: " ", count: indent + 2)
        switch node.content {
        case .scalar(let text): out += text
        case .array(let items):
            guard pretty else {
                out += "["
                for (index, item) in items.enumerated() {
                    if index > 0 { out += "," }
                    write(item, pretty: false, indent: 0, into: &out)
                }
                out += "]"
                return
            }
            out += "[\n"
            for (index, item) in items.enumerated() {
                out += (index > 0 ? ",\n" : "") + inner
                write(item, pretty: true, indent: indent + 2, into: &out)
            }
            out += "\n" + String(repeating: " ", count: indent) + "]"
        case .object(let entries):
            let sorted = entries.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
            out += pretty ? "{\n" : "{"
            for (index, entry) in sorted.enumerated() {
                if index > 0 { out += pretty ? ",\n" : "," }
                out += (pretty ? inner : "") + quoted(entry.key) + (pretty ? " : " : ":")
                write(entry.value, pretty: pretty, indent: indent + 2, into: &out)
            }
            out += pretty ? "\n" + String(repeating: " ", count: indent) + "}" : "}"
        }
    }

    /// A value being built: a scalar's text, or the members of an array or object.
    final class Node {
        enum Content {
            case scalar(String)
            case array([Node])
            case object([String: Node])
        }
        var content = Content.scalar("null")

        // The members are taken out of `content` before they change: changed in place while
        // `content` still held them, they were copied at each one, and an argv of 40,000
        // entries took seconds.
        func child(forKey key: String) -> Node {
            let node = Node()
            if case .object(var entries) = content {
                content = .scalar("null")
                entries[key] = node
                content = .object(entries)
            } else {
                content = .object([key: node])
            }
            return node
        }

        func appended() -> Node {
            let node = Node()
            if case .array(var items) = content {
                content = .scalar("null")
                items.append(node)
                content = .array(items)
            } else {
                content = .array([node])
            }
            return node
        }
    }
}

/// The `Encoder` that builds a ``JSONText/Node`` tree.
private struct TreeEncoder: Encoder {
    let node: JSONText.Node
    var codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        if case .object = node.content {} else { node.content = .object([:]) }
        return KeyedEncodingContainer(KeyedContainer<Key>(node: node, codingPath: codingPath))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        if case .array = node.content {} else { node.content = .array([]) }
        return UnkeyedContainer(node: node, codingPath: codingPath)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer {
        SingleContainer(node: node, codingPath: codingPath)
    }
}

/// Scalars as JSON text, shared by the three containers.
private enum Scalar {
    static func text<T: Encodable>(_ value: T) -> String? {
        switch value {
        case let value as String: return JSONText.quoted(value)
        case let value as Bool: return value ? "true" : "false"
        case let value as Double: return JSONText.number(value)
        case let value as Float: return JSONText.number(Double(value))
        case let value as any BinaryInteger: return "\(value)"
        default: return nil
        }
    }

    static func encode<T: Encodable>(_ value: T, into node: JSONText.Node, codingPath: [any CodingKey]) throws {
        if let number = (value as? Double) ?? (value as? Float).map(Double.init), !number.isFinite {
            throw EncodingError.invalidValue(
                value, EncodingError.Context(codingPath: codingPath, debugDescription: "\(number) is not a JSON number"))
        }
        if let text = text(value) {
            node.content = .scalar(text)
        } else {
            try value.encode(to: TreeEncoder(node: node, codingPath: codingPath))
        }
    }
}

private struct KeyedContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let node: JSONText.Node
    var codingPath: [any CodingKey]

    mutating func encodeNil(forKey key: Key) throws { _ = node.child(forKey: key.stringValue) }

    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        try Scalar.encode(value, into: node.child(forKey: key.stringValue), codingPath: codingPath + [key])
    }

    // The common scalars without a dynamic cast: `list --json` of 100 processes writes thousands.
    mutating func encode(_ value: String, forKey key: Key) throws {
        node.child(forKey: key.stringValue).content = .scalar(JSONText.quoted(value))
    }

    mutating func encode(_ value: Int, forKey key: Key) throws {
        node.child(forKey: key.stringValue).content = .scalar(String(value))
    }

    mutating func encode(_ value: Int32, forKey key: Key) throws {
        node.child(forKey: key.stringValue).content = .scalar(String(value))
    }

    mutating func encode(_ value: Int64, forKey key: Key) throws {
        node.child(forKey: key.stringValue).content = .scalar(String(value))
    }

    mutating func encode(_ value: Bool, forKey key: Key) throws {
        node.child(forKey: key.stringValue).content = .scalar(value ? "true" : "false")
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key)
        -> KeyedEncodingContainer<NestedKey>
    {
        TreeEncoder(node: node.child(forKey: key.stringValue), codingPath: codingPath + [key]).container(keyedBy: keyType)
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        TreeEncoder(node: node.child(forKey: key.stringValue), codingPath: codingPath + [key]).unkeyedContainer()
    }

    mutating func superEncoder() -> any Encoder {
        TreeEncoder(node: node.child(forKey: "super"), codingPath: codingPath)
    }

    mutating func superEncoder(forKey key: Key) -> any Encoder {
        TreeEncoder(node: node.child(forKey: key.stringValue), codingPath: codingPath + [key])
    }
}

private struct UnkeyedContainer: UnkeyedEncodingContainer {
    let node: JSONText.Node
    var codingPath: [any CodingKey]
    var count: Int {
        if case .array(let items) = node.content { return items.count }
        return 0
    }

    mutating func encodeNil() throws { _ = node.appended() }

    mutating func encode<T: Encodable>(_ value: T) throws {
        try Scalar.encode(value, into: node.appended(), codingPath: codingPath)
    }

    mutating func encode(_ value: String) throws { node.appended().content = .scalar(JSONText.quoted(value)) }

    mutating func encode(_ value: Int) throws { node.appended().content = .scalar(String(value)) }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type)
        -> KeyedEncodingContainer<NestedKey>
    {
        TreeEncoder(node: node.appended(), codingPath: codingPath).container(keyedBy: keyType)
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        TreeEncoder(node: node.appended(), codingPath: codingPath).unkeyedContainer()
    }

    mutating func superEncoder() -> any Encoder { TreeEncoder(node: node.appended(), codingPath: codingPath) }
}

private struct SingleContainer: SingleValueEncodingContainer {
    let node: JSONText.Node
    var codingPath: [any CodingKey]

    mutating func encodeNil() throws { node.content = .scalar("null") }

    mutating func encode<T: Encodable>(_ value: T) throws {
        try Scalar.encode(value, into: node, codingPath: codingPath)
    }
}
