"""Guarantee 1: one supervisor and one copy per name, whatever the order of concurrent clients
and whatever is deleted or renamed under RUNIT_HOME."""

import fcntl
import os
import random
import signal
import stat
import threading
import time

import pytest

from conftest import STATES, alive, text


def settle_one(faults, name, timeout=3.0):
    """Waits until there is at most one supervisor and one copy of NAME (or the timeout)."""
    faults.wait_for(lambda: len(faults.supervisors(name)) <= 1 and len(faults.copies()) <= 1, timeout)


def assert_at_most_one(faults, name):
    sups, copies = faults.supervisors(name), faults.copies()
    assert len(sups) <= 1, f"{len(sups)} supervisors for {name!r}: {sups}"
    assert len(copies) <= 1, f"{len(copies)} copies of `sleep 1000.5` for {name!r}: {copies}"


def assert_none_left(faults, name, timeout=5.0):
    faults.wait_for(lambda: not faults.supervisors(name) and not faults.copies(), timeout)
    assert faults.supervisors(name) == [], f"supervisors of {name!r} still alive"
    assert faults.copies() == [], "copies of `sleep 1000.5` still alive"


def assert_documented_states(faults):
    for entry in faults.list_json():
        assert entry.get("state") in STATES, f"undocumented state in list: {entry}"


def running_entry(faults, name, timeout=3.0):
    def state():
        e = faults.entry(name)
        return e if e and e.get("state") == "running" else None
    return faults.wait_for(state, timeout)


def loop(until, body):
    while time.monotonic() < until:
        try:
            body()
        except Exception:  # a hung command is killed by its timeout; the loop goes on
            pass


class DuplicateWatch:
    """Samples the supervisors and copies of a name while a race runs; a duplicate counts when
    two of them have both been alive for over LINGER seconds at one sample (a supervisor that is
    ending may overlap its successor for an instant, never for seconds)."""

    LINGER = 2.0

    def __init__(self, faults, name):
        self.faults, self.name = faults, name
        self.first_seen = {}
        self.worst = []

    def sample(self):
        now = time.monotonic()
        for kind, found in (("supervisor", self.faults.supervisors(self.name)), ("copy", self.faults.copies())):
            old = [p for p in found if now - self.first_seen.setdefault((kind, p), now) > self.LINGER]
            if len(old) > 1 and len(old) > len(self.worst):
                self.worst = [(kind, p) for p in old]

    def run_while(self, threads):
        for t in threads:
            t.start()
        while any(t.is_alive() for t in threads):
            self.sample()
            time.sleep(0.1)
        for t in threads:
            t.join()


@pytest.mark.parametrize("settle,seconds", [("200ms", 8), ("0ms", 5)])
def test_start_and_remove_racing_leave_one_copy(faults, settle, seconds):
    until = time.monotonic() + seconds
    start = ("start", "c", "--settle", settle, "--", "sleep", "1000.5")
    threads = [threading.Thread(target=loop, args=(until, lambda: faults.cli(*start, timeout=30))) for _ in range(3)]
    threads += [threading.Thread(target=loop, args=(until, lambda: faults.cli("remove", "c", timeout=30)))
                for _ in range(3)]
    watch = DuplicateWatch(faults, "c")
    watch.run_while(threads)
    assert not watch.worst, f"during the race these lived together for over {watch.LINGER} s: {watch.worst}"
    settle_one(faults, "c")
    assert_at_most_one(faults, "c")

    if faults.dir("c").exists() or faults.entry("c"):
        r = faults.cli("remove", "c")
        assert r.returncode == 0, f"remove after the race failed: {text(r)}"
    assert_none_left(faults, "c")

    faults.start("c")
    assert len(faults.copies()) == 1
    r = faults.cli("stop", "c")
    assert r.returncode == 0, text(r)
    assert_none_left(faults, "c")


def _lose(path, how, faults):
    if how == "rm":
        os.unlink(path)
    elif how == "mv":
        os.rename(path, faults.base / ("moved-" + path.name))
    elif how == "replace":
        os.unlink(path)
        path.touch(mode=0o600)
    else:
        raise AssertionError(how)


