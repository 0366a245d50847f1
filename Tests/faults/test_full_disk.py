"""Guarantee 3: a full disk loses nothing silently and tears no record.

RUNIT_HOME is a 2 MB tmpfs; a chatty process writes numbered lines (`line N`) while a filler
takes every free byte, then goes. Every record in every log file must be whole, every gap in
the numbers must be accounted for by a `sys` record, status.json must be valid JSON at every
read, and no state may say running with a dead pid."""

import contextlib
import json
import os
import re
import subprocess
import threading
import time

from conftest import RECORD, alive, text

CHATTY = r"""
import sys, time
i = 0
while True:
    print(f"line {i}", flush=True)
    i += 1
    if i % 10 == 0:
        time.sleep(0.01)
"""
MAX_SIZE = 65536
DROPPED = re.compile(rb"drop|lost|discard|skip|miss|could not|cannot|no space", re.I)


class Filler:
    """Takes all free space of a file system, and keeps taking what is freed until stopped."""

    def __init__(self, directory):
        self.paths = [directory / "filler.big", directory / "filler.small"]
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._grab, daemon=True)

    def fill(self):
        subprocess.run(["dd", "if=/dev/zero", f"of={self.paths[0]}", "bs=64k"], capture_output=True)
        self.thread.start()

    def _grab(self):
        chunk = b"\0" * 4096
        with open(self.paths[1], "ab", buffering=0) as f:
            while not self.stopping.is_set():
                with contextlib.suppress(OSError):
                    while True:
                        f.write(chunk)
                time.sleep(0.01)

    def free(self):
        self.stopping.set()
        self.thread.join(10)
        for p in self.paths:
            with contextlib.suppress(OSError):
                p.unlink()


class StatusWatch:
    """Reads a status.json every 20 ms; remembers each read that was not valid JSON."""

    def __init__(self, path):
        self.path, self.bad, self.reads = path, [], 0
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._watch, daemon=True)
        self.thread.start()

    def _watch(self):
        while not self.stopping.is_set():
            try:
                data = self.path.read_bytes()
                self.reads += 1
                json.loads(data)
            except FileNotFoundError:
                self.bad.append("status.json missing")
            except (ValueError, UnicodeDecodeError):
                self.bad.append(repr(data[:120]))
            time.sleep(0.02)

    def stop(self):
        self.stopping.set()
        self.thread.join(10)


def log_files(directory):
    logs = directory / "logs"
    rotated = sorted((p for p in logs.glob("previous.*.log")), key=lambda p: -int(p.name.split(".")[1]))
    return rotated + [logs / "current.log"]


def records(path):
    data = path.read_bytes()
    assert data == b"" or data.endswith(b"\n"), f"{path.name} ends in the middle of a record: {data[-120:]!r}"
    for number, line in enumerate(data.split(b"\n")[:-1], 1):
        m = RECORD.match(line)
        assert m, f"{path.name}:{number} is not a record: {line[:200]!r}"
        yield m.group(1), m.group(2) == b"+", m.group(3)


def check_logs(directory):
    """Every record whole; every `out` text `line N`; every gap in N explained by a sys record."""
    last, explained, gaps, sys_texts = None, False, [], []
    piece, previous_time = b"", b""
    for path in log_files(directory):
        for time_text, (stream, continued, body) in zip((line[:27] for line in path.read_bytes().split(b"\n")), records(path)):
            # Fixed-width ISO times compare as text: a log's times never go back, drops told included.
            assert time_text >= previous_time, f"{path.name}: {time_text!r} after {previous_time!r} ({body[:80]!r})"
            previous_time = time_text
            if stream == b"sys":
                sys_texts.append(body)
                if DROPPED.search(body):
                    explained = True
                if body.startswith(b"started"):
                    last = None
                continue
            if continued:
                piece += body
                continue
            body, piece = piece + body, b""
            m = re.fullmatch(rb"line (\d+)", body)
            assert m, f"{path.name}: a record torn or merged with another: {body[:200]!r}"
            n = int(m.group(1))
            if last is not None and n != last + 1 and not explained:
                gaps.append((last, n, path.name))
            last, explained = n, False
    return gaps, sys_texts


def start_chatty(faults, name):
    faults.mount_tmpfs(faults.home, "2m")
    faults.start(name, "python3", "-c", CHATTY, "chatty-marker",
                 extra=("--log-max-size", str(MAX_SIZE), "--log-keep", "2"))
    return faults.dir(name)


def fill_for(faults, seconds):
    """Keeps the file system full for `seconds`, then frees it."""
    filler = Filler(faults.home)
    try:
        filler.fill()
        time.sleep(seconds)
    finally:
        filler.free()


def assert_drops_told(directory):
    """Every record whole, every gap in the numbering explained, and a sys record saying so."""
    gaps, sys_texts = check_logs(directory)
    assert not gaps, f"lines missing without a sys record saying so (last seen, next seen, file): {gaps[:5]}"
    assert any(DROPPED.search(t) for t in sys_texts), \
        f"no sys record says what the full disk dropped; sys records: {[t[:80] for t in sys_texts][-8:]}"


def test_full_disk_keeps_records_whole_and_accounts_for_drops(faults):
    directory = start_chatty(faults, "chatty")
    watch = StatusWatch(directory / "status.json")
    time.sleep(1.0)
    fill_for(faults, 2.5)
    time.sleep(1.5)
    r = faults.cli("stop", "chatty", "--timeout", "2")
    watch.stop()
    assert r.returncode == 0, text(r)
    assert watch.reads > 0
    assert not watch.bad, f"status.json was not valid JSON at {len(watch.bad)} of {watch.reads} reads: {watch.bad[:3]}"
    assert_drops_told(directory)


