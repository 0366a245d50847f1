import Foundation
import MCP
import RunitCore
import RunitKit
import RunitProject

/// `up_project` and `down_project`: a project's processes in one call.
extension RunitTools {
    static let projectTools: [Tool] = [
        Tool(
            name: "up_project",
            title: "Bring a project up",
            description: """
                Start the processes of a project file (runit.yaml, or a Procfile with its .env) in dependency \
                order: each once its dependencies' conditions hold (started, ready, healthy, \
                completed_successfully), independent ones at the same time. One that runs with the same spec \
                is left alone; one whose spec changed is restarted. `dir` is where the file is looked for, \
                upwards (default: the server's working directory). Answers what happened to each process; a \
                failure says why with its last lines, and makes the answer isError. Processes are named \
                PROJECT/NAME in the other tools. Fails with isError when no project file is found or it has \
                problems (each with its line and column); then nothing starts.
                """,
            inputSchema: ToolCatalog.object(
                [
                    "dir": ["type": "string", "description": "Where to look for the project file (default: the server's cwd)."],
                    "names": [
                        "type": "array", "items": ["type": "string"],
                        "description": "Only these processes, with what they depend on (default: all).",
                    ],
                    "wait": ["type": "boolean", "description": "Also wait until each one with a readiness check is ready."],
                    "timeout_s": [
                        "type": "number", "exclusiveMinimum": 0, "maximum": 600,
                        "description": "How long to wait for dependencies and readiness (default 120).",
                    ],
                ], additionalProperties: false),
            annotations: .init(readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false),
            outputSchema: ToolCatalog.output(["project": ["type": "string"], "results": projectResults])
        ),
        Tool(
            name: "down_project",
            title: "Take a project down",
            description: """
                Stop the processes of a project (the file found from `dir` upwards, default the server's working \
                directory), those that depend on others first. With `names`, those and what depends on them. \
                They stay listed, stopped. Fails with isError when no project file is found, or a stop fails.
                """,
            inputSchema: ToolCatalog.object(
                [
                    "dir": ["type": "string", "description": "Where to look for the project file (default: the server's cwd)."],
                    "names": [
                        "type": "array", "items": ["type": "string"],
                        "description": "Only these processes, with what depends on them (default: all).",
                    ],
                ], additionalProperties: false),
            annotations: .init(readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false),
            outputSchema: ToolCatalog.output(["project": ["type": "string"], "results": projectResults])
        ),
    ]

    static let projectResults: Value = [
        "type": "array",
        "items": [
            "type": "object",
            "properties": [
                "name": ["type": "string"], "result": ["type": "string"], "error": ["type": "string"],
                "last_lines": ["type": "array", "items": ["type": "string"]], "pid": ["type": "integer"],
            ],
        ],
    ]

    func project(_ arguments: ToolArguments) throws(RunitError) -> Project {
        let dir = try arguments.string("dir").map { RunitContext.absolute($0, from: registry.context.workingDirectory) }
        // A mistyped folder must not bring up (or down) the project of a folder above it.
        if let dir, dir.utf8.contains(0) || !ByteText.isDirectory(dir) {
            throw RunitError(.invalidInput, "'dir' \(LogText.visible(dir)) is not a folder; give the project's folder")
        }
        return try ProjectLoader.locate(file: nil, from: dir ?? registry.context.workingDirectory)
    }

    func up(_ arguments: ToolArguments) throws(RunitError) -> ToolAnswer {
        let project = try project(arguments)
        // Checked before anything starts: a timeout of 1e16 s crashed the server.
        let timeoutMillis = try arguments.timeoutMillis(default: 120, most: 600)
        var runner = ProjectRunner(registry: registry, project: project)
        runner.startedBy = client.startedBy
        let (rails, registry) = (rails, registry)
        runner.admit = { request in
            do throws(RunitError) {
                try rails.check(request, registry: registry)
                return nil
            } catch {
                return error.message
            }
        }
        // Each admitted start stays counted until the whole `up` is over.
        defer { rails.admitted.release(project.processes.map { $0.fullName(in: project.name) }) }
        let results = try runner.up(
            try arguments.strings("names") ?? [], wait: try arguments.bool("wait") ?? false,
            timeoutMillis: timeoutMillis)
        return projectAnswer(project, results)
    }

    func down(_ arguments: ToolArguments) throws(RunitError) -> ToolAnswer {
        let project: Project
        do {
            project = try self.project(arguments)
        } catch {
            // A file broken or gone since `up`: what `up` recorded of the project there is taken down.
            // Only the folder given (a mistyped one must not reach a project above it), or from the server's own upwards.
            let here = registry.context.workingDirectory
            let given = try arguments.string("dir").map { RunitContext.absolute($0, from: here) }
            guard !(given ?? "").utf8.contains(0),
                let recorded = ProjectRunner.recorded(registry, from: given ?? here, upwards: given == nil)
            else { throw error }
            project = recorded
        }
        let results = try ProjectRunner(registry: registry, project: project).down(
            try arguments.strings("names") ?? [], graceMillis: nil)
        return projectAnswer(project, results)
    }

    /// Each process's line, bounded; isError when any failed.
    private func projectAnswer(_ project: Project, _ results: [ProjectResult]) -> ToolAnswer {
        var bounded = results
        for index in bounded.indices {
            bounded[index].error = bounded[index].error.map(AnswerText.line)
            bounded[index].lastLines = AnswerText.fit(bounded[index].lastLines.map(AnswerText.line), fromEnd: true).lines
        }
        var text = bounded.map { result in
            var line = "\(result.name): \(result.result)"
            if let pid = result.pid, pid > 0 { line += " (pid \(pid))" }
            if let error = result.error { line += ": \(error)" }
            if !result.lastLines.isEmpty { line += "\noutput:\n" + result.lastLines.map { "  " + $0 }.joined(separator: "\n") }
            return line
        }
        .joined(separator: "\n")
        if text.isEmpty { text = "nothing of project '\(project.name)' is running" }
        return ToolAnswer(
            text: text, structured: ["project": .string(project.name), "results": encode(bounded)],
            isError: bounded.contains { !$0.succeeded })
    }
}
