"""End to end: `runit mcp` driven by the Python MCP client over stdio, as an assistant would."""

import jsonschema

from conftest import run

TOOLS = {
    "start_process": dict(read_only=False, destructive=True),
    "stop_process": dict(read_only=False, destructive=True, idempotent=True),
    "restart_process": dict(read_only=False, destructive=True),
    "remove_process": dict(read_only=False, destructive=True),
    "list_processes": dict(read_only=True, idempotent=True),
    "get_process_status": dict(read_only=True, idempotent=True),
    "get_process_logs": dict(read_only=True, idempotent=True),
    "wait_for_process": dict(read_only=True, idempotent=True),
    "send_process_input": dict(read_only=False, destructive=False),
    "signal_process": dict(read_only=False, destructive=True),
    "wait_for_change": dict(read_only=True, idempotent=True),
    "up_project": dict(read_only=False, destructive=True, idempotent=True),
    "down_project": dict(read_only=False, destructive=True, idempotent=True),
}

# What each tool takes (inputs, required ones) and answers (output properties besides `error`).
SHAPES = {
    "start_process": (
        {"name", "command", "argv", "cwd", "env", "replace", "if_running", "restart", "wait_for", "port", "health", "tty"},
        {"name"},
        {"process", "output", "ready", "ready_line", "ready_because", "failure", "warnings", "port", "kept"},
    ),
    "stop_process": ({"name", "timeout_s"}, {"name"}, {"was_running", "process"}),
    "restart_process": ({"name"}, {"name"}, {"process", "output", "failure", "warnings"}),
    "remove_process": ({"name"}, {"name"}, {"name", "was_running", "removed"}),
    "list_processes": ({"project"}, set(), {"processes", "total", "truncated"}),
    "signal_process": ({"name", "signal"}, {"name", "signal"}, {"name", "signal"}),
    "wait_for_change": (
        {"names", "events", "log_regex", "timeout_s"},
        set(),
        {"event", "name", "detail", "exit_code", "exit_signal", "last_lines", "waited_s"},
    ),
    "up_project": ({"dir", "names", "wait", "timeout_s"}, set(), {"project", "results"}),
    "down_project": ({"dir", "names"}, set(), {"project", "results"}),
    "get_process_status": ({"name"}, {"name"}, {"process"}),
    "get_process_logs": (
        {"name", "lines", "since", "grep", "context", "stream", "cursor", "since_last"},
        {"name"},
        {"name", "lines", "cursor", "truncated", "state"},
    ),
    "wait_for_process": (
        {"name", "log_regex", "cursor", "port", "exit", "ready", "healthy", "timeout_s"},
        {"name"},
        {"outcome", "line", "port", "state", "exit_code", "exit_signal", "waited_s", "last_lines", "detail"},
    ),
    "send_process_input": (
        {"name", "text", "newline", "keys", "close_input", "wait_for"},
        {"name"},
        {"name", "bytes", "closed_input", "outcome", "output", "truncated"},
    ),
}

# Numeric inputs and their bounds, as (tool, path to the property, minimum key, minimum, maximum).
BOUNDS = [
    ("stop_process", ["timeout_s"], "minimum", 0, 300),
    ("wait_for_process", ["timeout_s"], "exclusiveMinimum", 0, 300),
    ("wait_for_process", ["port"], "minimum", 1, 65535),
    ("get_process_logs", ["lines"], "minimum", 1, 1000),
    ("get_process_logs", ["context"], "minimum", 0, 20),
    ("start_process", ["wait_for", "timeout_s"], "exclusiveMinimum", 0, 300),
    ("start_process", ["wait_for", "port"], "minimum", 1, 65535),
]


def check_against_schema(tool, result):
    """Every answer, errors included, carries structured content valid for the output schema."""
    assert result.structured_content is not None, f"{tool.name} returned no structured content"
    jsonschema.validate(result.structured_content, tool.output_schema)
    assert result.content and result.content[0].text.strip()


async def checked_caller(session):
    """A `call(name, arguments)` that checks every answer against the tool's output schema."""
    tools = {tool.name: tool for tool in (await session.list_tools()).tools}

    async def call(name, arguments):
        result = await session.call_tool(name, arguments)
        check_against_schema(tools[name], result)
        return result

    return call


