"""Fixtures for the fault suite (issue 8, "Trust under faults").

Each test gets its own RUNIT_HOME (mode 0700) and a `Faults` object that runs the built
`runit` against it, counts live copies through /proc, and cleans up whatever the test
started even when it fails: `runit stop` first, then SIGKILL for every process whose
cmdline mentions the home, whose environment carries the home, the test's token or a
RUNIT_RUN value seen on one of ours, and every descendant of those; then any tmpfs is
unmounted and the directory removed.

These tests are hostile on purpose: they assert what the fixed code promises, so against an
unfixed binary many of them fail."""

import contextlib
import json
import os
import pathlib
import re
import resource
import shutil
import signal
import subprocess
import tempfile
import time
import uuid

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
RUNIT = os.environ.get("RUNIT_BIN", str(ROOT / ".build" / "debug" / "runit"))

STATES = {"starting", "running", "backoff", "stopping", "stopped", "exited", "failed", "lost"}
RECORD = re.compile(rb"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z (out|err|sys)(\+?) (.*)$", re.S)
TICKS = os.sysconf("SC_CLK_TCK")

# Every command the suite runs inherits a 4 GiB address-space limit, so that a command that
# reads /dev/zero or a 1 GB file into memory fails within seconds instead of taking the
# machine's memory (it then dies by a signal, which the tests report).
_AS_LIMIT = 4 << 30
_soft, _hard = resource.getrlimit(resource.RLIMIT_AS)
if _soft == resource.RLIM_INFINITY or _soft > _AS_LIMIT:
    resource.setrlimit(resource.RLIMIT_AS, (_AS_LIMIT, _hard))


# ----------------------------------------------------------------------------- /proc helpers


def _read(path, limit=1 << 20):
    try:
        with open(path, "rb") as f:
            return f.read(limit)
    except OSError:
        return None


def pids():
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            yield int(entry)


def stat_fields(pid):
    """The fields of /proc/PID/stat after the command name: [state, ppid, pgrp, session, ...]."""
    data = _read(f"/proc/{pid}/stat")
    if not data:
        return None
    return data[data.rindex(b")") + 2:].split()


def alive(pid):
    """True when pid exists and is not a zombie."""
    fields = stat_fields(pid)
    return fields is not None and fields[0] != b"Z"


def session_of(pid):
    fields = stat_fields(pid)
    return int(fields[3]) if fields else None


def cpu_ticks(pid):
    fields = stat_fields(pid)
    return int(fields[11]) + int(fields[12]) if fields else None  # utime + stime


def argv(pid):
    data = _read(f"/proc/{pid}/cmdline")
    return data.split(b"\0")[:-1] if data else []


def environ(pid):
    return _read(f"/proc/{pid}/environ", 1 << 22) or b""


def live_processes():
    """(pid, argv, environ) of every live, non-zombie process but this one."""
    me = os.getpid()
    for pid in pids():
        if pid == me or not alive(pid):
            continue
        args = argv(pid)
        if args:
            yield pid, args, environ(pid)


# ----------------------------------------------------------------------------- the fixture


