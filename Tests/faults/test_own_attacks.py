"""Attacks beyond the issue's examples, in the same spirit: state removed wholesale under a
live supervisor, a paused supervisor, a crash loop removed mid-backoff, and leftovers that
left the session before their supervisor was killed."""

import contextlib
import os
import pwd
import shutil
import signal
import subprocess
import sys
import time

import pytest

from conftest import alive, needs_root, text


def gone(faults, name, marker=None, timeout=5.0):
    def check():
        live = faults.copies() + (faults.marked(marker) if marker else [])
        return not live and not faults.supervisors(name)
    return faults.wait_for(check, timeout)


@pytest.mark.parametrize("how", ["rm-name", "mv-name", "rm-procs", "mv-procs"])
def test_state_removed_under_live_supervisor(faults, how):
    """The process directory vanishes: afterwards a start of the name never makes a second
    copy, and a stop leaves none."""
    faults.start("a")
    d = faults.dir("a")
    if how == "mv-name":
        os.rename(d, faults.base / "moved-a")
    elif how == "mv-procs":
        os.rename(faults.home / "procs", faults.base / "moved-procs")
    else:
        victim = d if how == "rm-name" else faults.home / "procs"
        for _ in range(20):  # rm -rf, again while the supervisor makes files anew in it
            shutil.rmtree(victim, ignore_errors=True)
            if not victim.exists():
                break
            time.sleep(0.05)
    time.sleep(1.5)
    r = faults.cli("start", "a", "--", "sleep", "1000.5")
    time.sleep(0.5)
    copies = faults.copies()
    assert len(copies) <= 1, f"after `{how}` a start (exit {r.returncode}) made a second copy: {copies}"
    assert len(faults.supervisors("a")) <= 1
    faults.cli("stop", "a")
    assert gone(faults, "a"), f"after `{how}` and a stop, copies {faults.copies()} and supervisors " \
                              f"{faults.supervisors('a')} are left"


def test_stop_of_paused_supervisor_has_an_end(faults):
    """SIGSTOP on the supervisor: `runit stop --timeout 1` returns within 20 s, and an exit 0
    means nothing is left."""
    faults.start("z")
    [sup] = faults.supervisors("z")
    os.kill(sup, signal.SIGSTOP)
    faults.paused.append(sup)
    try:
        r = faults.cli("stop", "z", "--timeout", "1", timeout=20, check_hang=True,
                       env={"RUNIT_LOCK_TIMEOUT": "2s"})
    finally:
        if alive(sup):
            os.kill(sup, signal.SIGCONT)
    if r.returncode == 0:
        assert gone(faults, "z", timeout=3), f"stop said `{text(r).strip()}` but copies {faults.copies()} run"
    else:
        assert r.returncode == 1 and text(r).strip(), f"stop exit {r.returncode}: {text(r)}"


def test_remove_during_crash_loop_backoff(faults):
    """A process that fails and is restarted with backoff: remove ends it for good (no
    supervisor and no copy resurrects afterwards)."""
    loop = ("sh", "-c", "sleep 0.3; exit 3", "crash-loop-marker")
    faults.start("cl", *loop, extra=("--restart", "always"))
    time.sleep(1.2)
    r = faults.cli("remove", "cl")
    assert r.returncode == 0, text(r)
    time.sleep(2.0)
    assert not faults.supervisors("cl"), "a supervisor of the removed name is still alive"
    assert not faults.marked("crash-loop-marker"), "the removed crash loop restarted its process"
    assert not faults.dir("cl").exists(), "the removed name's directory came back"


def test_lost_with_setsid_leftover(faults):
    """The process leaves a `setsid` grandchild (outside the session), then the supervisor is
    killed: `runit stop` of the lost name ends both (they carry runit's run token)."""
    program = ("sh", "-c", "setsid sleep 1000.8 & exec sleep 1000.5", "setsid-marker")
    faults.start("ss", *program)
    assert faults.wait_for(lambda: faults.copies("sleep", "1000.8"), 5), "the setsid grandchild did not start"
    [sup] = faults.supervisors("ss")
    os.kill(sup, signal.SIGKILL)
    faults.wait_for(lambda: not alive(sup), 5)
    r = faults.cli("stop", "ss", "--timeout", "1")
    assert r.returncode in (0, 1), text(r)
    time.sleep(0.5)
    left = faults.copies() + faults.copies("sleep", "1000.8")
    if r.returncode == 0:
        assert not left, f"stop of the lost process said `{text(r).strip()}` but left {left}"
    else:
        assert any(str(p) in text(r) for p in left), f"stop failed without naming what is left {left}: {text(r)}"


