"""Guarantee 2: runit signals only processes it started.

A process goes `lost` (its supervisor and child die by SIGKILL); then an unrelated process
is made to get one of the dead pids by writing PID-1 into /proc/sys/kernel/ns_last_pid just
before forking it. `runit stop` and `runit start` of the lost name must leave it alive."""

import json
import os
import pwd
import signal
import subprocess
import sys
import time

import pytest

from conftest import alive, live_processes, needs_root, session_of, text

NS_LAST_PID = "/proc/sys/kernel/ns_last_pid"

DAEMON = r"""
import os, sys, time
out, mode = sys.argv[1], sys.argv[2]
os.setsid()                      # a new session whose id is this (reused) pid
if os.fork() == 0:               # the child stays in that session
    if mode == "gone" and os.fork() == 0:
        while True: time.sleep(1000)  # and a grandchild, as a daemon's worker
    with open(out + ".tmp", "w") as f:
        f.write(str(os.getpid()))
    os.rename(out + ".tmp", out)
    while True: time.sleep(1000)
if mode == "gone":
    os._exit(0)                  # the leader leaves; its session lives on in its child
while True: time.sleep(1000)
"""


def unrelated_env(faults):
    env = {k: v for k, v in os.environ.items() if not k.startswith("RUNIT_")}
    env["FAULTS_UNRELATED"] = faults.token  # only so that the cleanup finds it
    return env


