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