def test_restart_killed_between_stop_and_start(faults):
    """`runit restart` SIGKILLed while the old copy is stopping: the name is left in a state
    from which `runit start` and `runit stop` work, with one copy at most."""
    slow = ("sh", "-c", 'trap "sleep 1; exit 0" TERM; while :; do sleep 0.1; done', "slow-restart-marker")
    faults.start("rk", *slow)
    p = faults.popen("restart", "rk")
    faults.wait_for(lambda: (faults.entry("rk") or {}).get("state") == "stopping", 5, 0.05)
    p.send_signal(signal.SIGKILL)
    p.wait()
    time.sleep(2.0)
    assert len(faults.marked("slow-restart-marker")) <= 1
    r = faults.cli("start", "rk")
    time.sleep(0.5)
    assert len(faults.marked("slow-restart-marker")) <= 1, f"two copies after start: {text(r)}"
    r = faults.cli("stop", "rk", "--timeout", "3")
    assert r.returncode == 0, text(r)
    assert faults.wait_for(lambda: not faults.marked("slow-restart-marker"), 5)


def test_concurrent_sends_do_not_interleave(faults):
    """Ten clients send 3000-byte lines at once to a reader: every line arrives whole."""
    reader = ("sh", "-c", 'while IFS= read -r l; do echo "len:${#l}:${l%%-*}"; done', "send-reader-marker")
    faults.start("rd", *reader)
    procs = [faults.popen("send", "rd", f"{i}-" + "y" * 2998) for i in range(10)]
    for p in procs:
        p.communicate(timeout=30)
    def all_there():
        out = text(faults.cli("logs", "rd", "--lines", "100"))
        return sum(1 for l in out.splitlines() if l.startswith("len:3000:")) >= 10 and out
    out = faults.wait_for(all_there, 5)
    lines = [l for l in text(faults.cli("logs", "rd", "--lines", "100")).splitlines() if l.startswith("len:")]
    bad = [l for l in lines if not l.startswith("len:3000:")]
    assert not bad, f"sends interleaved inside a line: {bad[:5]}"
    assert out, f"not every line arrived whole: {lines}"


SQUATTER = r"""
import os, socket, sys, time
if len(sys.argv) > 2:
    os.setgid(int(sys.argv[3])); os.setuid(int(sys.argv[2]))
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind("\0" + sys.argv[1])
s.listen(1)
print("bound", flush=True)
time.sleep(1000)
"""


def abstract_names(pid):
    """The abstract unix socket names PID holds (from /proc/net/unix and its fds)."""
    inodes = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        with contextlib.suppress(OSError):
            link = os.readlink(f"/proc/{pid}/fd/{fd}")
            if link.startswith("socket:["):
                inodes.add(link[8:-1])
    names = []
    with open("/proc/net/unix") as f:
        for line in f:
            fields = line.split()
            if len(fields) >= 8 and fields[6] in inodes and fields[7].startswith("@"):
                names.append(fields[7][1:])
    return names


def squat(faults, name, user=None):
    args = [sys.executable, "-c", SQUATTER, name]
    if user is not None:
        args += [str(user.pw_uid), str(user.pw_gid)]
    env = {k: v for k, v in os.environ.items() if not k.startswith("RUNIT_")}
    env["FAULTS_UNRELATED"] = faults.token
    p = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stdin=subprocess.DEVNULL)
    line = p.stdout.readline()
    if line.strip() != b"bound":
        p.kill()
        pytest.skip(f"could not bind the abstract name {name!r}")
    return p


def supervisor_name(faults, name):
    [sup] = faults.supervisors(name)
    names = abstract_names(sup)
    if not names:
        pytest.skip("the supervisor holds no abstract socket name (nothing to squat)")
    return sup, names[0]


def test_squatted_name_after_supervisor_killed(faults):
    """Someone binds the dead supervisor's abstract name: the lost process is still ended,
    and a start neither runs two copies nor claims a supervisor that does not exist."""
    faults.start("q")
    sup, name = supervisor_name(faults, "q")
    os.kill(sup, signal.SIGKILL)
    faults.wait_for(lambda: not alive(sup), 5)
    squatter = squat(faults, name)
    r = faults.cli("stop", "q")
    assert r.returncode in (0, 1), text(r)
    if r.returncode == 0:
        assert faults.wait_for(lambda: not faults.copies(), 3), f"stop said `{text(r).strip()}` but copies run"
    r = faults.cli("start", "q")
    time.sleep(0.3)
    assert len(faults.copies()) <= 1
    if r.returncode != 0:
        assert "pid 0" not in text(r), f"start reports a supervisor that does not exist: {text(r)}"
    assert squatter.poll() is None, "runit killed the process that held the name"


def test_name_squatted_by_another_user_does_not_block_start(faults):
    """Abstract socket names are open to every user: one held by another user must not make
    runit refuse to start (or claim it runs) a process in the user's own state directory."""
    needs_root()
    faults.start("u")
    _, name = supervisor_name(faults, "u")
    assert faults.cli("stop", "u").returncode == 0
    try:
        user = pwd.getpwnam("nobody")
    except KeyError:
        pytest.skip("no user 'nobody'")
    squat(faults, name, user)
    r = faults.cli("start", "u")
    assert r.returncode == 0, f"another user's socket blocks the start: {text(r)}"
    assert len(faults.copies()) == 1
    assert faults.cli("stop", "u").returncode == 0
    assert faults.wait_for(lambda: not faults.copies(), 5)
