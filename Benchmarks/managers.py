"""The managers the benchmark compares: runit and its peers (supervisord, runsv, s6), each able
to start N `sleep` processes, list them, show one, stop and start one, and tear down."""

import os
import signal
import subprocess
import time

SLEEP = "100000"


def run(cmd, env=None, check=True, cwd=None):
    result = subprocess.run(cmd, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if check and result.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, cmd))} failed ({result.returncode}): {result.stderr.strip()[:300]}")
    return result


def wait_until(predicate, timeout=120, step=0.02):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return True
        time.sleep(step)
    raise TimeoutError("condition not reached")


def pids_matching(pattern):
    result = run(["pgrep", "-f", pattern], check=False)
    return [int(p) for p in result.stdout.split()]


class Manager:
    name = "?"

    def __init__(self, base, n):
        self.base = base / self.name
        self.base.mkdir(parents=True)
        self.n = n

    def names(self):
        return [f"s{i}" for i in range(self.n)]


class Runit(Manager):
    name = "runit"

    def __init__(self, base, n, bindir):
        super().__init__(base, n)
        self.bin = str(bindir / "runit")
        self.env = dict(os.environ, RUNIT_HOME=str(self.base / "home"), NO_COLOR="1")

    def cli(self, *args, check=True):
        return run([self.bin, *args], env=self.env, check=check)

    def start_all(self):
        # One command for all N, as s6-svscan starts a scan directory: `up` of a project
        # (independent processes start at once), returning when each one runs.
        project = self.base / "project"
        project.mkdir(exist_ok=True)
        lines = ["name: bench", "processes:"] + [f"  {n}:\n    argv: [sleep, '{SLEEP}']" for n in self.names()]
        (project / "runit.yaml").write_text("\n".join(lines) + "\n")
        run([self.bin, "up", "--settle", "0"], env=self.env, cwd=str(project))

    def list(self):
        self.cli("list")

    def status(self):
        self.cli("status", "bench/s0")

    def restart(self):
        self.cli("stop", "bench/s0")
        self.cli("start", "bench/s0", "--settle", "0")

    def restart_command(self):
        self.cli("restart", "bench/s0")

    def supervisor_pids(self):
        return pids_matching(f"runit-supervise --dir {self.base}/home/")

    def teardown(self):
        self.cli("remove", "--project", "bench", "--timeout", "1", check=False)
        for pid in self.supervisor_pids():
            os.kill(pid, signal.SIGKILL)


class Supervisord(Manager):
    name = "supervisord"

    def __init__(self, base, n):
        super().__init__(base, n)
        self.conf = self.base / "supervisord.conf"
        lines = [
            "[unix_http_server]", f"file={self.base}/supervisor.sock",
            "[supervisord]", f"logfile={self.base}/supervisord.log", f"pidfile={self.base}/supervisord.pid",
            f"childlogdir={self.base}", "loglevel=warn",
            "[rpcinterface:supervisor]", "supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface",
            "[supervisorctl]", f"serverurl=unix://{self.base}/supervisor.sock",
        ]
        for name in self.names():
            lines += [f"[program:{name}]", f"command=sleep {SLEEP}", "startsecs=0", "autorestart=false",
                      f"stdout_logfile={self.base}/{name}.log", "redirect_stderr=true"]
        self.conf.write_text("\n".join(lines) + "\n")

    def ctl(self, *args, check=True):
        return run(["supervisorctl", "-c", str(self.conf), *args], check=check)

    def start_all(self):
        run(["supervisord", "-c", str(self.conf)])
        wait_until(lambda: self.ctl("status", check=False).stdout.count("RUNNING") == self.n, step=0.05)

    def list(self):
        self.ctl("status", check=False)

    def status(self):
        self.ctl("status", "s0", check=False)

    def restart(self):
        self.ctl("stop", "s0")
        self.ctl("start", "s0")

    def supervisor_pids(self):
        return pids_matching(f"supervisord -c {self.conf}")

    def teardown(self):
        self.ctl("shutdown", check=False)
        for pid in self.supervisor_pids():
            os.kill(pid, signal.SIGKILL)


class ServiceDirs(Manager):
    """Service directories with a `run` script, for runsvdir and s6-svscan."""

    def make_services(self):
        self.scan = self.base / "scan"
        self.scan.mkdir()
        for name in self.names():
            d = self.scan / name
            d.mkdir()
            (d / "run").write_text(f"#!/bin/sh\nexec sleep {SLEEP}\n")
            (d / "run").chmod(0o755)


class Runsv(ServiceDirs):
    name = "runsv"

    def start_all(self):
        self.make_services()
        self.daemon = subprocess.Popen(["runsvdir", str(self.scan)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        dirs = [str(self.scan / n) for n in self.names()]
        wait_until(lambda: run(["sv", "status", *dirs], check=False).stdout.count("run: ") == self.n, step=0.05)

    def list(self):
        run(["sv", "status", *[str(self.scan / n) for n in self.names()]], check=False)

    def status(self):
        run(["sv", "status", str(self.scan / "s0")], check=False)

    def restart(self):
        run(["sv", "-w", "10", "down", str(self.scan / "s0")])
        run(["sv", "-w", "10", "up", str(self.scan / "s0")])

    def supervisor_pids(self):
        return pids_matching(f"runsv s[0-9]") + pids_matching(f"runsvdir {self.scan}")

    def teardown(self):
        if getattr(self, "daemon", None):
            self.daemon.kill()
            self.daemon.wait()
            run(["sv", "-w", "5", "exit", *[str(self.scan / n) for n in self.names()]], check=False)


class S6(ServiceDirs):
    name = "s6"

    def start_all(self):
        self.make_services()
        # -c: s6-svscan supervises at most 500 services unless told more.
        self.daemon = subprocess.Popen(
            ["s6-svscan", "-c", str(max(500, 2 * self.n)), str(self.scan)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

        def all_up():
            script = f"for d in {self.scan}/*; do s6-svstat -o up \"$d\"; done"
            return run(["sh", "-c", script], check=False).stdout.split().count("true") == self.n

        wait_until(all_up, step=0.05)

    def list(self):
        run(["sh", "-c", f"for d in {self.scan}/*; do s6-svstat \"$d\"; done"], check=False)

    def status(self):
        run(["s6-svstat", str(self.scan / "s0")], check=False)

    def restart(self):
        run(["s6-svc", "-wd", "-d", str(self.scan / "s0")])
        run(["s6-svc", "-wu", "-u", str(self.scan / "s0")])

    def supervisor_pids(self):
        return pids_matching(f"s6-supervise s[0-9]") + pids_matching(f"s6-svscan -c [0-9]+ {self.scan}")

    def teardown(self):
        if getattr(self, "daemon", None):
            run(["s6-svscanctl", "-t", str(self.scan)], check=False)
            try:
                self.daemon.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.daemon.kill()