def test_tools_are_listed_with_schemas_and_annotations(runit):
    async def body():
        async with runit.session() as session:
            tools = {tool.name: tool for tool in (await session.list_tools()).tools}
            assert set(tools) == set(TOOLS)
            for name, hints in TOOLS.items():
                tool = tools[name]
                assert len(tool.description) > 80, f"{name} needs a description a model can use"
                jsonschema.Draft202012Validator.check_schema(tool.input_schema)
                jsonschema.Draft202012Validator.check_schema(tool.output_schema)
                assert tool.input_schema["type"] == "object"
                inputs, required, outputs = SHAPES[name]
                assert set(tool.input_schema["properties"]) == inputs, name
                assert set(tool.input_schema.get("required", [])) == required, name
                assert set(tool.output_schema["properties"]) == outputs | {"error"}, name
                if name != "list_processes":
                    assert "Fails with isError" in tool.description, f"{name} says how it fails"
                assert tool.annotations.read_only_hint is hints["read_only"]
                if "destructive" in hints:
                    assert tool.annotations.destructive_hint is hints["destructive"]
                if "idempotent" in hints:
                    assert tool.annotations.idempotent_hint is hints["idempotent"]
            wait_for = tools["start_process"].input_schema["properties"]["wait_for"]
            assert set(wait_for["properties"]) == {"log_regex", "port", "http", "cmd", "timeout_s"}
            assert wait_for["additionalProperties"] is False
            for name, path, low_key, low, high in BOUNDS:
                schema = tools[name].input_schema
                for key in path:
                    schema = schema["properties"][key]
                assert (schema[low_key], schema["maximum"]) == (low, high), (name, path)

    run(body)


def test_a_dev_server_session(runit):
    """Start a server that becomes ready after a delay, wait for it, read its logs with and
    without a cursor, restart it, stop it; the CLI sees what MCP started."""

    async def body():
        async with runit.session() as session:
            call = await checked_caller(session)

            script = "echo booting; sleep 1; echo 'listening on 8080'; while read l; do echo \"got $l\"; done"
            started = await call("start_process", {"name": "web", "command": script})
            assert not started.is_error, started.content[0].text
            assert started.structured_content["process"]["state"] == "running"
            assert started.structured_content["process"]["cwd"] == str(runit.work)

            waited = await call("wait_for_process", {"name": "web", "log_regex": "listening on \\d+", "timeout_s": 20})
            assert not waited.is_error
            assert waited.structured_content["outcome"] == "log_match"
            assert waited.structured_content["line"] == "listening on 8080"

            logs = await call("get_process_logs", {"name": "web"})
            texts = [line["text"] for line in logs.structured_content["lines"]]
            assert "booting" in texts and "listening on 8080" in texts
            cursor = logs.structured_content["cursor"]

            sent = await call("send_process_input", {"name": "web", "text": "hello"})
            assert sent.structured_content["bytes"] == 6
            await call("wait_for_process", {"name": "web", "log_regex": "got hello", "timeout_s": 10})
            newer = await call("get_process_logs", {"name": "web", "cursor": cursor})
            assert [line["text"] for line in newer.structured_content["lines"]] == ["got hello"]
            again = await call("get_process_logs", {"name": "web", "cursor": newer.structured_content["cursor"]})
            assert again.structured_content["lines"] == []

            # After input, wait for its answer from a cursor: an earlier answer does not count.
            mark = newer.structured_content["cursor"]
            await call("send_process_input", {"name": "web", "text": "second"})
            answer = await call("wait_for_process", {"name": "web", "log_regex": "^got", "cursor": mark, "timeout_s": 10})
            assert answer.structured_content["line"] == "got second"

            grep = await call("get_process_logs", {"name": "web", "grep": "^got hello", "stream": "out"})
            assert [line["text"] for line in grep.structured_content["lines"]] == ["got hello"]

            listed = runit.cli_json("list")
            assert [(p["name"], p["state"]) for p in listed] == [("web", "running")]

            restarted = await call("restart_process", {"name": "web"})
            assert not restarted.is_error
            assert restarted.structured_content["process"]["restarts"] == 1

            status = await call("get_process_status", {"name": "web"})
            assert status.structured_content["process"]["restarts"] == 1
            assert status.structured_content["process"]["memory_bytes"] > 0

            stopped = await call("stop_process", {"name": "web"})
            assert stopped.structured_content["was_running"] is True
            assert stopped.structured_content["process"]["state"] == "stopped"
            assert runit.cli_json("status", "web")["state"] == "stopped"
            kept = await call("get_process_logs", {"name": "web"})
            assert any(line["text"] == "got hello" for line in kept.structured_content["lines"]), "logs outlive a stop"

            removed = await call("remove_process", {"name": "web"})
            assert removed.structured_content["removed"] is True
            assert runit.cli_json("list") == []

    run(body)


