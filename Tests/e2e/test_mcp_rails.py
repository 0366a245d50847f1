"""End to end: the guard rails of the person who runs the server, and who started what."""

import contextlib
import os

from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

from conftest import RUNIT, run


@contextlib.asynccontextmanager
async def session(runit, *args, env=None):
    params = StdioServerParameters(
        command=RUNIT, args=["mcp", *args], env=dict(runit.env, **(env or {})), cwd=str(runit.work)
    )
    async with stdio_client(params) as (read, write):
        async with ClientSession(read, write) as client:
            await client.initialize()
            yield client


def test_allow_dir_deny_command_and_max_processes(runit):
    outside = runit.base / "outside"
    outside.mkdir()
    os.symlink(outside, runit.work / "escape")
    (runit.work / "inside").mkdir()

    async def body():
        async with session(runit, "--allow-dir", str(runit.work), "--deny-command", r"rm\s+-rf", "--max-processes", "1") as s:
            refused = await s.call_tool("start_process", {"name": "a", "command": "sleep 300", "cwd": str(outside)})
            assert refused.is_error and "outside the directories" in refused.content[0].text
            linked = await s.call_tool("start_process", {"name": "a", "command": "sleep 300", "cwd": "escape"})
            assert linked.is_error and "outside the directories" in linked.content[0].text, "a link escaped --allow-dir"
            denied = await s.call_tool("start_process", {"name": "a", "command": "rm  -rf /tmp/x"})
            assert denied.is_error and "--deny-command" in denied.content[0].text
            denied_argv = await s.call_tool("start_process", {"name": "a", "argv": ["rm", "-rf", "x"]})
            assert denied_argv.is_error
            ok = await s.call_tool("start_process", {"name": "a", "command": "sleep 300", "cwd": "inside"})
            assert not ok.is_error, ok.content[0].text
            assert ok.structured_content["process"]["started_by"].startswith("mcp:")
            second = await s.call_tool("start_process", {"name": "b", "command": "sleep 300"})
            assert second.is_error and "--max-processes 1" in second.content[0].text
        assert runit.cli("status", "b").returncode != 0, "a refused start left an entry"

    run(body)
    shown = runit.cli("status", "a")
    assert "started by: mcp:" in shown.stdout, shown.stdout
    runit.cli("start", "c", "--", "sleep", "300")
    assert runit.cli_json("status", "c")["started_by"] == "cli"


def test_rails_hold_for_check_commands_restarts_and_refused_input(runit):
    """Found by a hostile pass: a readiness or health command ran past --deny-command; a
    restart of a running process ran its command outside --allow-dir; and a send whose
    wait_for was refused had already sent its text."""
    outside = runit.base / "outside"
    outside.mkdir()
    marker = runit.base / "ran"
    runit.cli("start", "out", "--cwd", str(outside), "--", "sleep", "300")
    pid = runit.cli_json("status", "out")["pid"]
    (runit.work / "project").mkdir()
    (runit.work / "project" / "runit.yaml").write_text(
        "processes:\n  web:\n    command: sleep 300\n    ready_cmd: touch " + str(marker) + "\n"
    )

    async def body():
        async with session(runit, "--allow-dir", str(runit.work), "--deny-command", "^touch") as s:
            for policy in ({"wait_for": {"cmd": "touch " + str(marker)}}, {"health": {"cmd": "touch " + str(marker)}}):
                refused = await s.call_tool("start_process", {"name": "p", "command": "sleep 300", **policy})
                assert refused.is_error and "--deny-command" in refused.content[0].text, refused.content[0].text
            project = await s.call_tool("up_project", {"dir": str(runit.work / "project")})
            assert project.is_error or "--deny-command" in project.content[0].text, project.content[0].text
            restarted = await s.call_tool("restart_process", {"name": "out"})
            assert restarted.is_error and "outside the directories" in restarted.content[0].text
            ok = await s.call_tool("start_process", {"name": "cat", "command": "exec cat"})
            assert not ok.is_error, ok.content[0].text
            bad = await s.call_tool(
                "send_process_input", {"name": "cat", "text": "MARK", "wait_for": {"regex": "x", "timeout_s": -1}}
            )
            assert bad.is_error and "timeout_s" in bad.content[0].text

    run(body)
    assert not marker.exists(), "a denied check command ran"
    assert runit.cli_json("status", "out")["pid"] == pid, "the refused restart restarted it"
    assert "MARK" not in runit.cli("logs", "cat").stdout, "a refused send sent its text"


