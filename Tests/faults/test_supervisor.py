"""Guarantee 8: the supervisor understands a control command however the FIFO delivers it,
never dies with its process still running, and `status` cannot be made to show a fake field."""

import os
import re
import threading
import signal
import time

import pytest

from conftest import alive, text


def write_control(faults, name, pieces, pause=0.2):
    fd = os.open(faults.dir(name) / "control", os.O_WRONLY | os.O_NONBLOCK)
    try:
        os.set_blocking(fd, True)
        for i, piece in enumerate(pieces):
            if i:
                time.sleep(pause)
            os.write(fd, piece)
    finally:
        os.close(fd)


def stopped(faults, name):
    entry = faults.entry(name) or {}
    return not faults.copies() and entry.get("state") in ("stopped", "exited")


@pytest.mark.parametrize("pieces,pause", [
    ([b"sto", b"p 1000\n"], 0.2),
    ([bytes([c]) for c in b"stop 1000\n"], 0.05),
    ([b"stop ", b"10", b"00", b"\n"], 0.15),
], ids=["two-writes", "byte-by-byte", "four-writes"])
def test_control_command_split_across_writes(faults, pieces, pause):
    faults.start("s")
    write_control(faults, "s", pieces, pause)
    assert faults.wait_for(lambda: stopped(faults, "s"), 5), \
        f"a stop written in {len(pieces)} pieces was not understood: list says {faults.entry('s')}, copies {faults.copies()}"


def test_control_garbage_then_stop(faults):
    """A garbage line, then a real one: the garbage is ignored, the stop is obeyed."""
    faults.start("g")
    write_control(faults, "g", [b"\x00\xffnonsense 42\n", b"stop 1000\n"], 0.1)
    assert faults.wait_for(lambda: stopped(faults, "g"), 10), f"list says {faults.entry('g')}"


def test_control_flood_without_newline(faults):
    """200 KB without a newline: the supervisor neither dies (leaving its process) nor stops;
    `runit stop` works afterwards."""
    faults.start("f")
    [sup] = faults.supervisors("f")
    done = threading.Event()

    def flood():
        try:
            write_control(faults, "f", [b"A" * 65536] * 3 + [b"\n"], 0.05)
        except OSError:
            pass
        done.set()

    t = threading.Thread(target=flood, daemon=True)
    t.start()
    done.wait(20)
    time.sleep(0.5)
    assert alive(sup), f"the supervisor died on a long control line; copies left: {faults.copies()}"
    assert len(faults.copies()) == 1, "a long garbage line stopped the process"
    r = faults.cli("stop", "f")
    assert r.returncode == 0, text(r)
    assert faults.wait_for(lambda: not faults.copies(), 5)


@pytest.mark.parametrize("value", ["a\nstate: fake", "a\rstate: fake", "a\n\nstate:      fake",
                                   "a\x1b[2K\rstate: fake"], ids=["newline", "cr", "blank-line", "escape"])
def test_status_escapes_env_values(faults, value):
    faults.start("e", extra=("--env", f"X={value}"))
    r = faults.cli("status", "e")
    assert r.returncode == 0, text(r)
    out = r.stdout.decode(errors="replace")
    lines = out.splitlines()
    fake = [l for l in lines if l.lstrip().startswith("state:") and "fake" in l]
    assert not fake, f"status shows a fake field made from an env value: {fake}"
    assert sum(1 for l in lines if l.startswith("state:")) == 1, f"status shows more than one state line:\n{out}"
    assert "\x1b" not in out and "\r" not in out, f"status prints raw control characters: {out!r}"


HEAVY = r"""
import os
block = (b"x" * 99 + b"\n") * 10486
while True:
    os.write(1, block)
"""
# A header that does not start a line: a record run on from a torn piece.
MERGED = re.compile(rb"[^\n]\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z (out|err|sys)\+? ")


def test_killed_mid_write_leaves_no_torn_record(faults):
    """kill -9 of a heavy writer's supervisor can cut its last write short (it did in half of
    the tries): the next run cuts the log back to its last whole record and says so, and
    never writes onto the piece."""
    cuts = 0
    for round in range(6):
        faults.start("k", "python3", "-c", HEAVY, "heavy-marker", extra=("--log-max-size", "64M", "--log-keep", "1"))
        time.sleep(0.4)
        [sup] = faults.supervisors("k")
        os.kill(sup, 9)
        for pid in faults.marked("heavy-marker"):
            os.kill(pid, 9)
        assert faults.wait_for(lambda: not faults.marked("heavy-marker") and not faults.supervisors("k"), 5)
        r = faults.cli("start", "k", "--log-max-size", "64M", "--log-keep", "1", "--", "sh", "-c", "echo after")
        assert r.returncode == 0, text(r)
        assert faults.wait_for(lambda: (faults.entry("k") or {}).get("state") == "exited", 5)
        for path in (faults.dir("k") / "logs").glob("*.log"):
            data = path.read_bytes()
            merged = MERGED.search(data)
            assert not merged, f"round {round}: {path.name} has a record run on from a torn one: " \
                               f"{data[max(0, merged.start() - 60):merged.end() + 60]!r}"
            assert not data or data.endswith(b"\n"), f"round {round}: {path.name} ends inside a record"
            cuts += data.count(b"at the end of the log: a record its writer did not finish")
    print(f"{cuts} of 6 kills cut a write short")


