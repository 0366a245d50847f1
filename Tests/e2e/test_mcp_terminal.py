"""End to end: a process under a pseudo-terminal (`tty: true`), keys by name, and end of input,
through the real MCP client."""

import os

import anyio
from conftest import run

# Prints a line every 0.2 s and never flushes: without a terminal (and without
# PYTHONUNBUFFERED) the lines would sit in Python's buffer until it exits.
TICKER = "import time\nfor i in range(100):\n    print('tick', i)\n    time.sleep(0.2)\n"


def texts(answer):
    return [line["text"] for line in answer.structured_content["lines"]]


def test_a_tty_process_writes_line_by_line_without_pythonunbuffered(runit):
    # The server's own environment has no PYTHONUNBUFFERED, so the start does not add one for a
    # tty process; the control without a terminal sets it empty, which Python reads as unset.
    runit.env.pop("PYTHONUNBUFFERED", None)

    async def body():
        async with runit.session() as session:
            tty = await session.call_tool(
                "start_process", {"name": "ticker", "argv": ["python3", "-c", TICKER], "tty": True}
            )
            assert not tty.is_error, tty.content[0].text
            plain = await session.call_tool(
                "start_process",
                {"name": "buffered", "argv": ["python3", "-c", TICKER], "env": {"PYTHONUNBUFFERED": ""}},
            )
            assert not plain.is_error, plain.content[0].text
            waited = await session.call_tool(
                "wait_for_process", {"name": "ticker", "log_regex": "^tick 3$", "timeout_s": 30}
            )
            assert waited.structured_content["outcome"] == "log_match", waited.content[0].text
            ticks = [t for t in texts(await session.call_tool("get_process_logs", {"name": "ticker"})) if t.startswith("tick")]
            assert ticks[:4] == ["tick 0", "tick 1", "tick 2", "tick 3"], ticks
            # The same program without a terminal has printed nothing yet: its lines are buffered.
            assert not [t for t in texts(await session.call_tool("get_process_logs", {"name": "buffered"})) if t.startswith("tick")]
            status = await session.call_tool("get_process_status", {"name": "ticker"})
            assert status.structured_content["process"]["state"] == "running"

    run(body)


def test_keys_and_close_input_in_one_call_each(runit):
    repl = (
        "import sys\n"
        "try:\n"
        "    while True:\n"
        "        line = input('> ')\n"
        "        print('echo', line)\n"
        "except KeyboardInterrupt:\n"
        "    print('interrupted')\n"
        "    for line in sys.stdin:\n"
        "        print('read', line.strip())\n"
        "    print('end of input')\n"
    )

    # A program on a terminal writes a line at a time by itself; with PYTHONUNBUFFERED (set in
    # some CI environments) each piece of a print is its own write.
    runit.env.pop("PYTHONUNBUFFERED", None)

    async def body():
        async with runit.session() as session:
            started = await session.call_tool(
                "start_process", {"name": "repl", "argv": ["python3", "-c", repl], "tty": True, "restart": "never"}
            )
            assert not started.is_error, started.content[0].text
            turn = await session.call_tool(
                "send_process_input", {"name": "repl", "text": "hi", "wait_for": {"regex": "^echo hi$", "timeout_s": 20}}
            )
            assert turn.structured_content["outcome"] == "matched", turn.content[0].text
            interrupted = await session.call_tool(
                "send_process_input", {"name": "repl", "keys": ["ctrl-c"], "wait_for": {"regex": "interrupted"}}
            )
            assert interrupted.structured_content["outcome"] == "matched", interrupted.content[0].text
            ended = await session.call_tool(
                "send_process_input",
                {"name": "repl", "text": "last", "close_input": True, "wait_for": {"regex": "end of input"}},
            )
            assert ended.structured_content["closed_input"] is True
            assert "read last" in ended.structured_content["output"], ended.structured_content
            bad = await session.call_tool("send_process_input", {"name": "repl", "keys": ["hyper-x"]})
            assert bad.is_error and "is not a key" in bad.content[0].text
            empty = await session.call_tool("send_process_input", {"name": "repl"})
            assert empty.is_error and "needs 'text', 'keys' or 'close_input: true'" in empty.content[0].text

    run(body)