def test_max_processes_holds_for_a_project_and_for_starts_at_once(runit):
    """Starts at the same time (a project's independent ones, or several calls in flight)
    cannot each see room for one more."""
    import asyncio

    project = runit.work / "five"
    project.mkdir()
    (project / "runit.yaml").write_text(
        "processes:\n" + "".join(f"  p{i}: exec sleep {300 + i}\n" for i in range(5))
    )

    async def body():
        async with session(runit, "--max-processes", "2") as s:
            up = await s.call_tool("up_project", {"dir": str(project)})
            assert up.is_error, up.content[0].text
            results = up.structured_content["results"]
            assert sum(r["result"] == "started" for r in results) == 2, results
            assert sum("--max-processes 2" in (r.get("error") or "") for r in results) == 3, results
            down = await s.call_tool("down_project", {"dir": str(project)})
            assert not down.is_error, down.content[0].text
            starts = [
                s.call_tool("start_process", {"name": f"s{i}", "command": "sleep 300"}) for i in range(5)
            ]
            answers = await asyncio.gather(*starts)
            assert sum(not a.is_error for a in answers) == 2, [a.content[0].text for a in answers]
            started = [f"s{i}" for i, a in enumerate(answers) if not a.is_error]
            await s.call_tool("stop_process", {"name": started[0]})
            other = await s.call_tool("start_process", {"name": "late", "command": "sleep 300"})
            assert not other.is_error, other.content[0].text
            restarted = await s.call_tool("restart_process", {"name": started[0]})
            assert restarted.is_error and "--max-processes 2" in restarted.content[0].text
        running = [p for p in runit.cli_json("list") if p["state"] == "running"]
        assert len(running) == 2, running

    run(body)


def test_the_server_executable_refuses_arguments_it_would_ignore(runit):
    import subprocess

    server = os.path.join(os.path.dirname(RUNIT), "runit-mcp")
    result = subprocess.run([server, "--read-only"], input="", env=runit.env, capture_output=True, text=True, timeout=30)
    assert result.returncode == 2 and "runit mcp --read-only" in result.stderr, result.stderr


def test_read_only_lists_and_serves_only_tools_that_change_nothing(runit):
    async def body():
        async with session(runit, env={"RUNIT_MCP_READ_ONLY": "1"}) as s:
            tools = {tool.name: tool for tool in (await s.list_tools()).tools}
            assert tools and all(tool.annotations.read_only_hint for tool in tools.values())
            assert "start_process" not in tools
            refused = await s.call_tool("start_process", {"name": "a", "command": "sleep 1"})
            assert refused.is_error and "read-only" in refused.content[0].text

    run(body)


def test_a_bad_rail_is_refused_at_start(runit):
    import subprocess

    result = subprocess.run(
        [RUNIT, "mcp", "--deny-command", "(unclosed"], input="", env=runit.env, capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 2 and "not a valid regular expression" in result.stderr
    for args, said in (
        (["--deny-command", ""], "an empty one would refuse nothing"),
        (["--allow-dir", ""], "an empty one would refuse nothing"),
        (["--max-processes", "-1"], "max"),
    ):
        result = subprocess.run([RUNIT, "mcp", *args], input="", env=runit.env, capture_output=True, text=True, timeout=30)
        assert result.returncode == 2 and said in result.stderr.lower() and "missing value" not in result.stderr.lower(), (
            args,
            result.stderr,
        )


def test_read_only_from_the_environment_fails_closed(runit):
    import subprocess

    async def body():
        # "false" is a clear off: the server stays writable, as it was asked.
        for value, writable in (("false", True), ("TRUE", False), ("0", True), ("yes", False)):
            async with session(runit, env={"RUNIT_MCP_READ_ONLY": value}) as s:
                names = {tool.name for tool in (await s.list_tools()).tools}
                assert ("start_process" in names) == writable, (value, names)

    run(body)
    # A value that is neither is refused: a rail never turns off (or on) by a guess.
    server = os.path.join(os.path.dirname(RUNIT), "runit-mcp")
    env = dict(runit.env, RUNIT_MCP_READ_ONLY="maybe")
    result = subprocess.run([server], input="", env=env, capture_output=True, text=True, timeout=30)
    assert result.returncode == 2 and "RUNIT_MCP_READ_ONLY 'maybe' is not a switch" in result.stderr, result.stderr
