"""Guarantee 5: no file can hang or exhaust a command.

State files replaced by a FIFO, a link to /dev/zero, a 1 GB sparse file or a directory: each
command returns within 20 s, with an exit code (not a signal), naming the file; the other
processes are still listed. Files the supervisor opens at start planted as the wrong kind: the
start returns, and the supervisor does not spin."""

import contextlib
import os
import shutil
import subprocess
import sys
import time

import pytest

from conftest import RUNIT, TICKS, cpu_ticks, make_proc_dir, outside_file, text

HANG = 20
MAXRSS = r"""
import resource, subprocess, sys
r = subprocess.run(sys.argv[1:], stdin=subprocess.DEVNULL, capture_output=True, timeout=30)
sys.stdout.buffer.write(r.stdout)
sys.stderr.buffer.write(r.stderr)
sys.stderr.write("\nMAXRSS_KB=%d\n" % resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
sys.exit(r.returncode if r.returncode >= 0 else 128 - r.returncode)
"""


def plant(path, kind):
    """Replaces PATH by KIND in one rename (a live supervisor may remake the file at any time)."""
    if kind == "directory":
        for _ in range(20):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
            with contextlib.suppress(FileExistsError):
                path.mkdir(mode=0o700)
                return
        raise AssertionError(f"could not replace {path} by a directory")
    temporary = path.with_name("." + path.name + ".planted")
    if kind == "fifo":
        os.mkfifo(temporary, 0o600)
    elif kind == "devzero":
        os.symlink("/dev/zero", temporary)
    elif kind == "sparse":
        with open(temporary, "wb") as f:
            f.truncate(1 << 30)
    else:
        raise AssertionError(kind)
    os.rename(temporary, path)


def unplant(path):
    with contextlib.suppress(OSError):
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink()


def readers_over(faults, path):
    try:
        return faults.run_together([("list",), ("status", "p"), ("logs", "p")], timeout=HANG)
    finally:
        unplant(path)


def assert_returned(results, what):
    (lr, lout, lerr), (sr, sout, serr), (gr, gout, gerr) = results
    assert lr is not None, f"`runit list` hung over {what}"
    assert sr is not None, f"`runit status p` hung over {what}"
    assert gr is not None, f"`runit logs p` hung over {what}"
    assert lr >= 0 and sr >= 0 and gr >= 0, f"killed by a signal: list {lr}, status {sr}, logs {gr}: {lerr}{serr}{gerr}"
    assert lr in (0, 1), f"list exit {lr}: {lerr}"
    assert "other" in lout, f"list no longer shows the other process: {lout} {lerr}"
    assert gr in (0, 1), f"logs exit {gr}: {gerr}"


@pytest.mark.parametrize("kind", ["fifo", "devzero", "sparse", "directory"])
@pytest.mark.parametrize("file", ["status.json", "spec.json"])
def test_damaged_state_file_never_hangs_or_crashes(faults, file, kind):
    """Of a stopped process (no supervisor to remake the file): a clear error naming it."""
    faults.start("p")
    assert faults.cli("stop", "p").returncode == 0
    faults.start("other", "sleep", "1000.6")
    path = faults.dir("p") / file
    plant(path, kind)
    results = readers_over(faults, path)
    assert_returned(results, f"{file} as {kind}")
    sr, sout, serr = results[1]
    assert sr == 1, f"status over {file} as {kind} gave exit {sr}: {sout}{serr}"
    assert file in sout + serr, f"status does not name {file}: {sout}{serr}"


@pytest.mark.parametrize("kind", ["fifo", "devzero"])
def test_damaged_status_of_running_process(faults, kind):
    """Under a live supervisor, which may remake status.json: no hang, no crash, and status
    either names the file or shows the remade one."""
    faults.start("p")
    faults.start("other", "sleep", "1000.6")
    path = faults.dir("p") / "status.json"
    plant(path, kind)
    results = readers_over(faults, path)
    assert_returned(results, f"status.json as {kind} under a live supervisor")
    sr, sout, serr = results[1]
    assert sr in (0, 1), f"status exit {sr}: {serr}"
    if sr == 1:
        assert "status.json" in sout + serr, f"status does not name status.json: {sout}{serr}"


@pytest.mark.parametrize("file", ["status.json", "spec.json"])
def test_huge_state_file_bounded_memory(faults, file):
    faults.start("p")
    assert faults.cli("stop", "p").returncode == 0
    plant(faults.dir("p") / file, "sparse")
    for command in (("list",), ("status", "p")):
        try:
            r = subprocess.run([sys.executable, "-c", MAXRSS, RUNIT, *command], env=faults.env, cwd=faults.work,
                               capture_output=True, timeout=HANG + 15)
        except subprocess.TimeoutExpired:
            pytest.fail(f"`runit {' '.join(command)}` over a 1 GB {file} did not return")
        err = r.stderr.decode(errors="replace")
        kb = int(err.rsplit("MAXRSS_KB=", 1)[1].split()[0])
        assert kb < 256 * 1024, f"`runit {' '.join(command)}` over a 1 GB {file} used {kb // 1024} MiB"
        if command[0] == "status":
            assert r.returncode == 1 and file in err, f"status exit {r.returncode}: {err}"


def assert_not_spinning(pid, what):
    before = cpu_ticks(pid)
    time.sleep(1.0)
    after = cpu_ticks(pid)
    if before is not None and after is not None:
        assert after - before < 20, f"{what} (pid {pid}) used {after - before} of {TICKS} ticks in 1 s: it spins"


@pytest.mark.parametrize("file,kind", [("control", "regular"), ("input", "regular"), ("control", "directory"),
                                       ("lock", "fifo"), ("lock", "directory")])
