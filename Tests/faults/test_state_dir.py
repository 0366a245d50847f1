"""Guarantee 4: a state directory is trusted only when it is safe, and no link planted in it is
ever followed when runit creates, writes or appends a file."""

import os
import pathlib
import pwd
import tempfile
import time

import pytest

from conftest import make_proc_dir, needs_root, outside_file, text

NS_LAST_PID = "/proc/sys/kernel/ns_last_pid"
PRINTER = ("sh", "-c", "echo planted-check-line; echo planted-err >&2; exec sleep 1000.5")


def nobody():
    try:
        return pwd.getpwnam("nobody").pw_uid
    except KeyError:
        pytest.skip("no user 'nobody'")


def unsafe(faults, which):
    """Makes one directory unsafe; returns it."""
    home = faults.home
    if which == "home-0777":
        os.chmod(home, 0o777)
        return home
    if which == "home-0770":
        os.chmod(home, 0o770)
        return home
    if which == "home-other-owner":
        needs_root()
        os.chown(home, nobody(), -1)
        return home
    d = make_proc_dir(faults, "s")
    target = {"procs-0777": home / "procs", "procs-0770": home / "procs", "procs-other-owner": home / "procs",
              "name-0770": d, "name-0777": d, "logs-0777": d / "logs"}[which]
    if which.endswith("other-owner"):
        needs_root()
        os.chown(target, nobody(), -1)
    else:
        os.chmod(target, int(which[-4:], 8))
    return target


@pytest.mark.parametrize("which", ["home-0777", "home-0770", "home-other-owner", "procs-0777", "procs-0770",
                                   "procs-other-owner", "name-0770", "name-0777", "logs-0777"])
def test_unsafe_directory_refused(faults, which):
    directory = unsafe(faults, which)
    paths = {str(directory), os.path.realpath(directory)}
    # list reads no log folder, so an unsafe logs/ is only start's to refuse
    commands = [("start", "s", "--", "sleep", "1000.5")] + ([] if which.startswith("logs") else [("list",)])
    for command in commands:
        r = faults.cli(*command)
        message = text(r)
        # An unsafe folder of one process is a problem on its row only: list goes on showing the
        # others (exit 0), as it does for a damaged file; an unsafe home or procs/ refuses all.
        expected = (0, 1) if command[0] == "list" and which.startswith("name") else (1,)
        assert r.returncode in expected, f"`runit {command[0]}` with {which} gave exit {r.returncode}: {message}"
        assert any(p in message for p in paths), f"`runit {command[0]}` does not name {directory}: {message}"
        assert "chmod" in message or "chown" in message, f"`runit {command[0]}` does not say how to fix it: {message}"
    assert faults.copies() == [], "a process started in an unsafe state directory"


def unchanged(path, content):
    return pathlib.Path(path).read_bytes() == content


def start_and_stop(faults, name):
    r = faults.cli("start", name, "--", *PRINTER)
    time.sleep(0.7)
    if r.returncode == 0:
        faults.cli("send", name, "some input")
        faults.cli("status", name)
        faults.cli("stop", name, "--timeout", "1")
    return r


@pytest.mark.parametrize("link", ["logs/current.log", "status.json", "spec.json", "lock", "control", "input",
                                  "logs/previous.1.log"])
def test_planted_link_not_written_through(faults, link):
    content = b"precious root-owned content\n"
    target = outside_file(faults, content)
    d = make_proc_dir(faults, "l")
    os.symlink(target, d / link)
    r = start_and_stop(faults, "l")
    assert unchanged(target, content), \
        f"runit wrote through procs/l/{link} into {target} (start exit {r.returncode}: {text(r).strip()}): " \
        f"{pathlib.Path(target).read_bytes()[:200]!r}"
    if r.returncode != 0:
        assert os.path.basename(link) in text(r) or "link" in text(r), f"the refusal does not name {link}: {text(r)}"


def test_planted_link_to_small_rotation(faults):
    """Links planted as every rotated name, with a tiny --log-max-size so rotation runs through them."""
    content = b"precious\n"
    target = outside_file(faults, content)
    d = make_proc_dir(faults, "rot")
    for n in range(1, 4):
        os.symlink(target, d / "logs" / f"previous.{n}.log")
    r = faults.cli("start", "rot", "--log-max-size", "4K", "--log-keep", "3", "--",
               "sh", "-c", "i=0; while [ $i -lt 600 ]; do echo rotation-line-$i; i=$((i+1)); done; exec sleep 1000.5")
    time.sleep(1.0)
    faults.cli("stop", "rot", "--timeout", "1")
    assert unchanged(target, content), "rotation wrote through a planted previous.N.log link"
    assert os.path.exists(target), "rotation deleted the target of a planted link"
    if r.returncode != 0:
        assert "previous" in text(r) or "link" in text(r), f"the refusal does not name the planted file: {text(r)}"


