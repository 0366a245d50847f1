import Foundation
import MCP
import RunitCore
import RunitKit

/// The processes as MCP resources: `runit://processes` (the list), and for each process
/// `runit://processes/{name}` (its status) and `runit://processes/{name}/logs` (its last lines).
/// A project's name `shop/web` is written `shop%2Fweb` in a URI, as RFC 6570 expands `{name}`.
enum ResourceURI: Hashable, Sendable {
    case list
    case status(String)
    case logs(String)

    static let listText = "runit://processes"
    private static let prefix = listText + "/"

    /// The URI as a client sees it.
    var text: String {
        switch self {
        case .list: return Self.listText
        case .status(let name): return Self.prefix + Self.encode(name)
        case .logs(let name): return Self.prefix + Self.encode(name) + "/logs"
        }
    }

    /// The process the URI is about; nil for the list.
    var name: String? {
        switch self {
        case .list: return nil
        case .status(let name), .logs(let name): return name
        }
    }

    /// Reads a URI; throws an error that says which URIs there are.
    init(_ text: String) throws(MCPError) {
        if text == Self.listText {
            self = .list
            return
        }
        guard text.hasPrefix(Self.prefix) else { throw Self.unknown(text) }
        var rest = String(text.dropFirst(Self.prefix.count))
        var logs = false
        if rest.hasSuffix("/logs") {
            rest.removeLast("/logs".count)
            logs = true
        }
        guard let name = rest.removingPercentEncoding, ProcessName(name) != nil else { throw Self.unknown(text) }
        self = logs ? .logs(name) : .status(name)
    }

    private static func unknown(_ text: String) -> MCPError {
        .invalidParams(
            "'\(text.prefix(200))' is not a runit resource; they are runit://processes, runit://processes/{name} "
                + "and runit://processes/{name}/logs (a project's 'shop/web' written shop%2Fweb)")
    }

    private static func encode(_ name: String) -> String {
        name.replacingOccurrences(of: "/", with: "%2F")
    }
}

/// Lists and reads the resources, from the same reports as the tools.
struct ResourceCatalog: Sendable {
    let tools: RunitTools

    static let templates: [Resource.Template] = [
        Resource.Template(
            uriTemplate: "runit://processes/{name}", name: "process",
            title: "A process's status",
            description: """
                The status of one process as JSON (state, pid, ports, health, restarts, last exit), as \
                get_process_status answers. Subscribe to hear when it starts, becomes ready, exits, crashes, is \
                restarted or turns unhealthy.
                """,
            mimeType: "application/json"),
        Resource.Template(
            uriTemplate: "runit://processes/{name}/logs", name: "process-logs",
            title: "A process's last log lines",
            description: "The last 100 lines of a process's output. Subscribe to hear when it writes more.",
            mimeType: "text/plain"),
    ]

    /// The list, then each process's status and logs.
    func list() throws(MCPError) -> [Resource] {
        var resources = [
            Resource(
                name: "processes", uri: ResourceURI.list.text, title: "Every process",
                description: "Every process runit knows, as list_processes answers; updated when any of them changes.",
                mimeType: "application/json")
        ]
        let names: [String]
        do { names = try tools.registry.names() } catch { throw MCPError.internalError(error.message) }
        for name in names.prefix(tools.maxListed) {
            resources.append(
                Resource(name: name, uri: ResourceURI.status(name).text, title: "\(name): status", mimeType: "application/json"))
            resources.append(
                Resource(
                    name: name + " logs", uri: ResourceURI.logs(name).text, title: "\(name): last lines", mimeType: "text/plain"))
        }
        return resources
    }

    /// The contents of one resource; an unknown process is an error that names the closest one.
    func read(_ text: String) throws(MCPError) -> [Resource.Content] {
        let uri = try ResourceURI(text)
        let answer: ToolAnswer
        do throws(RunitError) {
            switch uri {
            case .list:
                answer = try tools.list(nil)
                return [.text(Self.json(.object(answer.structured)), uri: text, mimeType: "application/json")]
            case .status(let name):
                answer = try tools.status(try Self.arguments(["name": .string(name)], tool: "get_process_status"))
                return [.text(Self.json(answer.structured["process"] ?? .null), uri: text, mimeType: "application/json")]
            case .logs(let name):
                let arguments = try Self.arguments(["name": .string(name), "lines": 100], tool: "get_process_logs")
                answer = try tools.logs(arguments)
                return [.text(answer.text, uri: text, mimeType: "text/plain")]
            }
        } catch {
            throw MCPError.serverError(code: error.code == .notFound ? -32002 : -32602, message: error.message)
        }
    }

    private static func arguments(_ values: [String: Value], tool name: String) throws(RunitError) -> ToolArguments {
        guard let tool = ToolCatalog.tools.first(where: { $0.name == name }) else {
            throw RunitError(.invalidInput, "no tool \(name)")
        }
        return try ToolArguments(values, tool: tool)
    }

    static func json(_ value: Value) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(value) else { return "null" }
        return String(decoding: data, as: UTF8.self)
    }
}