def test_wrong_kind_of_file_at_start(faults, file, kind):
    faults.start("other", "sleep", "1000.6")
    d = make_proc_dir(faults, "w")
    if kind == "regular":
        (d / file).write_bytes(b"")
        os.chmod(d / file, 0o600)
    else:
        plant(d / file, kind)
    r = faults.cli("start", "w", "--", "sleep", "1000.5", timeout=HANG, check_hang=True)
    if r.returncode != 0:
        assert r.returncode == 1, f"start exit {r.returncode}: {text(r)}"
        assert file in text(r), f"the start's error does not name {file}: {text(r)}"
        assert faults.copies() == [], "a refused start left a copy running"
    else:
        for sup in faults.supervisors("w"):
            assert_not_spinning(sup, "the supervisor")
        s = faults.cli("stop", "w", timeout=HANG, check_hang=True)
        assert s.returncode == 0, f"stop after a start over {file} as {kind}: {text(s)}"
        assert faults.wait_for(lambda: not faults.copies(), 5), "stop left the copy running"
    listed = faults.cli("list", timeout=HANG, check_hang=True)
    assert b"other" in listed.stdout
    assert faults.cli("stop", "other", timeout=HANG, check_hang=True).returncode == 0


def test_current_log_fifo_at_start(faults):
    faults.start("other", "sleep", "1000.6")
    d = make_proc_dir(faults, "f")
    os.mkfifo(d / "logs" / "current.log", 0o600)
    (r, out, err), = faults.run_together([("start", "f", "--", "sh", "-c", "echo into-the-fifo; exec sleep 1000.5")],
                                         timeout=HANG)
    assert r is not None, "start hung on a current.log FIFO"
    if r != 0:
        assert r == 1 and "current.log" in out + err, f"start exit {r}: {out}{err}"
    (lr, lout, _), (sr, _, serr) = faults.run_together([("list",), ("stop", "other")], timeout=HANG)
    assert lr is not None and "other" in lout, "list hung or lost the other process"
    assert sr == 0, f"stop of the other process: {sr} {serr}"
    (fr, _, ferr), = faults.run_together([("stop", "f", "--timeout", "1")], timeout=HANG)
    assert fr is not None, "stop of the process with a current.log FIFO hung"
    if r == 0:
        for sup in faults.supervisors("f"):
            assert_not_spinning(sup, "the supervisor")


@pytest.mark.parametrize("kind", ["fifo", "symlink", "directory"])
def test_logs_refuses_a_planted_log_file(faults, kind):
    """`logs` of a process whose current.log is a FIFO, a link or a folder says so (exit 1),
    without hanging on the FIFO or reading through the link; it printed nothing, exit 0."""
    faults.start("f", "sh", "-c", "echo hi; exec sleep 1000.5")
    assert faults.cli("stop", "f").returncode == 0
    log = faults.dir("f") / "logs" / "current.log"
    log.unlink()
    {"fifo": lambda: os.mkfifo(log, 0o600), "symlink": lambda: os.symlink(outside_file(faults), log),
     "directory": lambda: log.mkdir()}[kind]()
    for extra in ((), ("--grep", "hi"), ("--follow",)):
        r = faults.cli("logs", "f", *extra, timeout=HANG, check_hang=True)
        assert r.returncode == 1, f"logs {extra} on a {kind}: exit {r.returncode}: {text(r)}"
        assert "current.log" in text(r) and "not a log file" in text(r), text(r)


def test_hard_linked_lock_never_names_another_supervisor(faults):
    """A lock file hard-linked to another process's: `stop` says the lock is held by a process
    that is not this one's supervisor, and never advises `kill -9` of that other supervisor
    (helper-37); the other process runs on."""
    faults.start("a")
    faults.start("b", "sleep", "1000.6")
    assert faults.cli("stop", "b").returncode == 0
    [other] = faults.supervisors("a")
    lock = faults.dir("b") / "lock"
    lock.unlink()
    os.link(faults.dir("a") / "lock", lock)
    r = faults.cli("stop", "b", timeout=HANG, check_hang=True)
    assert r.returncode != 0 and "not its supervisor" in text(r), text(r)
    assert f"kill -9 {other}" not in text(r), text(r)
    started = faults.cli("start", "b", timeout=HANG, check_hang=True)
    assert started.returncode != 0 and "not its supervisor" in text(started), \
        f"start took 'b' for running under the other's supervisor: {text(started)}"
    assert faults.supervisors("a") == [other] and len(faults.copies()) == 1


def test_stop_through_another_spelling_of_the_home(faults):
    """A supervisor started under one path of RUNIT_HOME is stopped through a link to it: the
    check that the lock's holder is this process's supervisor compares files, not spellings."""
    faults.start("s")
    link = faults.base / "home-link"
    os.symlink(faults.home, link)
    r = faults.cli("stop", "s", env={"RUNIT_HOME": str(link) + "/"})
    assert r.returncode == 0, text(r)
    assert faults.wait_for(lambda: not faults.copies(), 5)


def test_stop_after_the_state_folder_moved(faults):
    """RUNIT_HOME moved while a supervisor runs: its `--dir` names a folder that is gone, which
    proves nothing against it; stop reaches it through the moved folder (helper-41)."""
    faults.start("m")
    moved = faults.base / "moved-home"
    os.rename(faults.home, moved)
    try:
        r = faults.cli("stop", "m", env={"RUNIT_HOME": str(moved)})
        assert r.returncode == 0 and "not its supervisor" not in text(r), text(r)
        assert faults.wait_for(lambda: not faults.copies(), 5)
    finally:
        os.rename(moved, faults.home)