def test_start_waits_for_a_port_and_reports_early_failures(runit):
    async def body():
        async with runit.session() as session:
            call = await checked_caller(session)

            server = "import socket,time; time.sleep(0.5); s=socket.socket(); s.bind(('127.0.0.1',0)); print(s.getsockname()[1], flush=True); s.listen(); time.sleep(300)"
            started = await call("start_process", {"name": "srv", "argv": ["python3", "-c", server], "wait_for": {"log_regex": "^\\d+$", "timeout_s": 20}})
            assert started.structured_content["ready"] is True
            port = int(started.structured_content["ready_line"])
            opened = await call("wait_for_process", {"name": "srv", "port": port, "timeout_s": 10})
            assert opened.structured_content["outcome"] == "port_open"

            typo = await call("start_process", {"name": "typo", "command": "no-such-program-xyz --serve"})
            assert typo.is_error
            assert "exited with code 127" in typo.content[0].text
            assert any("not found" in line for line in typo.structured_content["output"])

            crash = await call("start_process", {"name": "crash", "command": "sleep 0.5; echo fatal: bad config >&2; exit 3", "wait_for": {"log_regex": "ready", "timeout_s": 20}})
            assert crash.is_error
            assert "exited with code 3" in crash.content[0].text

            exited = await call("wait_for_process", {"name": "crash", "exit": True, "timeout_s": 5})
            assert exited.structured_content["outcome"] == "exited"
            assert exited.structured_content["exit_code"] == 3

            timeout = await call("wait_for_process", {"name": "srv", "log_regex": "never printed", "timeout_s": 1})
            assert timeout.structured_content["outcome"] == "timeout"
            assert timeout.structured_content["last_lines"] == [str(port)]

    run(body)


def test_ports_in_answers_port_auto_and_a_taken_port(runit):
    """A server on port 0 shows its port in status and list; `port: "auto"` gives a free $PORT;
    a $PORT another process holds gets a warning naming it. Every answer fits its schema."""

    async def body():
        async with runit.session() as session:
            call = await checked_caller(session)

            server = "import os,socket,time; s=socket.socket(); s.bind(('127.0.0.1',int(os.environ.get('PORT','0')))); s.listen(); print(s.getsockname()[1], flush=True); time.sleep(300)"
            started = await call("start_process", {"name": "srv", "argv": ["python3", "-c", server], "wait_for": {"log_regex": "^\\d+$", "timeout_s": 20}})
            port = int(started.structured_content["ready_line"])
            assert started.structured_content["warnings"] == []
            status = await call("get_process_status", {"name": "srv"})
            assert status.structured_content["process"]["ports"] == [port]
            listed = await call("list_processes", {})
            assert listed.structured_content["processes"][0]["ports"] == [port]
            assert runit.cli_json("status", "srv")["ports"] == [port]

            taken = await call("start_process", {"name": "web", "command": "exec sleep 300", "env": {"PORT": str(port)}})
            assert not taken.is_error
            pid = status.structured_content["process"]["pid"]
            assert f"port {port} is already in use by pid {pid} (" in taken.structured_content["warnings"][0]

            auto = await call("start_process", {"name": "auto", "argv": ["python3", "-c", server], "port": "auto", "wait_for": {"log_regex": "^\\d+$", "timeout_s": 20}})
            assert auto.structured_content["ready_line"] == str(auto.structured_content["port"])
            assert auto.structured_content["process"]["env"]["PORT"] == auto.structured_content["port"].__str__()

            restarted = await call("restart_process", {"name": "web"})
            assert len(restarted.structured_content["warnings"]) == 1

    run(body)


