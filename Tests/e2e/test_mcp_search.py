"""End to end: a log search over MCP runs off the server's loop, so other calls are answered
while searches run, and it ends when its request is cancelled."""

import time

from conftest import RawServer
from test_mcp_transport import call

WRITER = """
import sys
line = "INFO GET /items/{} 200 12ms user=7 request handled in the usual way, nothing to see\\n"
chunk = "".join(line.format(i) for i in range(10000))
for _ in range(int(sys.argv[1])):
    sys.stdout.write(chunk)
"""


def big_log(runit, chunks):
    """A process that wrote `chunks` times 10,000 lines (about 0.85 MB each), and has exited."""
    started = runit.cli("start", "big", "--log-max-size", "2G", "--", "python3", "-c", WRITER, str(chunks))
    assert started.returncode == 0, started.stderr
    waited = runit.cli("wait", "big", "--exit", "--timeout", "120s")
    assert waited.returncode == 0, waited.stdout + waited.stderr


def cpu_ticks(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def test_searches_run_beside_other_calls_and_end_when_cancelled(runit):
    big_log(runit, 60)
    server = RawServer(runit)
    send, read_until = server.send, server.read_until
    try:
        server.initialize()
        # How long one search of the whole log takes here (it finds nothing, so it reads all).
        began = time.monotonic()
        send(call(2, "get_process_logs", {"name": "big", "grep": "items/(12|34)x|never", "lines": 5}))
        answer = read_until(lambda message: message.get("id") == 2)[-1]
        one_search = time.monotonic() - began
        assert answer["result"]["isError"] is False, answer
        assert answer["result"]["structuredContent"]["lines"] == []

        # Two searches as long as that one, and a listing sent after them: the listing is
        # answered first, while both searches still run (two cores, two searches).
        send(call(3, "get_process_logs", {"name": "big", "grep": "items/(12|34)x|never"}))
        send(call(4, "get_process_logs", {"name": "big", "grep": "(?i)ITEMS/(12|34)X|NEVER"}))
        sent = time.monotonic()
        send(call(5, "list_processes", {}))
        seen = read_until(lambda message: message.get("id") == 5)
        assert [message.get("id") for message in seen] == [5], f"one search took {one_search:.2f} s; {seen}"
        assert time.monotonic() - sent < one_search, "the listing waited for a search"
        read_until(lambda message: message.get("id") in (3, 4))
        read_until(lambda message: message.get("id") in (3, 4))

        # A search cancelled soon after it began ends: the server goes idle long before a whole
        # search would have ended, and the request gets no answer.
        send(call(6, "get_process_logs", {"name": "big", "grep": "items/(12|34)x|never"}))
        time.sleep(min(0.2, one_search / 4))
        send({"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": 6, "reason": "user"}})
        time.sleep(min(0.3, one_search / 4))
        before = cpu_ticks(server.process.pid)
        time.sleep(max(1.0, one_search))
        assert cpu_ticks(server.process.pid) - before <= 10, f"the cancelled search went on (one search: {one_search:.2f} s)"
        send(call(7, "list_processes", {}))
        seen = read_until(lambda message: message.get("id") == 7)
        assert 6 not in [message.get("id") for message in seen], "a cancelled search gets no answer"
        rest = server.close_and_drain()
        assert server.process.returncode == 0
        assert 6 not in [message.get("id") for message in rest]
    finally:
        server.kill()


def test_a_pattern_that_would_backtrack_for_hours_is_linear_and_bad_ones_say_why(runit):
    started = runit.cli(
        "start", "aaa", "--", "python3", "-c", "import sys\nfor _ in range(300): print('a' * 3000 + '!')\nsys.stdout.flush()"
    )
    assert started.returncode == 0, started.stderr
    assert runit.cli("wait", "aaa", "--exit", "--timeout", "60s").returncode == 0
    began = time.monotonic()
    result = runit.cli("logs", "aaa", "--grep", "^(a+)+$", "--lines", "0")
    assert result.returncode == 0 and result.stdout == "", result.stderr
    assert runit.cli("logs", "aaa", "--grep", "^(a+)+!$", "--lines", "0").stdout.count("\n") == 300
    assert time.monotonic() - began < 30
    refused = runit.cli("logs", "aaa", "--grep", "(a)\\1")
    assert refused.returncode != 0
    assert "backreference" in refused.stderr and "linear time" in refused.stderr, refused.stderr
