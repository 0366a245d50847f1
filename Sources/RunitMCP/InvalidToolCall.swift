import Foundation
import MCP

/// A `tools/call` whose params the SDK cannot decode (not an object, no tool name, arguments
/// that are not an object) would be answered -32603 "Internal error". The transport rewrites
/// such a request to this method, whose handler answers -32602 "Invalid params" with what is
/// wrong, through the server's usual reply path (so every request still gets its one answer).
enum InvalidToolCall: Method {
    static let name = "runit/invalidToolCall"

    /// What is wrong with the original request.
    struct Parameters: Codable, Hashable, Sendable {
        var reason: String
    }

    /// `message` rewritten to this method, when it is a `tools/call` request with params that
    /// cannot be decoded; nil for every other message.
    static func rewrite(_ message: Data) -> Data? {
        guard message.range(of: Data(CallTool.name.utf8)) != nil || message.range(of: Data("resources/".utf8)) != nil,
            let object = try? JSONDecoder().decode([String: Value].self, from: message),
            let method = object["method"]?.stringValue, object["id"] != nil,
            let reason = method == CallTool.name ? problem(object["params"]) : resourceProblem(method, object["params"])
        else { return nil }
        var rewritten = object
        rewritten["method"] = .string(name)
        rewritten["params"] = ["reason": .string(reason)]
        return try? JSONEncoder().encode(rewritten)
    }

    /// What is wrong with the params of a `resources/read`, `subscribe` or `unsubscribe`, whose
    /// `uri` the SDK cannot decode unless it is a string.
    static func resourceProblem(_ method: String, _ params: Value?) -> String? {
        guard [ReadResource.name, ResourceSubscribe.name, ResourceUnsubscribe.name].contains(method) else { return nil }
        guard let uri = params?.objectValue?["uri"] else { return "\(method) needs params {\"uri\": a runit:// URI}" }
        return uri.stringValue == nil ? "\(method) 'uri' must be a string, not \(ToolArguments.describe(uri))" : nil
    }

    /// What is wrong with the params of a `tools/call`, if anything the SDK cannot decode.
    static func problem(_ params: Value?) -> String? {
        guard let params, !params.isNull else {
            return "tools/call needs params: {\"name\": the tool, \"arguments\": an object}"
        }
        guard let object = params.objectValue else {
            return "tools/call params must be an object with 'name' and 'arguments', not \(ToolArguments.describe(params))"
        }
        guard let name = object["name"] else { return "tools/call needs 'name', the tool to call" }
        guard name.stringValue != nil else {
            return "tools/call 'name' must be a string, not \(ToolArguments.describe(name))"
        }
        if let arguments = object["arguments"], !arguments.isNull, arguments.objectValue == nil {
            return "tools/call 'arguments' must be an object of named arguments, not \(ToolArguments.describe(arguments))"
        }
        return nil
    }
}