@pytest.mark.parametrize("how", ["rm", "mv", "replace"])
def test_lock_deleted_under_running_supervisor(faults, how):
    faults.start("p")
    _lose(faults.dir("p") / "lock", how, faults)
    entry = running_entry(faults, "p")
    assert entry, f"after `{how} lock` list shows {faults.entry('p')}, not running"

    r = faults.cli("start", "p", "--", "sleep", "1000.5")
    assert r.returncode == 1, f"a second start was not refused: exit {r.returncode}: {text(r)}"
    time.sleep(0.3)
    assert len(faults.copies()) == 1, f"copies after the refused start: {faults.copies()}"
    assert len(faults.supervisors("p")) == 1

    r = faults.cli("stop", "p")
    assert r.returncode == 0, f"stop failed: {text(r)}"
    assert_none_left(faults, "p")


@pytest.mark.parametrize("how", ["rm", "mv"])
def test_control_deleted_stop_still_works(faults, how):
    faults.start("p")
    _lose(faults.dir("p") / "control", how, faults)
    time.sleep(1)
    assert running_entry(faults, "p"), f"list shows {faults.entry('p')}"
    r = faults.cli("start", "p", "--", "sleep", "1000.5")
    assert r.returncode == 1, f"a second start was not refused: {text(r)}"
    assert len(faults.copies()) == 1
    r = faults.cli("stop", "p")
    assert r.returncode == 0, f"stop after `{how} control` failed: {text(r)}"
    assert_none_left(faults, "p")


STUBBORN = ["sh", "-c", "trap '' TERM; while :; do sleep 1000.5; done", "stubborn-marker"]


def test_control_deleted_during_a_long_stop_comes_back(faults):
    """While a stop waits out its timeout, the supervisor still puts its files back (woken by
    dnotify, which it keeps to the end; on its repair timer where it watches with inotify,
    given up when a final stop begins)."""
    faults.start("p", *STUBBORN)
    slow = faults.popen("stop", "p", "--timeout", "8s")
    try:
        assert faults.wait_for(lambda: (faults.entry("p") or {}).get("state") == "stopping", 5)
        control = faults.dir("p") / "control"
        os.unlink(control)
        assert faults.wait_for(lambda: control.exists(), 6), "the control FIFO never came back"
        assert stat.S_ISFIFO(os.lstat(control).st_mode)
        assert slow.poll() is None, "the stop ended before its timeout: the shell ignores SIGTERM"
        slow.communicate(timeout=30)
        assert slow.returncode == 0, "the stop did not end with the process gone"
    finally:
        if slow.poll() is None:
            slow.kill()
            slow.wait()
    assert faults.wait_for(lambda: not faults.marked("stubborn-marker"), 5), "the stubborn shell is still alive"
    assert_none_left(faults, "p")


READER = ["sh", "-c", 'while read l; do echo "got:$l"; done', "reader-marker"]


@pytest.mark.parametrize("how", ["rm", "mv"])
def test_input_deleted_send_still_reaches(faults, how):
    faults.start("r", *READER)
    _lose(faults.dir("r") / "input", how, faults)
    time.sleep(1)
    r = faults.cli("send", "r", "hello-after-" + how)
    assert r.returncode == 0, f"send after `{how} input` failed: {text(r)}"

    def logged():
        return "got:hello-after-" + how in text(faults.cli("logs", "r"))
    assert faults.wait_for(logged, 5), "the sent line never reached the process"
    assert len(faults.marked("reader-marker")) == 1
    r = faults.cli("stop", "r")
    assert r.returncode == 0, text(r)
    assert faults.wait_for(lambda: not faults.marked("reader-marker"), 5), "the reader is still alive after stop"


@pytest.mark.parametrize("damage", ["garbage", "empty", "deleted"])
def test_damaged_status_and_dead_supervisor_no_second_copy(faults, damage):
    faults.start("d")
    [sup] = faults.supervisors("d")
    status = faults.dir("d") / "status.json"
    os.kill(sup, signal.SIGKILL)
    faults.wait_for(lambda: not alive(sup), 5)
    if damage == "garbage":
        status.write_bytes(b"\x00\xff{{{not json \x80\x81" * 10)
    elif damage == "empty":
        status.write_bytes(b"")
    else:
        status.unlink()

    faults.cli("start", "d")  # refused or replaces the old copy: either way, never two
    time.sleep(0.5)
    assert len(faults.copies()) <= 1, f"two copies after start over a {damage} status: {faults.copies()}"
    faults.cli("stop", "d")
    assert_none_left(faults, "d")


