"""End to end: reusing a running process, reading only what is new, and signalling a process."""

from conftest import run

ECHO = "echo ready; while read line; do echo \"got $line\"; done"
RELOADER = "trap 'echo reloaded' HUP; echo up; while true; do sleep 0.1; done"


def texts(answer):
    return [line["text"] for line in answer.structured_content["lines"]]


def test_if_running_keep_replace_and_error(runit):
    async def body():
        async with runit.session() as session:
            first = await session.call_tool("start_process", {"name": "dev", "command": "sleep 300"})
            assert not first.is_error, first.content[0].text
            pid = first.structured_content["process"]["pid"]
            kept = await session.call_tool("start_process", {"name": "dev", "command": "sleep 300", "if_running": "keep"})
            assert not kept.is_error and kept.structured_content["kept"] is True, kept.content[0].text
            assert kept.structured_content["process"]["pid"] == pid, "keep started a second copy"
            other = await session.call_tool("start_process", {"name": "dev", "command": "sleep 301", "if_running": "keep"})
            assert other.is_error and "running with another command" in other.content[0].text
            refused = await session.call_tool("start_process", {"name": "dev", "command": "sleep 300"})
            assert refused.is_error and "already running" in refused.content[0].text
            replaced = await session.call_tool(
                "start_process", {"name": "dev", "command": "sleep 301", "if_running": "replace"}
            )
            assert not replaced.is_error, replaced.content[0].text
            assert replaced.structured_content["process"]["pid"] != pid

    run(body)


def test_since_last_returns_only_what_is_new_without_gaps_or_repeats(runit):
    async def body():
        async with runit.session() as session:
            await session.call_tool(
                "start_process", {"name": "repl", "command": ECHO, "wait_for": {"log_regex": "^ready$"}}
            )
            first = await session.call_tool("get_process_logs", {"name": "repl", "since_last": True})
            assert "ready" in texts(first)
            seen = []
            for word in ["a", "b", "c"]:
                await session.call_tool("send_process_input", {"name": "repl", "text": word})
                await session.call_tool(
                    "wait_for_process", {"name": "repl", "log_regex": f"^got {word}$", "timeout_s": 10}
                )
                answer = await session.call_tool("get_process_logs", {"name": "repl", "since_last": True})
                seen += [t for t in texts(answer) if t.startswith("got")]
            assert seen == ["got a", "got b", "got c"], seen
            empty = await session.call_tool("get_process_logs", {"name": "repl", "since_last": True})
            assert texts(empty) == []
            both = await session.call_tool("get_process_logs", {"name": "repl", "since_last": True, "cursor": "x"})
            assert both.is_error and "not both" in both.content[0].text

    run(body)


def test_signal_process_reloads_without_a_restart(runit):
    async def body():
        async with runit.session() as session:
            started = await session.call_tool(
                "start_process", {"name": "srv", "command": RELOADER, "wait_for": {"log_regex": "^up$"}}
            )
            pid = started.structured_content["process"]["pid"]
            sent = await session.call_tool("signal_process", {"name": "srv", "signal": "HUP"})
            assert not sent.is_error, sent.content[0].text
            waited = await session.call_tool("wait_for_process", {"name": "srv", "log_regex": "^reloaded$", "timeout_s": 10})
            assert waited.structured_content["outcome"] == "log_match"
            status = await session.call_tool("get_process_status", {"name": "srv"})
            assert status.structured_content["process"]["pid"] == pid, "a signal restarted it"
            bad = await session.call_tool("signal_process", {"name": "srv", "signal": "KILL"})
            assert bad.is_error
            await session.call_tool("stop_process", {"name": "srv"})
            stopped = await session.call_tool("signal_process", {"name": "srv", "signal": "INT"})
            assert stopped.is_error and "not running" in stopped.content[0].text

    run(body)
    shown = runit.cli("signal", "srv", "HUP")
    assert shown.returncode == 1 and "not running" in shown.stderr


