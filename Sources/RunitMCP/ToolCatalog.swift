import MCP

/// The tools runit serves: names, descriptions written for a model, schemas and annotations.
enum ToolCatalog {
    static let name: Value = [
        "type": "string",
        "description": "The process name: 1-64 letters, digits, '.', '_' or '-'; a project's process is PROJECT/NAME.",
    ]
    static let error: Value = [
        "type": "object", "description": "Set when the call failed: a code and a message saying what to do.",
        "properties": ["code": ["type": "string"], "message": ["type": "string"]],
    ]
    static let process: Value = [
        "type": "object",
        "description": "A managed process, as `runit status` shows it.",
        "properties": [
            "name": ["type": "string"], "state": ["type": "string"], "pid": ["type": ["integer", "null"]],
            "command": ["type": ["string", "null"]], "cwd": ["type": ["string", "null"]],
            "restarts": ["type": "integer"], "exit_code": ["type": ["integer", "null"]],
            "exit_signal": ["type": ["integer", "null"]], "uptime_seconds": ["type": ["integer", "null"]],
            "log_path": ["type": "string"],
            "ports": [
                "type": "array", "items": ["type": "integer"],
                "description": "TCP ports the process or anything it started listens on (empty when none).",
            ],
            "health": [
                "type": ["object", "null"],
                "description": "Its health check's last verdict (starting, healthy, unhealthy), when it has one.",
                "properties": [
                    "status": ["type": "string"], "failures": ["type": "integer"], "checked_at": ["type": "string"],
                    "checked_seconds_ago": ["type": "integer"], "detail": ["type": "string"],
                ],
            ],
            "next_restart_in_seconds": [
                "type": ["number", "null"], "description": "In backoff: seconds until its restart policy starts it again.",
            ],
            "project": ["type": ["string", "null"], "description": "Its project, for a PROJECT/NAME process."],
            "started_by": ["type": ["string", "null"], "description": "Who started it: cli, or mcp:<client name>."],
            "argv": ["type": ["array", "null"], "items": ["type": "string"], "description": "The program and its arguments."],
            "env": [
                "type": ["object", "null"], "additionalProperties": ["type": "string"],
                "description": "The environment it was given (secrets and URL passwords masked).",
            ],
            "started_at": ["type": ["string", "null"], "description": "RFC 3339 time of its current (or last) start."],
            "restart_policy": ["type": ["string", "null"], "description": "never, on-failure or always."],
            "supervisor_pid": ["type": ["integer", "null"]],
            "cpu_seconds": ["type": ["number", "null"], "description": "CPU time of its whole tree."],
            "memory_bytes": ["type": ["integer", "null"], "description": "Resident memory of its whole tree."],
            "process_count": ["type": ["integer", "null"], "description": "Processes in its tree."],
            "message": ["type": ["string", "null"], "description": "What its supervisor last said (a restart limit reached)."],
            "problem": ["type": ["string", "null"], "description": "A problem with its files, if any."],
            "next_restart_at": ["type": ["string", "null"], "description": "In backoff: when it starts again."],
            "desired": [
                "type": ["string", "null"], "description": "What was last asked of it: running (started) or stopped.",
            ],
        ],
    ]
    static let warnings: Value = [
        "type": "array", "items": ["type": "string"],
        "description": "What to know although the start went on: a $PORT that another process (pid, command) listens on.",
    ]
    static let lines: Value = ["type": "array", "items": ["type": "string"], "description": "Output lines, ANSI codes stripped."]
    static let logLine: Value = [
        "type": "object",
        "properties": ["time": ["type": "string"], "stream": ["type": "string"], "text": ["type": "string"]],
    ]

    /// An object schema with `properties`, of which `required` must be given.
    static func object(_ properties: [String: Value], required: [String] = [], additionalProperties: Bool? = nil) -> Value {
        var schema: [String: Value] = [
            "type": "object", "properties": .object(properties), "required": .array(required.map { .string($0) }),
        ]
        if let additionalProperties { schema["additionalProperties"] = .bool(additionalProperties) }
        return .object(schema)
    }

    /// An output schema: the answer's properties, plus `error` on a failed call. Nothing is
    /// required, so that a failed call's structured content (only `error`) is valid too.
    static func output(_ properties: [String: Value]) -> Value {
        var all = properties
        all["error"] = error
        return ["type": "object", "properties": .object(all)]
    }