def test_errors_come_back_as_is_error_with_the_cli_message(runit):
    async def body():
        async with runit.session() as session:
            tools = {tool.name: tool for tool in (await session.list_tools()).tools}

            async def error(name, arguments, expected):
                result = await session.call_tool(name, arguments)
                check_against_schema(tools[name], result)
                assert result.is_error, f"{name} {arguments} should fail"
                assert expected in result.content[0].text, result.content[0].text
                assert expected in result.structured_content["error"]["message"]
                return result

            await error("get_process_status", {"name": "ghost"}, "no process named 'ghost'")
            await error("start_process", {"name": "../x", "command": "true"}, "letters, digits")
            await error("start_process", {"name": "x"}, "needs 'command'")
            await error("start_process", {"name": "x", "command": "true", "cwd": "/no/such/dir"}, "does not exist")
            await error("get_process_status", {}, "needs 'name'")
            await error("get_process_status", {"name": 42}, "must be a string")
            await error("list_processes", {"bogus": 1}, "has no argument 'bogus'")
            await error("wait_for_process", {"name": "ghost", "exit": True, "timeout_s": 1000}, "at most 300")

            first = await session.call_tool("start_process", {"name": "dup", "argv": ["sleep", "300"]})
            assert not first.is_error
            await error("start_process", {"name": "dup", "argv": ["sleep", "100"]}, "already running")
            await error("get_process_logs", {"name": "dup", "lines": "ten"}, "must be a whole number")
            await error("get_process_logs", {"name": "dup", "lines": 5000}, "1 to 1000")
            await error("get_process_logs", {"name": "dup", "grep": "(["}, "not a valid regular expression")
            await error("get_process_logs", {"name": "dup", "cursor": "nonsense"}, "not a cursor")
            replaced = await session.call_tool("start_process", {"name": "dup", "argv": ["sleep", "200"], "replace": True})
            assert not replaced.is_error
            assert replaced.structured_content["process"]["command"] == "sleep 200"

            unknown = await session.call_tool("no_such_tool", {})
            assert unknown.is_error

            # The server is still healthy after all of that.
            listed = await session.call_tool("list_processes", {})
            assert [p["name"] for p in listed.structured_content["processes"]] == ["dup"]

    run(body)


def test_processes_outlive_the_server_and_the_next_server_sees_them(runit):
    async def body():
        async with runit.session() as session:
            started = await session.call_tool("start_process", {"name": "keeper", "argv": ["sleep", "300"]})
            pid = started.structured_content["process"]["pid"]
        # The client closed stdin: the server exited, the process lives on.
        assert runit.cli_json("status", "keeper")["pid"] == pid
        async with runit.session() as session:
            status = await session.call_tool("get_process_status", {"name": "keeper"})
            assert status.structured_content["process"]["pid"] == pid
            assert status.structured_content["process"]["state"] == "running"

    run(body)


def test_processes_started_from_the_cli_are_seen_and_driven_from_mcp(runit):
    started = runit.cli("start", "--name", "repl", "--command", "echo ready; exec cat")
    assert started.returncode == 0, started.stderr

    async def body():
        async with runit.session() as session:
            call = await checked_caller(session)
            listed = await call("list_processes", {})
            assert [(p["name"], p["state"]) for p in listed.structured_content["processes"]] == [("repl", "running")]
            assert listed.structured_content["processes"][0]["command"] == "echo ready; exec cat"

            await call("wait_for_process", {"name": "repl", "log_regex": "^ready$", "timeout_s": 10})
            mark = (await call("get_process_logs", {"name": "repl"})).structured_content["cursor"]
            sent = await call("send_process_input", {"name": "repl", "text": "from mcp"})
            assert not sent.is_error, sent.content[0].text
            echoed = await call("wait_for_process", {"name": "repl", "log_regex": "^from mcp$", "cursor": mark, "timeout_s": 10})
            assert echoed.structured_content["outcome"] == "log_match"

            stopped = await call("stop_process", {"name": "repl", "timeout_s": 5})
            assert stopped.structured_content["was_running"] is True
            refused = await call("send_process_input", {"name": "repl", "text": "late"})
            assert refused.is_error
        # And back: the CLI sees what MCP did.
        assert runit.cli_json("status", "repl")["state"] == "stopped"

    run(body)