@pytest.mark.parametrize("file", ["status.json", "spec.json"])
def test_planted_temporary_links_not_written_through(faults, file):
    """FILE.tmp.PID links for a range of the pids the next commands will get."""
    content = b"precious root-owned content\n"
    target = outside_file(faults, content)
    d = make_proc_dir(faults, "t")
    base = int(open(NS_LAST_PID).read()) + 1
    if os.geteuid() == 0:
        pid_max = int(open("/proc/sys/kernel/pid_max").read())
        base = 1000 if base + 600 > pid_max else base + 50
    for pid in range(base, base + 500):
        os.symlink(target, d / f"{file}.tmp.{pid}")
    if os.geteuid() == 0:
        with open(NS_LAST_PID, "w") as f:
            f.write(str(base - 1))
    r = faults.cli("start", "t", "--", "sleep", "1000.5")
    time.sleep(0.3)
    faults.cli("restart", "t", "--timeout", "1")
    faults.cli("stop", "t", "--timeout", "1")
    assert unchanged(target, content), \
        f"a write of {file} went through a planted {file}.tmp.PID link (start exit {r.returncode}: {text(r).strip()})"


def test_planted_logs_directory_link(faults):
    outside = pathlib.Path(tempfile.mkdtemp(prefix="runit-faults-outside-"))
    faults.outside.append(str(outside))
    d = faults.dir("g")
    d.mkdir(parents=True, mode=0o700)
    os.chmod(faults.home / "procs", 0o700)
    os.symlink(outside, d / "logs")
    r = start_and_stop(faults, "g")
    assert list(outside.iterdir()) == [], \
        f"runit wrote into {outside} through procs/g/logs (start exit {r.returncode}): {list(outside.iterdir())}"


def test_planted_process_directory_link(faults):
    outside = pathlib.Path(tempfile.mkdtemp(prefix="runit-faults-outside-"))
    faults.outside.append(str(outside))
    (faults.home / "procs").mkdir(mode=0o700)
    os.symlink(outside, faults.dir("h"))
    r = start_and_stop(faults, "h")
    assert list(outside.iterdir()) == [], \
        f"runit wrote into {outside} through procs/h (start exit {r.returncode}): {sorted(p.name for p in outside.iterdir())}"


def test_planted_procs_link(faults):
    outside = pathlib.Path(tempfile.mkdtemp(prefix="runit-faults-outside-"))
    faults.outside.append(str(outside))
    os.symlink(outside, faults.home / "procs")
    r = start_and_stop(faults, "i")
    assert list(outside.iterdir()) == [], \
        f"runit wrote into {outside} through procs (start exit {r.returncode}): {sorted(p.name for p in outside.iterdir())}"


def test_planted_client_lock_link(faults):
    """locks/NAME (the client lock) planted as a link to a file outside: never truncated,
    created or written through."""
    content = b"precious\n"
    target = outside_file(faults, content)
    (faults.home / "locks").mkdir(mode=0o700)
    os.symlink(target, faults.home / "locks" / "k")
    r = start_and_stop(faults, "k")
    assert unchanged(target, content), f"the client lock went through a planted link (start exit {r.returncode})"
    assert os.stat(target).st_mode & 0o777 == 0o600, "the client lock changed the target's mode"


def test_a_lock_path_that_cannot_be_removed_is_refused_not_spun_on(faults):
    """Found by a hostile pass: a FIFO planted as the client lock where unlink cannot remove it
    (here a read-only tmpfs) made every client spin at 100 % CPU without end."""
    import subprocess

    locks = faults.home / "locks"
    faults.mount_tmpfs(locks)
    os.mkfifo(locks / "d")
    r = subprocess.run(["mount", "-o", "remount,ro", str(locks)], capture_output=True)
    if r.returncode != 0:
        pytest.skip(f"cannot remount read-only: {r.stderr.decode(errors='replace').strip()}")
    r = faults.cli("start", "d", "--", "sleep", "1000.6", timeout=30, check_hang=True)
    assert r.returncode == 1 and "is not a lock file" in text(r) and "remove it" in text(r), text(r)
    assert faults.copies("sleep", "1000.6") == []


def test_planted_locks_directory_link(faults):
    outside = pathlib.Path(tempfile.mkdtemp(prefix="runit-faults-outside-"))
    faults.outside.append(str(outside))
    os.symlink(outside, faults.home / "locks")
    r = start_and_stop(faults, "j")
    assert list(outside.iterdir()) == [], \
        f"runit made files in {outside} through a planted locks link (start exit {r.returncode}): " \
        f"{sorted(p.name for p in outside.iterdir())}"


@pytest.mark.parametrize("mode", [0o777, 0o770])
def test_unsafe_locks_directory_refused(faults, mode):
    locks = faults.home / "locks"
    locks.mkdir()
    os.chmod(locks, mode)
    r = faults.cli("start", "s", "--", "sleep", "1000.5")
    assert r.returncode == 1, f"start with locks/ mode {mode:o} gave exit {r.returncode}: {text(r)}"
    assert str(locks) in text(r), f"the refusal does not name {locks}: {text(r)}"
    assert faults.copies() == []