@pytest.mark.parametrize("delay,extra", [
    ("", ()), ("sleep 0.05; ", ()), ("", ("--settle", "0")),
    ("sleep 0.5; ", ("--wait", "--ready-log", "never", "--timeout", "20s")),
], ids=["at-once", "after-its-report", "no-settle", "while-start-waits"])
def test_process_that_kills_its_supervisor_fails_the_start(faults, delay, extra):
    """A process whose supervisor is killed in its first moments (here by the process itself)
    runs on unwatched: `start` says the start failed and why, and ends it. It said "started"
    (exit 0), or deleted the entry and left the process running untracked (helper-36); with
    `--settle 0`, or when it happened while `--wait` waited, it left it running as `lost`."""
    for round in range(4):
        r = faults.cli("start", "k", *extra, "--", "sh", "-c", f"{delay}kill -9 $PPID; exec sleep 1000.5")
        message = text(r)
        if r.returncode == 0 and "--settle" in extra:
            # With no settle time the start reports at once, and the kill may come a moment
            # after the report: then the process is `lost`, and a stop ends what it left.
            assert faults.wait_for(lambda: (faults.entry("k") or {}).get("state") == "lost", 5), faults.entry("k")
            assert faults.cli("stop", "k").returncode == 0
            assert faults.wait_for(lambda: not faults.copies(), 5), f"round {round}: stop left {faults.copies()}"
            continue
        assert r.returncode != 0, f"round {round}: a start whose supervisor was killed succeeded: {message}"
        assert "supervisor" in message and ("killed" in message or "ended" in message or "lost" in message), \
            f"round {round}: the error does not say the supervisor ended: {message}"
        assert faults.wait_for(lambda: not faults.copies(), 5), \
            f"round {round}: the process runs on untracked after `{message}`: {faults.copies()}"
        entry = faults.entry("k")
        assert entry is None or entry.get("state") == "stopped", f"round {round}: left as {entry}"


TERM_HANDLER = r"""
import signal, sys, time
def leave(*_):
    print("clean shutdown", flush=True)
    sys.exit(0)
signal.signal(signal.SIGTERM, leave)
print("up", flush=True)
while True: time.sleep(0.1)
"""


def test_stop_of_a_paused_process_lets_it_shut_down(faults):
    """A process paused by SIGSTOP (Ctrl-Z, a debugger) acts on SIGTERM only once continued:
    `stop` continues it, and it runs its own shutdown instead of being SIGKILLed after the grace."""
    faults.start("p", "python3", "-c", TERM_HANDLER, extra=("--ready-log", "^up$", "--wait", "--timeout", "10s"))
    pid = faults.entry("p")["pid"]
    os.kill(pid, signal.SIGSTOP)
    faults.paused.append(pid)
    r = faults.cli("stop", "p", "--timeout", "8s")
    assert r.returncode == 0, text(r)
    logs = text(faults.cli("logs", "p"))
    assert "clean shutdown" in logs and "grace period over" not in logs, \
        f"the paused process did not get to shut down by itself:\n{logs}"


def test_check_commands_leave_nothing_running(faults):
    """What a readiness or health command starts in a session of its own (`setsid`) ends with
    the check, also when the check times out: one was left per check until the process stopped."""
    faults.start("h", extra=("--health-cmd", "setsid sleep 1000.7 & true", "--health-interval", "300ms"))
    faults.start("t", extra=("--health-cmd", "setsid sleep 1000.8 & sleep 60", "--health-interval", "300ms",
                             "--health-timeout", "300ms"))
    faults.start("r", extra=("--ready-cmd", "setsid sleep 1000.9 & false",))
    time.sleep(3)  # about 10 checks each
    left = {what: faults.copies("sleep", what) for what in ("1000.7", "1000.8", "1000.9")}
    # The one of a check under way may be there.
    assert all(len(pids) <= 1 for pids in left.values()), f"check commands left these running: {left}"
    assert len(faults.copies()) == 3, "the processes themselves should still run"


def test_cleanup_of_a_failed_start_uses_the_stop_signal(faults):
    """What a start whose supervisor was killed leaves behind is stopped with its own
    `--stop-signal` and `--stop-timeout`: it got SIGTERM and a SIGKILL 10 s later (helper-40)."""
    script = ('trap "" TERM; trap "echo got INT > int-seen; exit 0" INT; sleep 0.05; kill -9 $PPID; '
              'while :; do sleep 0.1; done')
    began = time.monotonic()
    r = faults.cli("start", "k", "--stop-signal", "INT", "--stop-timeout", "30s", "--", "sh", "-c", script)
    assert r.returncode != 0, text(r)
    assert (faults.work / "int-seen").exists(), f"the process never got SIGINT: {text(r)}"
    assert time.monotonic() - began < 20, "it waited out the grace period: the stop signal was not the one asked for"
