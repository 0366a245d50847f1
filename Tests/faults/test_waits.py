"""Guarantee 6: no wait without an end.

A client paused (SIGSTOP) while it holds a name's client lock: every other command on that
name gives up after RUNIT_LOCK_TIMEOUT with exit 1, naming the holder's pid. Numeric options
out of range are usage errors (exit 2) that say the allowed range."""

import json
import re
import signal
import time

import pytest

from conftest import text

SLOW_STOP = ("sh", "-c", 'trap "sleep 5; exit 0" TERM; while :; do sleep 0.1; done', "slow-stop-marker")
LOCK_ENV = {"RUNIT_LOCK_TIMEOUT": "2s"}


def holds_flock(pid):
    try:
        with open("/proc/locks") as f:
            return any(line.split()[1:2] == ["FLOCK"] and str(pid) in line.split() for line in f
                       if "->" not in line)
    except OSError:
        return False


def pause_holding_lock(faults, p):
    """SIGSTOPs client P once it holds a flock (or after ~0.3 s when /proc/locks cannot tell)."""
    seen = faults.wait_for(lambda: holds_flock(p.pid), 5, 0.02)
    if not seen:
        time.sleep(0.3)
    p.send_signal(signal.SIGSTOP)
    faults.paused.append(p.pid)


def assert_all_give_up_naming(faults, commands, holder):
    results = faults.run_together(commands, timeout=20, env=LOCK_ENV)
    for command, (rc, out, err) in zip(commands, results):
        shown = " ".join(command)
        assert rc is not None, f"`runit {shown}` waited over 20 s behind paused client {holder}"
        assert rc == 1, f"`runit {shown}` behind a paused client gave exit {rc}: {out}{err}"
        assert str(holder) in out + err, f"`runit {shown}` does not name the paused client's pid {holder}: {out}{err}"


def test_paused_stop_does_not_hang_others(faults):
    faults.start("slow", *SLOW_STOP)
    stop = faults.popen("stop", "slow")
    pause_holding_lock(faults, stop)
    try:
        assert_all_give_up_naming(faults, [("start", "slow"), ("restart", "slow"), ("remove", "slow")], stop.pid)
    finally:
        stop.send_signal(signal.SIGCONT)
    out, err = stop.communicate(timeout=60)
    assert stop.returncode == 0, f"the resumed stop failed: {err.decode(errors='replace')}"


def test_paused_start_does_not_hang_others(faults):
    faults.start("held")
    assert faults.cli("stop", "held").returncode == 0
    start = faults.popen("start", "held", "--settle", "4s", "--", "sleep", "1000.5")
    pause_holding_lock(faults, start)
    try:
        assert_all_give_up_naming(faults, [("stop", "held"), ("restart", "held"), ("remove", "held")], start.pid)
    finally:
        start.send_signal(signal.SIGCONT)
    start.communicate(timeout=60)
    assert faults.cli("stop", "held").returncode == 0


def test_lock_timeout_value_is_validated(faults):
    faults.start("v")
    r = faults.cli("stop", "v", env={"RUNIT_LOCK_TIMEOUT": "forever"})
    assert r.returncode in (0, 1, 2), text(r)
    if r.returncode != 0:
        assert "RUNIT_LOCK_TIMEOUT" in text(r), f"a bad RUNIT_LOCK_TIMEOUT is refused without naming it: {text(r)}"


RANGE_WORDS = re.compile(r"between|range|at least|at most|from|up to|max|min|<|>|≤|≥|positive|greater|less|"
                         r"no more|no less|or more|or less|or fewer|negative|too (large|big|long|small)|exceed|limit|allowed", re.I)


def says_range(message, option_name):
    """True when MESSAGE, the option's own name left out (log-max-size has 'max'), states a range."""
    return bool(RANGE_WORDS.search(message.replace(option_name, "")))

START_CASES = [
    ("--log-keep", "1000000000"),
    ("--log-keep=-1", None),
    ("--log-max-size", "0"),
    ("--log-max-size", "99999999999999"),
    ("--log-max-size", "99999999999G"),
    ("--settle", "100000d"),
    ("--settle=-1s", None),
]


@pytest.mark.parametrize("option,value", START_CASES)
def test_start_option_out_of_range(faults, option, value):
    args = [option] + ([value] if value is not None else [])
    r = faults.cli("start", "x", *args, "--", "sleep", "1000.5", timeout=20, check_hang=True)
    message = text(r)
    name = option.split("=")[0].lstrip("-")
    assert r.returncode == 2, f"start {' '.join(args)} gave exit {r.returncode}: {message}"
    assert name in message, f"the refusal of {' '.join(args)} does not name the option: {message}"
    assert says_range(message, name), f"the refusal of {' '.join(args)} does not say the allowed range: {message}"
    assert faults.copies() == [], "a refused start started the process"
    assert not faults.dir("x").exists(), "a refused start left procs/x behind"