def spawn_with_pid(faults, pid, args):
    """Popen(args) with exactly PID, or None after a few tries."""
    for _ in range(8):
        try:
            with open(NS_LAST_PID, "w") as f:
                f.write(str(pid - 1))
        except OSError as error:
            pytest.skip(f"cannot write {NS_LAST_PID}: {error}")
        p = subprocess.Popen(args, env=unrelated_env(faults), stdin=subprocess.DEVNULL,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if p.pid == pid:
            return p
        p.kill()
        p.wait()
        time.sleep(0.05)
    return None


def lose(faults, name):
    """Starts NAME, SIGKILLs its supervisor and child, waits until both pids are free."""
    needs_root()
    faults.start(name)
    [sup] = faults.supervisors(name)
    [child] = faults.copies()
    os.kill(sup, signal.SIGKILL)
    os.kill(child, signal.SIGKILL)
    gone = faults.wait_for(lambda: not os.path.exists(f"/proc/{sup}") and not os.path.exists(f"/proc/{child}"), 10)
    if not gone:
        pytest.skip("the killed supervisor was not reaped in time; its pid cannot be reused")
    return sup, child


def session_members(session):
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit() and alive(int(entry)) and session_of(int(entry)) == session:
            found.append(int(entry))
    return found


def reuse_supervisor_pid(faults, sup, mode):
    """An unrelated setsid daemon whose session id is SUP; returns its live members."""
    out = faults.base / "daemon.pids"
    p = spawn_with_pid(faults, sup, [sys.executable, "-c", DAEMON, str(out), mode, "unrelated-" + faults.token])
    if p is None:
        pytest.skip(f"could not get pid {sup} for the unrelated process after a few tries")
    if mode == "gone":
        p.wait()  # reap the leader: no process has the pid any more, its session lives on
    assert faults.wait_for(out.exists, 10), "the unrelated daemon did not start"
    members = faults.wait_for(lambda: len(session_members(sup)) >= 2 and session_members(sup), 5)
    assert members, f"no process in session {sup}"
    return members


def assert_alive(members, session, when):
    dead = [p for p in members if not (alive(p) and session_of(p) == session)]
    assert not dead, f"runit killed unrelated processes {dead} (session {session}) {when}"


@pytest.mark.parametrize("mode", ["gone", "leader"])
def test_reused_supervisor_pid_stop_and_start_spare_unrelated(faults, mode):
    sup, _ = lose(faults, "v")
    members = reuse_supervisor_pid(faults, sup, mode)

    r = faults.cli("stop", "v", "--timeout", "1")
    time.sleep(0.5)
    assert_alive(members, sup, f"on `runit stop` (exit {r.returncode}: {text(r).strip()})")

    r = faults.cli("start", "v", "--", "sleep", "1000.5")
    time.sleep(0.5)
    assert_alive(members, sup, f"on `runit start` (exit {r.returncode}: {text(r).strip()})")

    faults.cli("stop", "v", "--timeout", "1")
    time.sleep(0.3)
    assert_alive(members, sup, "on the last `runit stop`")


def test_reused_child_pid_spared(faults):
    """The dead child's pid goes to an unrelated sleeper in another session."""
    sup, child = lose(faults, "w")
    p = spawn_with_pid(faults, child, [sys.executable, "-c", "import time; time.sleep(1000)", "unrelated-" + faults.token])
    if p is None:
        pytest.skip(f"could not get pid {child} for the unrelated process after a few tries")
    for command in (("stop", "w", "--timeout", "1"), ("start", "w", "--", "sleep", "1000.5"), ("stop", "w", "--timeout", "1")):
        r = faults.cli(*command)
        time.sleep(0.3)
        assert p.poll() is None, f"`runit {' '.join(command)}` killed unrelated pid {child} (exit {r.returncode}: {text(r).strip()})"


def test_forged_status_naming_a_foreign_session_spared(faults):
    """status.json (damaged or planted) names a session that is not runit's: nothing is signalled."""
    needs_root()
    out = faults.base / "daemon.pids"
    p = subprocess.Popen([sys.executable, "-c", DAEMON, str(out), "gone", "unrelated-" + faults.token],
                         env=unrelated_env(faults), stdin=subprocess.DEVNULL)
    p.wait()
    assert faults.wait_for(out.exists, 10)
    session = p.pid
    members = faults.wait_for(lambda: session_members(session), 5)
    assert members

    faults.start("f")
    faults.cli("stop", "f")
    status = faults.dir("f") / "status.json"
    record = status.read_text()
    data = json.loads(record)
    data.update(state="running", pid=members[0], supervisor_pid=session)
    status.write_text(json.dumps(data))

    for command in (("stop", "f", "--timeout", "1"), ("start", "f"), ("stop", "f", "--timeout", "1")):
        r = faults.cli(*command)
        time.sleep(0.3)
        assert_alive(members, session, f"on `runit {' '.join(command)}` (exit {r.returncode}: {text(r).strip()})")


def as_user(user):
    def switch():
        os.setgid(user.pw_gid)
        os.setuid(user.pw_uid)
    return switch


@pytest.mark.parametrize("forged", ["exact", "prefix"])
def test_forged_run_token_of_another_user_spared(faults, forged):
    """A process of another user whose environment carries this directory's run token (the
    exact one, or only the directory's prefix, which anyone can compute from the path) is
    not runit's: neither the stop of the lost process nor a start over a missing status.json
    may signal it."""
    needs_root()
    try:
        nobody = pwd.getpwnam("nobody")
    except KeyError:
        pytest.skip("no user 'nobody'")
    faults.start("tk")
    record = json.loads((faults.dir("tk") / "status.json").read_text())
    token = record.get("run")
    if not token or "-" not in token:
        pytest.skip("this runit records no run token")
    value = token if forged == "exact" else token.rsplit("-", 1)[0] + "-0123456789abcdef"
    env = {"RUNIT_RUN": value, "FAULTS_UNRELATED": faults.token}
    other = subprocess.Popen(["sleep", "1000.7"], env=env, preexec_fn=as_user(nobody), stdin=subprocess.DEVNULL)
    os.kill(record["supervisor_pid"], signal.SIGKILL)
    faults.wait_for(lambda: not alive(record["supervisor_pid"]), 5)

    r = faults.cli("stop", "tk", "--timeout", "1")
    time.sleep(0.3)
    assert other.poll() is None, f"`runit stop` killed another user's process (exit {r.returncode}: {text(r).strip()})"
    (faults.dir("tk") / "status.json").unlink()
    r = faults.cli("start", "tk")
    time.sleep(0.3)
    assert other.poll() is None, f"`runit start` over a missing status killed another user's process: {text(r).strip()}"


def test_unprovable_leftover_is_reported(faults):
    """A child that dropped its environment (`env -i`) cannot be proven runit's once the
    supervisor is dead; `runit stop` may leave it, but must not report a clean stop without
    saying what may be left (its pid)."""
    needs_root()
    faults.start("ev", "sh", "-c", "env -i sleep 1000.9 & exec sleep 1000.5")
    assert faults.wait_for(lambda: [p for p, a, _ in live_processes() if a == [b"sleep", b"1000.9"]], 5)
    [sup] = faults.supervisors("ev")
    session = session_of(sup)
    hidden = [p for p, a, _ in live_processes() if a == [b"sleep", b"1000.9"] and session_of(p) == session]
    for p in hidden:
        faults.adopt(p)
    os.kill(sup, signal.SIGKILL)
    faults.wait_for(lambda: not alive(sup), 5)
    r = faults.cli("stop", "ev", "--timeout", "1")
    time.sleep(0.3)
    left = [p for p in hidden if alive(p)]
    for p in left:
        assert str(p) in text(r) or r.returncode == 1, \
            f"stop said `{text(r).strip()}` (exit {r.returncode}) and did not name pid {p} it left running"