class Faults:
    def __init__(self):
        self.base = pathlib.Path(tempfile.mkdtemp(prefix="runit-faults-"))
        self.home = self.base / "home"
        self.home.mkdir(mode=0o700)
        os.chmod(self.home, 0o700)
        self.work = self.base / "work"
        self.work.mkdir()
        self.token = "faults-" + uuid.uuid4().hex
        env = {k: v for k, v in os.environ.items() if not k.startswith("RUNIT_")}
        env.update(RUNIT_HOME=str(self.home), NO_COLOR="1", RUNIT_FAULTS_TOKEN=self.token)
        self.env = env
        self.mounts = []
        self.paused = []
        self.outside = []  # files outside the home to delete at the end
        self.run_tokens = set()
        self.adopted = []  # (pid, argv) of processes no marker finds (an `env -i` child, say)

    # --- running the CLI

    def cli(self, *args, timeout=60, env=None, check_hang=False):
        """Runs `runit ARGS`; with check_hang a timeout fails the test instead of raising."""
        full_env = dict(self.env, **(env or {}))
        try:
            return subprocess.run([RUNIT, *map(str, args)], env=full_env, cwd=self.work,
                                  capture_output=True, timeout=timeout, stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            if check_hang:
                pytest.fail(f"`runit {' '.join(map(str, args))}` did not return within {timeout} s")
            raise

    def popen(self, *args, env=None, **kwargs):
        full_env = dict(self.env, **(env or {}))
        kwargs.setdefault("stdout", subprocess.PIPE)
        kwargs.setdefault("stderr", subprocess.PIPE)
        return subprocess.Popen([RUNIT, *map(str, args)], env=full_env, cwd=self.work,
                                stdin=subprocess.DEVNULL, **kwargs)

    def run_together(self, commands, timeout=20, env=None):
        """Runs several CLI commands at once; returns [(returncode or None when hung, out, err)].
        A hung command is killed at the deadline."""
        started = [self.popen(*c, env=env) for c in commands]
        deadline = time.monotonic() + timeout
        results = []
        for p in started:
            try:
                out, err = p.communicate(timeout=max(0.1, deadline - time.monotonic()))
                results.append((p.returncode, out.decode(errors="replace"), err.decode(errors="replace")))
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
                results.append((None, "", ""))
        return results

    def start(self, name, *program, extra=(), check=True):
        program = program or ("sleep", "1000.5")
        r = self.cli("start", name, *extra, "--", *program)
        if check:
            assert r.returncode == 0, f"start {name} failed: {r.stderr.decode(errors='replace')}"
        return r

    def list_json(self, check=True):
        r = self.cli("list", "--json")
        if check:
            assert r.returncode == 0, r.stderr.decode(errors="replace")
        return json.loads(r.stdout) if r.returncode == 0 else None

    def entry(self, name):
        data = self.list_json()
        return next((p for p in data if p.get("name") == name), None)

    # --- paths

    def dir(self, name):
        return self.home / "procs" / name

    def homes(self):
        return {str(self.home), os.path.realpath(self.home)}

    # --- counting copies

    def supervisors(self, name):
        """Live runit-supervise processes with --dir HOME/procs/NAME."""
        dirs = {os.path.join(h, "procs", name).encode() for h in self.homes()}
        found = []
        for pid, args, _ in live_processes():
            if not os.path.basename(args[0]).startswith(b"runit-supervise"):
                continue
            for i, a in enumerate(args[:-1]):
                if a == b"--dir" and args[i + 1].rstrip(b"/") in dirs:
                    found.append(pid)
        return found

    def ours(self, env_blob):
        if self.token.encode() in env_blob:
            return True
        return any(h.encode() in env_blob for h in self.homes())

    def copies(self, *command):
        """Live processes of this test whose argv is exactly COMMAND (default sleep 1000.5)."""
        want = [c.encode() for c in (command or ("sleep", "1000.5"))]
        return [pid for pid, args, env in live_processes() if args == want and self.ours(env)]

    def marked(self, marker):
        """Live processes of this test with MARKER somewhere in their argv, not counting the
        supervisors and CLI commands whose command lines carry the program's arguments."""
        m = marker.encode()
        runit = (b"runit-supervise", os.path.basename(RUNIT).encode())
        return [pid for pid, args, env in live_processes()
                if any(m in a for a in args) and self.ours(env) and os.path.basename(args[0]) not in runit]

    def wait_for(self, predicate, timeout=10.0, interval=0.1):
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value or time.monotonic() > deadline:
                return value
            time.sleep(interval)

    def adopt(self, pid):
        """Has the cleanup kill PID if it still runs the same command."""
        self.adopted.append((pid, argv(pid)))

    # --- mounts

    def mount_tmpfs(self, path, size="2m"):
        if os.geteuid() != 0:
            pytest.skip("mounting a tmpfs needs root")
        path = pathlib.Path(path)
        path.mkdir(mode=0o700, exist_ok=True)
        r = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs", str(path)],
                           capture_output=True)
        if r.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs: {r.stderr.decode(errors='replace').strip()}")
        self.mounts.append(path)
        return path

    # --- cleanup

    def _restore_modes(self):
        for root, dirs, files in os.walk(self.base, followlinks=False):
            for d in dirs:
                p = os.path.join(root, d)
                if os.path.islink(p):
                    continue
                with contextlib.suppress(OSError):
                    if os.geteuid() == 0:
                        os.chown(p, 0, 0)
                    os.chmod(p, 0o700)
        with contextlib.suppress(OSError):
            if os.geteuid() == 0:
                os.chown(self.home, 0, 0)
            os.chmod(self.home, 0o700)

    def leftovers(self):
        homes = [h.encode() for h in self.homes()]
        table = {}
        for pid, args, env in live_processes():
            table[pid] = (args, env)
        matched = set()
        for pid, (args, env) in table.items():
            cmdline = b"\0".join(args)
            if any(h in cmdline for h in homes) or self.ours(env):
                matched.add(pid)
                for m in re.finditer(rb"(?:^|\0)(RUNIT_RUN=[^\0]*)", env):
                    self.run_tokens.add(m.group(1))
        for pid, (args, env) in table.items():
            if any(t in env for t in self.run_tokens):
                matched.add(pid)
        # every descendant of what matched
        children = {}
        for pid in table:
            f = stat_fields(pid)
            if f:
                children.setdefault(int(f[1]), []).append(pid)
        stack = list(matched)
        while stack:
            for c in children.get(stack.pop(), []):
                if c not in matched:
                    matched.add(c)
                    stack.append(c)
        matched.discard(os.getpid())
        return sorted(matched)

    def cleanup(self):
        for pid in self.paused:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGCONT)
        self._restore_modes()
        procs = self.home / "procs"
        names = []
        with contextlib.suppress(OSError):
            names = [n for n in os.listdir(procs) if not n.startswith(".")]
        settled = {}
        if names:  # one list to skip the names that run nothing; any doubt means a stop
            with contextlib.suppress(Exception):
                r = self.cli("list", "--json", timeout=10, env={"RUNIT_LOCK_TIMEOUT": "2s"})
                if r.returncode == 0:
                    settled = {e.get("name"): e.get("state") for e in json.loads(r.stdout)}
        for name in names:
            if settled.get(name) in ("stopped", "exited", "failed"):
                continue
            with contextlib.suppress(Exception):
                self.cli("stop", name, "--timeout", "1", timeout=10, env={"RUNIT_LOCK_TIMEOUT": "2s"})
        for pid, args in self.adopted:
            if args and argv(pid) == args and alive(pid):
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)
        for _ in range(50):
            left = self.leftovers()
            if not left:
                break
            for pid in left:
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)
            time.sleep(0.1)
        for path in reversed(self.mounts):
            r = subprocess.run(["umount", str(path)], capture_output=True)
            if r.returncode != 0:
                subprocess.run(["umount", "-l", str(path)], capture_output=True)
        for path in self.outside:
            with contextlib.suppress(OSError):
                if os.path.isdir(path) and not os.path.islink(path):
                    shutil.rmtree(path, ignore_errors=True)
                else:
                    os.unlink(path)
        shutil.rmtree(self.base, ignore_errors=True)


@pytest.fixture
def faults():
    if not os.access(RUNIT, os.X_OK):
        pytest.fail(f"{RUNIT} is not built: run `swift build` first, or set RUNIT_BIN", pytrace=False)
    instance = Faults()
    try:
        yield instance
    finally:
        instance.cleanup()


def needs_root():
    if os.geteuid() != 0:
        pytest.skip("needs root")


def text(result):
    """stdout + stderr of a CompletedProcess as one string."""
    return (result.stdout or b"").decode(errors="replace") + (result.stderr or b"").decode(errors="replace")


def outside_file(faults, content=b"precious content\n", prefix="runit-faults-target-"):
    """A file outside RUNIT_HOME with known content, removed at cleanup."""
    fd, path = tempfile.mkstemp(prefix=prefix)
    os.write(fd, content)
    os.close(fd)
    os.chmod(path, 0o600)
    faults.outside.append(path)
    return path


def make_proc_dir(faults, name):
    """HOME/procs/NAME/logs made by hand, every level 0700, as a start would make them."""
    d = faults.dir(name)
    (d / "logs").mkdir(parents=True, mode=0o700)
    for p in (faults.home / "procs", d, d / "logs"):
        os.chmod(p, 0o700)
    return d
