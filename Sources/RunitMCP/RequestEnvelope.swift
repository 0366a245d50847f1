import Foundation
import MCP
import RunitKit

/// The checks on a request's envelope that the SDK does not make, or makes with an answer that
/// says nothing of the cause: an `id` that is not a string or an integer (it answered a null id
/// as "", and never answered an object or a fraction), `params` or `params._meta` that are not
/// objects (answered "Internal error"), and nesting so deep that a decoder's recursion runs out
/// of stack (a debug build crashed at 100 levels; a release build left the request unanswered).
enum RequestEnvelope {
    /// The deepest nesting of arrays and objects a message may have; MCP's own are a few levels,
    /// tool arguments a few more.
    static let depthLimit = 64

    /// The reply to a line nested deeper than ``depthLimit``.
    static let tooDeep = reply(
        id: "null", code: -32600, "Invalid Request: arrays and objects nested deeper than \(depthLimit) levels")

    /// Whether `line` nests arrays and objects deeper than ``depthLimit``: one pass over its
    /// bytes, with no recursion, before any parser recurses into it.
    static func nestsTooDeep(_ line: Data) -> Bool {
        line.withUnsafeBytes { bytes in
            var depth = 0
            var inString = false
            var escaped = false
            for byte in bytes {
                if inString {
                    if escaped {
                        escaped = false
                    } else if byte == UInt8(ascii: "\\") {
                        escaped = true
                    } else if byte == UInt8(ascii: "\"") {
                        inString = false
                    }
                    continue
                }
                switch byte {
                case UInt8(ascii: "\""): inString = true
                case UInt8(ascii: "["), UInt8(ascii: "{"):
                    depth += 1
                    if depth > depthLimit { return true }
                case UInt8(ascii: "]"), UInt8(ascii: "}"): depth -= 1
                default: break
                }
            }
            return false
        }
    }

    /// The error reply for `message`, when it is a request with a bad envelope; nil for every
    /// other message (a notification, a response, a good request, a value that is not an object).
    static func refusal(_ message: Value) -> String? {
        guard let object = message.objectValue, let method = object["method"], let id = object["id"] else { return nil }
        let idText: String
        switch id {
        case .string(let text): idText = quoted(text)
        case .int(let number): idText = String(number)
        default:
            return reply(
                id: "null", code: -32600,
                "Invalid Request: 'id' must be a string or an integer, not \(ToolArguments.describe(id)) "
                    + "(a notification has no 'id')")
        }
        guard let name = method.stringValue else {
            return reply(
                id: idText, code: -32600, "Invalid Request: 'method' must be a string, not \(ToolArguments.describe(method))")
        }
        guard let params = object["params"], !params.isNull else { return nil }
        guard let members = params.objectValue else {
            return reply(
                id: idText, code: -32602,
                "Invalid params: \(name) params must be an object, not \(ToolArguments.describe(params))")
        }
        if let meta = members["_meta"], !meta.isNull, meta.objectValue == nil {
            return reply(
                id: idText, code: -32602, "Invalid params: '_meta' must be an object, not \(ToolArguments.describe(meta))")
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
}