def test_restart_on_full_disk_leaves_no_lie(faults):
    """A restart while the disk is full: once space is back, neither status.json nor list says
    running with a dead pid; status.json is valid JSON at every read; the logs stay whole."""
    name = "chatty"
    directory = start_chatty(faults, name)
    watch = StatusWatch(directory / "status.json")
    time.sleep(0.5)
    filler = Filler(faults.home)
    try:
        filler.fill()
        time.sleep(1.0)
        restart = faults.cli("restart", name, "--timeout", "2", timeout=60)
        time.sleep(1.0)
    finally:
        filler.free()

    def consistent():
        try:
            record = json.loads((directory / "status.json").read_bytes())
        except (OSError, ValueError):
            return False
        if record.get("state") == "running":
            if not (record.get("pid") and alive(record["pid"]) and record.get("supervisor_pid")
                    and alive(record["supervisor_pid"])):
                return False
        entry = faults.entry(name)
        return entry and (entry.get("state") != "running" or (entry.get("pid") and alive(entry["pid"])))
    settled = faults.wait_for(consistent, 5)
    record = (directory / "status.json").read_bytes()[:300]
    listed = (faults.entry(name) or {}).get("state")
    faults.cli("stop", name, "--timeout", "2")
    watch.stop()
    assert settled, f"after a restart on a full disk (exit {restart.returncode}: {text(restart).strip()}) " \
                    f"status.json says {record!r} and list {listed}: running with a dead pid"
    assert not watch.bad, f"status.json was not valid JSON at {len(watch.bad)} of {watch.reads} reads: {watch.bad[:3]}"
    check_logs(directory)


def test_rotation_counts_only_written_bytes(faults):
    """Rotated files hold about --log-max-size bytes each: failed writes do not count."""
    faults.mount_tmpfs(faults.home, "2m")
    name = "rot"
    faults.start(name, "python3", "-c", CHATTY, "chatty-marker",
                 extra=("--log-max-size", str(MAX_SIZE), "--log-keep", "2"))
    filler = Filler(faults.home)
    try:
        time.sleep(0.5)
        filler.fill()
        time.sleep(2.0)
    finally:
        filler.free()
    time.sleep(0.5)
    faults.cli("stop", name, "--timeout", "2")
    logs = faults.dir(name) / "logs"
    sizes = {p.name: p.stat().st_size for p in logs.glob("previous.*.log")}
    small = {n: s for n, s in sizes.items() if s < MAX_SIZE - 1024}
    assert not small, f"rotated files far below --log-max-size {MAX_SIZE}: {small}"
    check_logs(faults.dir(name))


def test_start_on_full_disk_fails_clearly_and_leaves_nothing(faults):
    faults.mount_tmpfs(faults.home, "2m")
    faults.start("first")  # the home and procs/ exist; a second name must be made on a full disk
    filler = Filler(faults.home)
    try:
        filler.fill()
        time.sleep(0.2)
        r = faults.cli("start", "newcomer", "--", "sleep", "1000.5")
        message = text(r)
        assert r.returncode != 0, f"start on a full disk said success: {message}"
        assert re.search(r"space|spec\.json|status\.json|newcomer", message, re.I), \
            f"the error does not say what failed: {message}"
        listed = faults.cli("list", "--json")
    finally:
        filler.free()
    if listed.returncode == 0:
        names = [e.get("name") for e in json.loads(listed.stdout)]
        assert "newcomer" not in names, f"the failed start left an entry: {names}"
    time.sleep(0.3)
    assert len(faults.copies()) == 1, f"copies of sleep: {faults.copies()} (only 'first' should run)"
    names = [e.get("name") for e in faults.list_json()]
    assert "newcomer" not in names, f"the failed start left an entry: {names}"
    r = faults.cli("start", "newcomer", "--", "sleep", "1000.5")
    assert r.returncode == 0, f"start once space is back failed: {text(r)}"
    assert faults.cli("stop", "newcomer").returncode == 0
    assert faults.cli("stop", "first").returncode == 0


BULK = r"""
import os, time
i = 0
while True:
    os.write(1, "".join(f"line {n}\n" for n in range(i, i + 20000)).encode())
    i += 20000
    time.sleep(0.05)
"""


def test_bulk_writer_on_full_disk_keeps_records_whole(faults):
    """A heavy writer's output goes through the supervisor's writer thread; a full disk under it
    drops whole records, says so, and the lines before and after stay whole and in order."""
    faults.mount_tmpfs(faults.home, "64m")
    faults.start("bulk", "python3", "-c", BULK, "bulk-marker", extra=("--log-max-size", "1M", "--log-keep", "40"))
    directory = faults.dir("bulk")
    supervisor = json.loads((directory / "status.json").read_bytes())["supervisor_pid"]
    threaded = faults.wait_for(lambda: len(os.listdir(f"/proc/{supervisor}/task")) == 2, 10)
    fill_for(faults, 1.5)
    time.sleep(0.3)
    r = faults.cli("stop", "bulk", "--timeout", "2")
    assert r.returncode == 0, text(r)
    assert threaded, "the supervisor of a heavy writer never started its writer thread"
    assert_drops_told(directory)