    static let waitFor: Value = object(
        [
            "log_regex": [
                "type": "string",
                "description": "Ready when a line of its own output (never runit's) matches this regular expression.",
            ],
            "port": [
                "type": "integer", "minimum": 1, "maximum": 65535,
                "description": "Ready when a process of its tree listens on this TCP port (another program's does not count).",
            ],
            "http": ["type": "string", "description": "Ready when this http:// URL answers 2xx or 3xx."],
            "cmd": ["type": "string", "description": "Ready when this shell command exits 0."],
            "timeout_s": [
                "type": "number", "exclusiveMinimum": 0, "maximum": 300,
                "description": "How long to wait, in seconds (default 30, at most 300).",
            ],
        ], additionalProperties: false)

    static let tools: [Tool] = coreTools + [RunitTools.signalTool, RunitTools.changeTool] + RunitTools.projectTools

    static let coreTools: [Tool] = [
        Tool(
            name: "start_process",
            title: "Start a process",
            description: """
                Start a long-running process (dev server, watcher, worker) under runit's supervision; it keeps \
                running after this call, with its output logged. Give `command` (run by /bin/sh -c) or `argv` \
                (no shell). Returns once the process is running, ready (with `wait_for`), or has already exited, \
                with the first output lines of this run (each cut at 2000 characters), so a typo is seen at once. \
                Fails with isError if the name is already running (pass `replace: true` to stop it and start the \
                new command), if the command exits early (then with its last lines), or if `cwd` does not exist. \
                An exit is only noticed in the first moments (about 200 ms, up to 1 s while it prints \
                nothing): for a command that may fail later, pass `wait_for` (a log line or port that means \
                ready) or call wait_for_process with `exit: true`. `cwd` defaults to the server's working \
                directory. `port` gives the process a TCP port as $PORT: a number, or "auto" for a free one \
                (the answer's `port` says which). When $PORT (from `port` or `env`) is a port another process \
                already listens on, the start goes on and `warnings` names that process's pid and command.
                """,
            inputSchema: object(
                [
                    "name": name,
                    "command": ["type": "string", "description": "A shell command, run with /bin/sh -c."],
                    "argv": ["type": "array", "items": ["type": "string"], "description": "Program and arguments, no shell."],
                    "cwd": ["type": "string", "description": "Working directory (default: the server's)."],
                    "env": [
                        "type": "object", "additionalProperties": ["type": "string"],
                        "description": "Extra environment variables.",
                    ],
                    "replace": ["type": "boolean", "description": "Stop a running process of this name first."],
                    "if_running": [
                        "type": "string", "enum": ["keep", "replace", "error"],
                        "description": .string(
                            "When a process of this name runs: keep (answer with it when its command, cwd and env are "
                                + "the same; an error saying what differs otherwise), replace (restart it with this spec) "
                                + "or error (the default)."),
                    ],
                    "port": [
                        "oneOf": [
                            ["type": "string", "enum": ["auto"]], ["type": "integer", "minimum": 1, "maximum": 65535],
                        ],
                        "description": "A TCP port passed as $PORT: a number, or \"auto\" for a free one.",
                    ],
                    "restart": ["type": "string", "enum": ["never", "on-failure", "always"], "description": "Restart policy."],
                    "tty": [
                        "type": "boolean",
                        "description":
                            "Run it under a pseudo-terminal (default false): programs that buffer output when it is not a terminal print line by line, colours come through, stdout and stderr are one stream, and keys such as ctrl-c work through send_process_input.",
                    ],
                    "wait_for": waitFor,
                    "health": object(
                        [
                            "cmd": ["type": "string", "description": "Healthy while this shell command exits 0."],
                            "http": ["type": "string", "description": "Healthy while this http:// URL answers 2xx or 3xx."],
                            "port": ["type": "integer", "minimum": 1, "maximum": 65535],
                            "interval_s": ["type": "number", "description": "Between checks (default 30)."],
                            "timeout_s": ["type": "number", "description": "One check's limit (default 30)."],
                            "retries": [
                                "type": "integer", "description": "Failures in a row that make it unhealthy (default 3).",
                            ],
                            "start_period_s": ["type": "number", "description": "Failures after a start that do not count."],
                        ], additionalProperties: false),
                ], required: ["name"]),
            annotations: .init(readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: false),
            outputSchema: output([
                "process": process, "output": lines, "ready": ["type": "boolean"],
                "ready_because": ["type": "string"], "ready_line": ["type": "string"], "failure": ["type": "string"],
                "warnings": warnings,
                "kept": ["type": "boolean", "description": "if_running: keep found it running with this spec."],
                "port": ["type": "integer", "description": "The port given as $PORT, when `port` asked for one."],
            ])
        ),
        Tool(
            name: "stop_process",
            title: "Stop a process",
            description: """
                Stop a process and everything it started: SIGTERM, then SIGKILL after `timeout_s` (default 10). \
                Returns when all of it is gone, with how it ended. Stopping a stopped process succeeds and says \
                it was not running. Its logs stay readable until remove_process. Fails with isError for an \
                unknown name.
                """,
            inputSchema: object(
                [
                    "name": name,
                    "timeout_s": [
                        "type": "number", "minimum": 0, "maximum": 300,
                        "description": "Grace period before SIGKILL, in seconds (default 10, at most 300).",
                    ],
                ], required: ["name"]
            ),
            annotations: .init(readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false),
            outputSchema: output(["was_running": ["type": "boolean"], "process": process])
        ),
        Tool(
            name: "restart_process",
            title: "Restart a process",
            description: """
                Stop a process if it runs, then start it again with the same command, cwd and env; the restart \
                count goes up. Use it after changing code a server does not reload by itself. Returns the new \
                pid and the first output lines of the new run, and `warnings` when its $PORT is a port another \
                process already listens on. Fails with isError for an unknown name or if it \
                exits at once (then with its last lines).
                """,
            inputSchema: object(["name": name], required: ["name"]),
            annotations: .init(readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: false),
            outputSchema: output(["process": process, "output": lines, "failure": ["type": "string"], "warnings": warnings])
        ),
        Tool(
            name: "remove_process",
            title: "Remove a process",
            description: """
                Stop a process if needed, then delete its spec, status and logs; the name is free again. Use \
                when a process and its logs are no longer wanted (stop_process keeps the logs). Returns whether \
                it was running. Fails with isError for an unknown name.
                """,
            inputSchema: object(["name": name], required: ["name"]),
            annotations: .init(readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: false),
            outputSchema: output(["name": ["type": "string"], "was_running": ["type": "boolean"], "removed": ["type": "boolean"]])
        ),
        Tool(
            name: "list_processes",
            title: "List processes",
            description: """
                List every process runit manages (started from here or from the `runit` CLI): name, state \
                (running, exited, stopped, failed, backoff, lost), pid, uptime, restarts, the TCP ports its \
                tree listens on and command. At \
                most 200, running ones first; `truncated` and `total` say when there are more. A project's                 processes are named PROJECT/NAME and carry `project`; `project` filters on it.
                """,
            inputSchema: object(
                ["project": ["type": "string", "description": "Only the processes of this project."]],
                additionalProperties: false),
            annotations: .init(readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false),
            outputSchema: output([
                "processes": ["type": "array", "items": process], "total": ["type": "integer"],
                "truncated": ["type": "boolean"],
            ])
        ),
        Tool(
            name: "get_process_status",
            title: "Process status",
            description: """
                Everything about one process: state, pid, the TCP ports its tree listens on (`ports`, so you \
                see which port a dev server chose), command, cwd, env (secrets masked), start time, uptime, \
                restarts, last exit code or signal, log path, and memory and CPU of its whole tree. \
                Use it to see whether a process is still up and how it ended. Fails with isError for an \
                unknown name (list_processes shows the names).
                """,
            inputSchema: object(["name": name], required: ["name"]),
            annotations: .init(readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false),
            outputSchema: output(["process": process])
        ),
        Tool(
            name: "get_process_logs",
            title: "Read process logs",
            description: """
                Read a process's output (stdout and stderr, in arrival order, ANSI codes stripped). Without \
                `cursor`: the last `lines` lines (default 50, at most 1000). With the `cursor` a previous call \
                returned: only what was written since, so polling never repeats a line. Filter with `grep` (a \
                regular expression; `context` lines around each match), `since` (10m, 2h or an RFC 3339 time) \
                and `stream` (out or err). Each line is cut at 2000 characters and an answer carries at most \
                about 20000; `truncated` says lines were left out (without a cursor: narrow with fewer lines, \
                grep or since; with a cursor: call again with the returned cursor). Fails with isError for an \
                unknown name, a bad regular expression, `context` without `grep`, or a cursor that did not \
                come from an earlier answer.
                """,
            inputSchema: object(
                [
                    "name": name,
                    "lines": ["type": "integer", "minimum": 1, "maximum": 1000, "description": "How many lines (default 50)."],
                    "since": ["type": "string", "description": "Only lines since: 10m, 2h, or an RFC 3339 time."],
                    "grep": ["type": "string", "description": "Only lines matching this regular expression."],
                    "context": ["type": "integer", "minimum": 0, "maximum": 20, "description": "Lines around each grep match."],
                    "stream": ["type": "string", "enum": ["out", "err"], "description": "Only one stream."],
                    "cursor": ["type": "string", "description": "Read on from where an earlier call stopped."],
                    "since_last": [
                        "type": "boolean",
                        "description": "Only what is new since this session's last read of this process (no cursor to carry).",
                    ],
                ], required: ["name"]),
            annotations: .init(readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false),
            outputSchema: output([
                "name": ["type": "string"], "lines": ["type": "array", "items": logLine], "cursor": ["type": "string"],
                "truncated": ["type": "boolean"], "state": ["type": "string"],
            ])
        ),
        Tool(
            name: "wait_for_process",
            title: "Wait for a process",
            description: """
                Wait until a log line of the current run matches `log_regex` (a line it already printed \
                counts; with `cursor` from get_process_logs, only lines after it: use that after \
                send_process_input to wait for the answer to that input), `port` accepts connections on \
                localhost, or (with `exit: true`) the process exits, whichever comes first, for at most \
                `timeout_s` seconds (default 30, at most 300). Says what happened: the matching line, the open \
                port, the exit code, or a timeout with the last lines. A process that ends while waiting is \
                reported at once. Fails with isError for an unknown name, a bad regex or a bad cursor. Sends progress \
                notifications when the request has a progress token.
                """,
            inputSchema: object(
                [
                    "name": name,
                    "log_regex": ["type": "string", "description": "A regular expression a log line should match."],
                    "cursor": ["type": "string", "description": "Only lines after this get_process_logs cursor."],
                    "port": [
                        "type": "integer", "minimum": 1, "maximum": 65535,
                        "description": "A TCP port on localhost that should accept connections.",
                    ],
                    "exit": [
                        "type": "boolean",
                        "description": "Wait for a run to end; seen even when its restart policy has already started the next.",
                    ],
                    "ready": ["type": "boolean", "description": "Wait until its readiness check passes (without one: it runs)."],
                    "healthy": ["type": "boolean", "description": "Wait until its health check passes."],
                    "timeout_s": [
                        "type": "number", "exclusiveMinimum": 0, "maximum": 300,
                        "description": "At most this many seconds (default 30, at most 300).",
                    ],
                ], required: ["name"]),
            annotations: .init(readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false),
            outputSchema: output([
                "outcome": [
                    "type": "string",
                    "enum": ["log_match", "port_open", "ready", "healthy", "unhealthy", "exited", "timeout", "cancelled"],
                ],
                "detail": ["type": "string"],
                "line": ["type": "string"], "port": ["type": "integer"], "state": ["type": "string"],
                "exit_code": ["type": ["integer", "null"]], "exit_signal": ["type": ["integer", "null"]],
                "waited_s": ["type": "number"], "last_lines": lines,
            ])
        ),
        Tool(
            name: "send_process_input",
            title: "Send input to a process",
            description: """
                Write text to a running process's stdin (a REPL, a CLI that asks a question). A newline is added \
                unless `newline` is false. `keys` follow the text, by name (ctrl-c, ctrl-d, enter, tab, esc, up, \
                down, left, right, backspace, …; under `tty` the terminal gives them their meaning, so ctrl-c \
                interrupts); `close_input: true` then ends its input (it reads end of file; under `tty`, Ctrl-D). \
                Give at least one of text, keys or close_input. Returns the number of bytes written. With `wait_for` (`regex`: until a \
                line of its output matches; or `idle_ms`: until its output has been quiet that long), it also \
                returns what the process wrote after the input (`output`, bounded; `outcome`: matched, quiet, \
                timeout or exited): a REPL turn in one call. Fails with isError \
                for an unknown name, a process that is not running, or one that does not read its input (its \
                buffer full for a second): the error says how many bytes were delivered.
                """,
            inputSchema: object(
                [
                    "name": name, "text": ["type": "string", "description": "The text to write."],
                    "newline": ["type": "boolean", "description": "Add a newline (default true)."],
                    "keys": [
                        "type": "array", "maxItems": 100, "items": ["type": "string"],
                        "description": "Keys to send after the text, by name: ctrl-c, enter, up, …",
                    ],
                    "close_input": ["type": "boolean", "description": "End its input after the rest (default false)."],
                    "wait_for": object(
                        [
                            "regex": ["type": "string", "description": "Until a line of its output matches."],
                            "idle_ms": [
                                "type": "integer", "minimum": 10, "maximum": 60000,
                                "description": "Until its output has been quiet this long.",
                            ],
                            "timeout_s": [
                                "type": "number", "exclusiveMinimum": 0, "maximum": 300,
                                "description": "How long to wait (default 30).",
                            ],
                        ], additionalProperties: false),
                ], required: ["name"]),
            annotations: .init(readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false),
            outputSchema: output([
                "name": ["type": "string"], "bytes": ["type": "integer"], "outcome": ["type": "string"],
                "closed_input": ["type": "boolean"],
                "output": lines, "truncated": ["type": "boolean"],
            ])
        ),
    ]
}
