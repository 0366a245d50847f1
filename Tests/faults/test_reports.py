"""Guarantee 7: what a command reports is what happened."""

import json
import os
import re
import signal
import subprocess
import time

import pytest

from conftest import RUNIT, STATES, alive, text

IGNORES_TERM = ("sh", "-c", 'trap "" TERM; while :; do sleep 0.1; done', "ignores-term-marker")


def walk(value, key):
    """Every value under KEY anywhere in a JSON document."""
    if isinstance(value, dict):
        for k, v in value.items():
            if k == key:
                yield v
            yield from walk(v, key)
    elif isinstance(value, list):
        for v in value:
            yield from walk(v, key)


def assert_not_running_report(document, where):
    states = list(walk(document, "state"))
    assert "running" not in states, f"{where} reports state running for a start that failed: {document}"
    time.sleep(0.3)
    live = [p for p in walk(document, "pid") if isinstance(p, int) and alive(p)]
    assert not live, f"{where} reports live pids {live} for a start that failed"


def test_failed_start_json_does_not_say_running(faults):
    r = faults.cli("start", "--name", "bad", "--command", "nmp run dev", "--json")
    assert r.returncode == 1, text(r)
    assert_not_running_report(json.loads(r.stdout), "`runit start --json`")
    entry = faults.entry("bad")
    assert entry is None or entry.get("state") != "running", f"list says {entry}"


