import RunitKit

/// The checks on a request's envelope that the SDK does not make, or makes with an answer that
/// says nothing of the cause: an `id` that is not a string or an integer (it answered a null id
/// as "", and never answered an object or a fraction), and `params` or `params._meta` that are
/// not objects (answered "Internal error").
enum RequestEnvelope {
    /// The error reply for `message`, when it is a request with a bad envelope; nil for every
    /// other message (a notification, a response, a good request, text that is not an object).
    static func refusal(_ message: [UInt8]) -> String? {
        guard let value = JSONValue(parsing: message), value.isObject, value["method"] != nil, let id = value["id"]
        else { return nil }
        let idText: String
        switch id {
        case .string(let text):
            idText = quoted(text)
        case .number where id.integer != nil:
            idText = String(id.integer!)
        default:
            return reply(
                id: "null", code: -32600,
                "Invalid Request: 'id' must be a string or an integer, not \(describe(id)) (a notification has no 'id')")
        }
        guard let method = value["method"]?.string else {
            return reply(
                id: idText, code: -32600, "Invalid Request: 'method' must be a string, not \(describe(value["method"]!))")
        }
        guard let params = value["params"], !params.isNull else { return nil }
        guard params.isObject else {
            return reply(id: idText, code: -32602, "Invalid params: \(method) params must be an object, not \(describe(params))")
        }
        if let meta = params["_meta"], !meta.isNull, !meta.isObject {
            return reply(id: idText, code: -32602, "Invalid params: '_meta' must be an object, not \(describe(meta))")
        }
        return nil
    }

    private static func reply(id: String, code: Int, _ message: String) -> String {
        #"{"jsonrpc":"2.0","id":"# + id + #","error":{"code":"# + String(code) + #","message":"# + quoted(message) + "}}"
    }

    private static func quoted(_ text: String) -> String {
        var out = ""
        JSONText.appendString(text, to: &out)
        return out
    }

    private static func describe(_ value: JSONValue) -> String {
        switch value {
        case .null: return "null"
        case .bool(let flag): return "the boolean \(flag)"
        case .number(let number): return "the number \(number)"
        case .string(let text): return "the string \(quoted(String(text.prefix(40))))"
        case .array: return "an array"
        case .object: return "an object"
        }
    }
}