def test_a_repl_turn_in_one_call(runit):
    repl = "import sys\nprint('>>>', flush=True)\nfor line in sys.stdin:\n    print(eval(line), flush=True)\n    print('>>>', flush=True)\n"

    async def body():
        async with runit.session() as session:
            started = await session.call_tool(
                "start_process", {"name": "py", "argv": ["python3", "-c", repl], "wait_for": {"log_regex": "^>>>$"}}
            )
            assert not started.is_error, started.content[0].text
            turn = await session.call_tool(
                "send_process_input", {"name": "py", "text": "6 * 7", "wait_for": {"regex": "^42$", "timeout_s": 10}}
            )
            assert not turn.is_error, turn.content[0].text
            assert turn.structured_content["outcome"] == "matched"
            assert turn.structured_content["output"][0] == "42"
            quiet = await session.call_tool(
                "send_process_input", {"name": "py", "text": "'a' * 3", "wait_for": {"idle_ms": 300, "timeout_s": 10}}
            )
            assert quiet.structured_content["outcome"] == "quiet"
            assert quiet.structured_content["output"] == ["aaa", ">>>"], quiet.structured_content
            crash = await session.call_tool(
                "send_process_input", {"name": "py", "text": "1/0", "wait_for": {"regex": "^never$", "timeout_s": 10}}
            )
            assert crash.is_error and crash.structured_content["outcome"] == "exited"
            assert any("ZeroDivisionError" in line for line in crash.structured_content["output"])

    run(body)


def test_wait_for_change_returns_at_a_background_crash(runit):
    async def body():
        async with runit.session() as session:
            await session.call_tool("start_process", {"name": "calm", "command": "sleep 300"})
            await session.call_tool(
                "start_process",
                {"name": "server", "command": "echo listening; sleep 2; echo out of memory >&2; exit 3", "restart": "on-failure"},
            )
            crash = await session.call_tool("wait_for_change", {"timeout_s": 30})
            assert not crash.is_error, crash.content[0].text
            assert crash.structured_content["event"] == "crash", crash.structured_content
            assert crash.structured_content["name"] == "server"
            assert crash.structured_content["exit_code"] == 3
            assert crash.structured_content["last_lines"][-1] == "out of memory"
            restart = await session.call_tool("wait_for_change", {"names": ["server"], "events": ["restart"], "timeout_s": 30})
            assert restart.structured_content["event"] == "restart"
            line = await session.call_tool(
                "wait_for_change", {"names": ["server"], "log_regex": "^listening$", "events": [], "timeout_s": 30}
            )
            assert line.structured_content["event"] == "log_match"
            quiet = await session.call_tool("wait_for_change", {"names": ["calm"], "timeout_s": 1})
            assert quiet.structured_content["event"] == "timeout"
            bad = await session.call_tool("wait_for_change", {"names": ["nosuch"]})
            assert bad.is_error
            never = await session.call_tool("wait_for_change", {"events": ["log_match"], "timeout_s": 1})
            assert never.is_error and "needs 'log_regex'" in never.content[0].text, never.content[0].text

    run(body)


def test_wait_for_change_tells_a_stop_from_a_crash_and_sees_a_supervisor_killed(runit):
    """Found by a hostile pass: a stop asked for came back as a crash (killed by signal 15),
    and a supervisor killed with -9, which writes no record, was never reported."""
    import asyncio
    import os
    import signal

    async def body():
        async with runit.session() as session:
            await session.call_tool("start_process", {"name": "calm", "command": "sleep 300"})
            gone = await session.call_tool("start_process", {"name": "gone", "command": "sleep 300"})
            supervisor = gone.structured_content["process"]["supervisor_pid"]
            waiting = asyncio.create_task(session.call_tool("wait_for_change", {"names": ["calm"], "timeout_s": 30}))
            await asyncio.sleep(1)
            await asyncio.to_thread(runit.cli, "stop", "calm")
            stopped = await waiting
            assert stopped.structured_content["event"] == "exit", stopped.structured_content
            waiting = asyncio.create_task(
                session.call_tool("wait_for_change", {"names": ["gone"], "events": ["crash"], "timeout_s": 30})
            )
            await asyncio.sleep(1)
            os.kill(supervisor, signal.SIGKILL)
            lost = await waiting
            assert lost.structured_content["event"] == "crash", lost.structured_content
            assert "lost" in lost.content[0].text, lost.content[0].text

    try:
        run(body)
    finally:
        runit.cli("stop", "gone")