def test_kill9_supervisor_then_stop_ends_leftover(faults):
    faults.start("k")
    [sup] = faults.supervisors("k")
    os.kill(sup, signal.SIGKILL)
    faults.wait_for(lambda: not alive(sup), 5)
    entry = faults.wait_for(lambda: (faults.entry("k") or {}).get("state") == "lost", 3)
    assert entry, f"list shows {faults.entry('k')}, not lost"
    r = faults.cli("stop", "k")
    assert r.returncode == 0, text(r)
    assert_none_left(faults, "k")


def test_kill9_supervisor_then_start_runs_one_copy(faults):
    faults.start("k")
    [sup] = faults.supervisors("k")
    os.kill(sup, signal.SIGKILL)
    faults.wait_for(lambda: not alive(sup), 5)
    r = faults.cli("start", "k")
    time.sleep(0.3)
    assert len(faults.copies()) <= 1, f"two copies after start of a lost process: {text(r)}"
    faults.cli("stop", "k")
    assert_none_left(faults, "k")


def test_many_clients_start_stop_restart_one_name(faults):
    rng = random.Random(8)
    ops = [("start", "m", "--", "sleep", "1000.5"), ("start", "m"), ("stop", "m", "--timeout", "1"),
           ("restart", "m", "--timeout", "1"), ("start", "m", "--replace", "--", "sleep", "1000.5")]
    until = time.monotonic() + 5
    threads = [threading.Thread(target=loop, args=(until, lambda: faults.cli(*rng.choice(ops), timeout=30)))
               for _ in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    settle_one(faults, "m")
    assert_at_most_one(faults, "m")
    assert_documented_states(faults)
    entry = faults.entry("m")
    if entry and entry.get("state") == "running":
        assert entry.get("pid") in faults.copies(), f"list says running pid {entry.get('pid')}, copies {faults.copies()}"
    r = faults.cli("stop", "m")
    assert r.returncode == 0, text(r)
    assert_none_left(faults, "m")


def test_clients_killed_at_odd_moments(faults):
    rng = random.Random(88)
    commands = [("start", "z", "--", "sleep", "1000.5"), ("stop", "z", "--timeout", "1"),
                ("restart", "z", "--timeout", "1"), ("remove", "z")]
    for i in range(24):
        p = faults.popen(*commands[i % len(commands)])
        time.sleep(rng.uniform(0.0, 0.15))
        p.send_signal(signal.SIGKILL)
        p.wait()
    time.sleep(1)
    settle_one(faults, "z")
    assert_at_most_one(faults, "z")
    assert_documented_states(faults)
    if faults.dir("z").exists():
        r = faults.cli("remove", "z")
        assert r.returncode == 0, f"remove after killed clients failed: {text(r)}"
    assert_none_left(faults, "z")
    faults.start("z")
    assert len(faults.copies()) == 1
    assert faults.cli("stop", "z").returncode == 0
    assert_none_left(faults, "z")


def test_start_waits_for_a_supervisor_on_its_way_out(faults):
    """The status says stopped while the supervisor still holds its lock (it is on its way
    out, which takes longer on a busy machine): a start waits for it to leave, instead of
    refusing the start of a running process."""
    faults.start("x")
    r = faults.cli("stop", "x")
    assert r.returncode == 0, text(r)
    assert faults.wait_for(lambda: not faults.supervisors("x"), 5)
    fd = os.open(faults.dir("x") / "lock", os.O_RDWR)
    fcntl.lockf(fd, fcntl.LOCK_EX)  # stands in for the leaving supervisor
    release = threading.Timer(1.0, os.close, (fd,))
    release.start()
    try:
        r = faults.cli("start", "x")
    finally:
        release.join()
    assert r.returncode == 0, f"a start beside a supervisor on its way out failed: {text(r)}"
    assert len(faults.copies()) == 1