OTHER_CASES = [
    ("stop", "--timeout=-1"),
    ("stop", "--timeout=1000000000"),
    ("restart", "--timeout=-1"),
    ("restart", "--timeout=1000000000d"),
    ("logs", "--lines=-5"),
    ("logs", "--lines=99999999999999999999999"),
]


@pytest.mark.parametrize("command,option", OTHER_CASES)
def test_other_option_out_of_range(faults, command, option):
    faults.start("n")
    r = faults.cli(command, "n", option, timeout=20, check_hang=True)
    message = text(r)
    name = option.split("=")[0].lstrip("-")
    assert r.returncode == 2, f"{command} {option} gave exit {r.returncode}: {message}"
    assert name in message, f"the refusal of {option} does not name the option: {message}"
    assert says_range(message, name), f"the refusal of {command} {option} does not say the allowed range: {message}"
    assert len(faults.copies()) == 1, "a refused command changed the running process"


@pytest.mark.parametrize("check", [("--ready-notify",), ("--ready-log", "never printed")], ids=["notify", "log"])
@pytest.mark.parametrize("code", [0, 1])
def test_start_wait_fails_for_a_run_that_ends_before_it_is_ready(faults, check, code):
    """`start --wait` with a readiness check, of a program that exits without passing it, fails
    with its exit code, whatever the timing. When the supervisor had already left by the time
    the wait began, it exited 0 and said nothing (with --json: no document at all). An exit 0
    under `on-failure` ends the supervisor at once, which is what made that likely."""
    restart = "on-failure" if code == 0 else "never"
    for round in range(4):
        name = f"r{round}"
        program = ("sh", "-c", f"echo bye from {name}; exit {code}")
        r = faults.cli("start", name, "--restart", restart, "--wait", *check, "--timeout", "10s", "--", *program)
        assert r.returncode == 1, f"round {round}: a run that never got ready passed --wait: {text(r)}"
        assert f"exited with code {code}" in text(r), f"round {round}: the exit is not said: {text(r)}"
        assert faults.entry(name)["state"] in ("exited", "failed"), faults.entry(name)
        j = faults.cli("start", f"j{round}", "--restart", restart, "--wait", "--json", *check, "--", *program)
        assert j.returncode == 1, f"round {round}: --json: a run that never got ready passed --wait: {text(j)}"
        result = json.loads(j.stdout)
        # The settle time may see the exit first: then the start itself fails, with an error document.
        assert "error" in result or (result["met"] is False and result["exit_code"] == code), result


def test_wait_ready_says_a_crash_loop_keeps_exiting(faults):
    """`wait --ready` on a process that keeps failing quickly (no readiness check) fails at the
    end of the run it saw, saying it keeps exiting and how; it said only "exited with code 3",
    as for a process that ended once."""
    faults.start("loop", "sh", "-c", "echo booting; sleep 0.3; exit 3", extra=("--restart", "always"))
    assert faults.wait_for(lambda: (faults.entry("loop") or {}).get("restarts", 0) >= 2, 15), faults.entry("loop")
    r = faults.cli("wait", "loop", "--ready", "--timeout", "20s")
    assert r.returncode == 1, f"a crash loop was called ready: {text(r)}"
    message = text(r)
    assert "keeps exiting" in message and "exited with code 3" in message, message
    assert "quick failure" in message and "booting" in message, message


def test_wait_ready_that_times_out_in_backoff_says_why(faults):
    """A wait for readiness that runs out of time while a crash loop waits out its backoff says
    the process keeps exiting, its last exit and when it starts again; it said only "did not
    get there in time"."""
    faults.start("loop", "sh", "-c", "exit 3", extra=("--restart", "always"), check=False)

    def long_backoff():
        entry = faults.entry("loop") or {}
        return entry.get("state") == "backoff" and entry.get("next_restart_in_seconds", 0) >= 1.5

    assert faults.wait_for(long_backoff, 15, 0.05), faults.entry("loop")
    r = faults.cli("wait", "loop", "--ready", "--timeout", "500ms", "--json")
    assert r.returncode == 124, text(r)
    result = json.loads(r.stdout)[0]
    assert "keeps exiting" in result["message"] and "exited with code 3" in result["message"], result
    assert "starts again in" in result["message"] and result["exit_code"] == 3, result


def test_wait_ready_right_after_a_run_ends_says_no_half_sentence(faults):
    """Between a run's end and its supervisor's decision to restart it (as long as the stop grace
    when a child ignores SIGTERM), the status has no message and no next start yet: `wait --ready`
    said "keeps exiting: exited with code 3 (, each run under --min-uptime 10s)", or "starts again
    in 0ms" of a process about to give up (helper-42)."""
    faults.start(
        "loop", "sh", "-c", "(trap '' TERM; exec sleep 30) & echo boom; exit 3",
        extra=("--restart", "always", "--max-restarts", "3"), check=False)
    for round in range(3):
        r = faults.cli("wait", "loop", "--ready", "--timeout", "1500ms")
        assert r.returncode in (1, 124), f"round {round}: a crash loop was called ready: {text(r)}"
        message = text(r)
        assert "(," not in message and "in 0ms" not in message, f"round {round}: {message}"
