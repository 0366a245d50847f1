"""End to end: what answers contain: coloured output, long lines, first lines of this run."""

from conftest import run
from test_mcp import checked_caller

COLOURED = (
    "printf '\\033[31merror\\033[0m: boom\\n'; printf 'plain after\\n'; "
    "printf '  \\033[32m\\342\\236\\234\\033[39m  \\033[1mLocal\\033[22m:   http://localhost:5173/\\n'; exec sleep 300"
)


def test_grep_and_wait_match_coloured_output_as_it_reads(runit):
    async def body():
        async with runit.session() as session:
            call = await checked_caller(session)
            started = await call(
                "start_process",
                {"name": "vite", "command": COLOURED, "wait_for": {"log_regex": "Local:\\s+http://localhost:\\d+", "timeout_s": 20}},
            )
            assert started.structured_content["ready"] is True, started.content[0].text
            assert started.structured_content["ready_line"] == "  ➜  Local:   http://localhost:5173/"

            grep = await call("get_process_logs", {"name": "vite", "grep": "error: boom", "context": 1})
            texts = [line["text"] for line in grep.structured_content["lines"]]
            assert texts[-2:] == ["error: boom", "plain after"]

            waited = await call("wait_for_process", {"name": "vite", "log_regex": "^error: boom$", "timeout_s": 10})
            assert waited.structured_content["outcome"] == "log_match"

        # The CLI shares the matching: `runit logs --grep` finds the coloured line too.
        cli = runit.cli("logs", "vite", "--grep", "error: boom")
        assert cli.returncode == 0, cli.stderr
        assert "error: boom" in cli.stdout

    run(body)


def test_echoed_fields_are_bounded_and_url_passwords_masked(runit):
    big = "echo " + "x" * 100_000 + "; sleep 300"

    async def body():
        async with runit.session() as session:
            call = await checked_caller(session)
            started = await call(
                "start_process",
                {"name": "big", "command": big, "env": {"DATABASE_URL": "postgres://u:hunter2@db/shop", "API_KEY": "k"}},
            )
            assert len(started.content[0].text) < 20_000
            process = started.structured_content["process"]
            assert len(process["command"]) < 1_000 and "more characters" in process["command"]
            assert process["env"]["DATABASE_URL"] == "postgres://u:***@db/shop"
            assert process["env"]["API_KEY"] == "****"
            listed = await call("list_processes", {})
            assert len(listed.content[0].text) < 20_000
            status = await call("get_process_status", {"name": "big"})
            assert "hunter2" not in str(status.structured_content)

    run(body)
    shown = runit.cli("status", "big")
    assert "postgres://u:***@db/shop" in shown.stdout and "hunter2" not in shown.stdout


def test_an_exit_before_the_wait_for_condition_is_an_error_whatever_its_timing(runit):
    async def body():
        async with runit.session() as session:
            for name, command in [("quick", "echo hi; exit 0"), ("slow", "echo hi; sleep 2; exit 0")]:
                answer = await session.call_tool(
                    "start_process", {"name": name, "command": command, "wait_for": {"log_regex": "never", "timeout_s": 20}}
                )
                assert answer.is_error, f"{name}: {answer.content[0].text}"
                assert "before it was ready" in answer.content[0].text
            plain = await session.call_tool("start_process", {"name": "plain", "command": "echo hi; exit 0"})
            assert not plain.is_error, "without wait_for, an exit with code 0 is a success"
            waited = await session.call_tool("wait_for_process", {"name": "plain", "exit": True, "timeout_s": 10})
            assert waited.structured_content["outcome"] == "exited"
            assert waited.structured_content["last_lines"] == ["hi"]

    run(body)
