import MCP
import RunitCore

/// A tool call's arguments, read with the checks a model needs: a missing required argument,
/// a wrong type or an unknown name each get an error that says what is expected.
struct ToolArguments {
    let values: [String: Value]
    let tool: String

    /// The arguments of a call to `tool`; unknown names are refused against the tool's schema.
    init(_ values: [String: Value]?, tool: Tool) throws(RunitError) {
        self.values = values ?? [:]
        self.tool = tool.name
        let allowed = tool.inputSchema.objectValue?["properties"]?.objectValue?.keys.sorted() ?? []
        for key in self.values.keys.sorted() where !allowed.contains(key) {
            throw RunitError(
                .invalidInput, "\(tool.name) has no argument '\(key)'; its arguments are: \(allowed.joined(separator: ", "))")
        }
    }

    private init(values: [String: Value], tool: String) {
        self.values = values
        self.tool = tool
    }

    private func typeError(_ key: String, _ expected: String) -> RunitError {
        RunitError(.invalidInput, "\(tool): '\(key)' must be \(expected), not \(values[key].map(Self.describe) ?? "missing")")
    }

    static func describe(_ value: Value) -> String {
        switch value {
        case .null: return "null"
        case .bool(let bool): return "the boolean \(bool)"
        case .int(let int): return "the number \(int)"
        case .double(let double): return "the number \(double)"
        case .string(let string): return "the string \"\(string.prefix(40))\""
        case .data: return "binary data"
        case .array: return "an array"
        case .object: return "an object"
        }
    }

    /// A required string.
    func requiredString(_ key: String) throws(RunitError) -> String {
        guard let value = try string(key) else {
            throw RunitError(.invalidInput, "\(tool) needs '\(key)'; it is missing")
        }
        return value
    }

    /// An optional string.
    func string(_ key: String) throws(RunitError) -> String? {
        guard let value = values[key], !value.isNull else { return nil }
        guard let string = value.stringValue else { throw typeError(key, "a string") }
        return string
    }

    /// An optional whole number.
    func int(_ key: String) throws(RunitError) -> Int? {
        guard let value = values[key], !value.isNull else { return nil }
        if let int = value.intValue { return int }
        if let double = value.doubleValue, double.rounded() == double, abs(double) < 1e15 { return Int(double) }
        throw typeError(key, "a whole number")
    }

    /// An optional number.
    func number(_ key: String) throws(RunitError) -> Double? {
        guard let value = values[key], !value.isNull else { return nil }
        if let double = value.doubleValue, double.isFinite { return double }
        if let int = value.intValue { return Double(int) }
        throw typeError(key, "a number")
    }

    /// An optional boolean.
    func bool(_ key: String) throws(RunitError) -> Bool? {
        guard let value = values[key], !value.isNull else { return nil }
        guard let bool = value.boolValue else { throw typeError(key, "true or false") }
        return bool
    }

    /// An optional array of strings.
    func strings(_ key: String) throws(RunitError) -> [String]? {
        guard let value = values[key], !value.isNull else { return nil }
        guard let array = value.arrayValue else { throw typeError(key, "an array of strings") }
        var result: [String] = []
        for (index, item) in array.enumerated() {
            guard let string = item.stringValue else {
                throw RunitError(
                    .invalidInput,
                    "\(tool): '\(key)' must be an array of strings; item \(index + 1) is \(Self.describe(item))")
            }
            result.append(string)
        }
        return result
    }

    /// An optional object whose values are strings, in key order.
    func stringMap(_ key: String) throws(RunitError) -> [(String, String)]? {
        guard let value = values[key], !value.isNull else { return nil }
        guard let object = value.objectValue else { throw typeError(key, "an object of strings") }
        var result: [(String, String)] = []
        for (name, item) in object.sorted(by: { $0.key < $1.key }) {
            guard let string = item.stringValue else {
                throw RunitError(
                    .invalidInput,
                    "\(tool): '\(key)' must be an object of strings; its key '\(name)' is \(Self.describe(item)), "
                        + "write it as a string (\"\(name)\": \"...\")")
            }
            result.append((name, string))
        }
        return result
    }

    /// An optional nested object, with only the given `keys`.
    func object(_ key: String, keys: [String]) throws(RunitError) -> ToolArguments? {
        guard let value = values[key], !value.isNull else { return nil }
        guard let object = value.objectValue else { throw typeError(key, "an object") }
        for name in object.keys.sorted() where !keys.contains(name) {
            throw RunitError(
                .invalidInput,
                "\(tool): '\(key)' has no key '\(name)'; its keys are: \(keys.sorted().joined(separator: ", "))")
        }
        return ToolArguments(values: object, tool: "\(tool).\(key)")
    }

    /// A timeout in milliseconds: `timeout_s` seconds, default 30, more than 0 and at most `most`.
    func timeoutMillis(_ key: String = "timeout_s", default defaultSeconds: Double = 30, most: Double = 300)
        throws(RunitError) -> Int64
    {
        let seconds = try number(key) ?? defaultSeconds
        guard seconds > 0, seconds <= most else {
            throw RunitError(
                .invalidInput, "\(tool): '\(key)' must be more than 0 and at most \(Int(most)) seconds, not \(seconds)")
        }
        return Int64(seconds * 1000)
    }
}