class RawMCP:
    """A minimal newline-delimited JSON-RPC client for `runit mcp` (no SDK needed)."""

    def __init__(self, faults):
        self.p = subprocess.Popen([RUNIT, "mcp"], env=faults.env, cwd=faults.work, stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        self.next_id = 0
        self.call("initialize", {"protocolVersion": "2025-11-25", "capabilities": {},
                                 "clientInfo": {"name": "faults", "version": "1"}})
        self.send({"jsonrpc": "2.0", "method": "notifications/initialized"})

    def send(self, message):
        self.p.stdin.write(json.dumps(message).encode() + b"\n")
        self.p.stdin.flush()

    def call(self, method, params):
        self.next_id += 1
        self.send({"jsonrpc": "2.0", "id": self.next_id, "method": method, "params": params})
        while True:
            line = self.p.stdout.readline()
            assert line, "runit mcp closed its output"
            message = json.loads(line)
            if message.get("id") == self.next_id:
                return message

    def close(self):
        self.p.stdin.close()
        try:
            self.p.wait(10)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()


def test_failed_start_mcp_does_not_say_running(faults):
    mcp = RawMCP(faults)
    try:
        answer = mcp.call("tools/call", {"name": "start_process", "arguments": {"name": "bad", "command": "nmp run dev"}})
    finally:
        mcp.close()
    result = answer.get("result", {})
    assert result.get("isError") is True, f"start_process of a typo did not fail: {answer}"
    assert_not_running_report(result.get("structuredContent", {}), "MCP start_process")


def test_stop_whose_supervisor_is_killed_does_not_lie(faults):
    faults.start("t", *IGNORES_TERM)
    [sup] = faults.supervisors("t")
    stop = faults.popen("stop", "t", "--timeout", "3")
    stopping = faults.wait_for(lambda: (faults.entry("t") or {}).get("state") == "stopping", 5, 0.05)
    if not stopping:
        time.sleep(0.5)
    os.kill(sup, signal.SIGKILL)
    try:
        out, err = stop.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        stop.kill()
        pytest.fail("stop hung after its supervisor was killed")
    message = (out + err).decode(errors="replace")
    if stop.returncode == 0:
        left = faults.wait_for(lambda: not faults.marked("ignores-term-marker"), 2)
        assert left, f"stop said `{message.strip()}` with exit 0 while {faults.marked('ignores-term-marker')} still run"
    else:
        assert stop.returncode == 1, f"stop exit {stop.returncode}: {message}"
        assert message.strip(), "stop failed without saying why"


def test_partial_send_says_how_much(faults):
    faults.start("deaf")
    payload = "x" * 102400
    r = faults.cli("send", "deaf", payload)
    message = text(r)
    assert r.returncode == 1, f"send of 100 KB to a process that does not read gave exit {r.returncode}: {message}"
    numbers = [int(n.replace(",", "")) for n in re.findall(r"\d[\d,]*", message)]
    total = [n for n in numbers if n in (102400, 102401)]
    assert total, f"send does not say how many bytes it had to deliver: {message}"
    assert any(n < total[0] for n in numbers), f"send does not say how many bytes were delivered: {message}"


def test_missing_supervisor_leaves_no_entry(faults):
    r = faults.cli("start", "x", "--", "sleep", "1", env={"RUNIT_SUPERVISE": "/nonexistent/runit-supervise"})
    assert r.returncode == 1, text(r)
    names = {e.get("name"): e.get("state") for e in faults.list_json()}
    assert "x" not in names, f"a start that could not launch its supervisor left an entry: {names}"


def test_supervisor_over_argument_limit_leaves_no_undocumented_state(faults):
    """A command small enough for `runit start` but too big for the supervisor's command line
    (which adds its own options): the start fails and leaves no entry in an undocumented state."""
    arg_max = os.sysconf("SC_ARG_MAX")
    if arg_max <= 0 or arg_max > 64 << 20:
        pytest.skip(f"ARG_MAX {arg_max} not usable for this test")
    chunk = 100_000
    lo, hi, found, n = 0, arg_max + chunk, None, 0

    def attempt(size):
        nonlocal n
        n += 1
        pads = ["p" * chunk] * (size // chunk) + ["p" * (size % chunk)]
        try:
            return faults.cli("start", f"big{n}", "--settle", "0ms", "--", "sh", "-c", ":", "argmax-marker", *pads,
                              timeout=60)
        except OSError:  # E2BIG: `runit` itself could not be run
            return None

    while hi - lo > 32 and n < 40:
        mid = (lo + hi) // 2
        r = attempt(mid)
        if r is None:
            hi = mid
        elif r.returncode == 0:
            lo = mid
        else:
            found = (r, f"big{n}")
            break
    if found is None:
        pytest.skip("could not find a size that runit accepts and its supervisor does not")
    r, name = found
    assert r.returncode == 1, text(r)
    for entry in faults.list_json():
        assert entry.get("state") in STATES, f"undocumented state after a start over the argument limit: {entry}"


def test_every_listed_state_is_documented(faults):
    faults.start("run")
    faults.start("ex", "true")
    faults.start("fl", "false", extra=("--restart", "on-failure"), check=False)
    faults.start("st")
    faults.cli("stop", "st")
    faults.start("lo")
    [sup] = faults.supervisors("lo")
    os.kill(sup, signal.SIGKILL)
    faults.cli("start", "nosup", "--", "sleep", "1", env={"RUNIT_SUPERVISE": "/nonexistent/runit-supervise"})
    faults.cli("start", "--name", "typo", "--command", "nmp run dev")
    time.sleep(1.0)
    documented = set(STATES)
    cli_doc = open(os.path.join(os.path.dirname(__file__), "..", "..", "docs", "cli.md")).read()
    paragraph = cli_doc.split("States:", 1)[1].split("\n\n", 1)[0]
    commands = {"start", "stop", "restart", "remove", "list", "status", "logs", "send", "mcp"}
    documented |= set(re.findall(r"`([a-z]+)`", paragraph)) - commands
    for entry in faults.list_json():
        assert entry.get("state") in documented, f"undocumented state in list --json: {entry}"
    table = faults.cli("list").stdout.decode(errors="replace").splitlines()[1:]
    for row in table:
        fields = row.split()
        assert len(fields) >= 2 and fields[1] in documented, f"undocumented state in list: {row}"


def test_follow_ends_when_removed(faults):
    faults.start("fol", "sh", "-c", "echo hello-follow; exec sleep 1000.5")
    follow = faults.popen("logs", "fol", "-f")
    time.sleep(1.0)
    r = faults.cli("remove", "fol")
    assert r.returncode == 0, text(r)
    try:
        out, err = follow.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        follow.kill()
        follow.communicate()
        pytest.fail("`runit logs -f` went on for 20 s after `runit remove`")
    message = (out + err).decode(errors="replace")
    assert "remove" in message.lower(), f"the follow ended without saying the process was removed: {message[-300:]}"
