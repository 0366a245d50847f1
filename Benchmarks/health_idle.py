#!/usr/bin/env python3
"""Idle CPU of runit supervisors whose process has a health check every second.

Starts N `sleep` processes three ways (no check, `--health-cmd true`, `--health-http` against
a local server), each with `--health-interval 1s`, lets them idle, and reports the CPU the
supervisors used as % of one core per supervisor, the median over the rounds: their own CPU
(utime + stime) apart from that of the check commands they ran (cutime + cstime).

    python3 Benchmarks/health_idle.py [--n 10] [--seconds 30] [--rounds 3] [--runit-bin .build/release]
"""

import argparse
import http.server
import os
import pathlib
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
SLEEP = "86400.7"


def ticks(pid):
    """(utime + stime, cutime + cstime) of a process in clock ticks: its own CPU, and its reaped
    children's (the health commands it ran); zeros when it is gone."""
    try:
        fields = pathlib.Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return (0, 0)
    return (int(fields[11]) + int(fields[12]), int(fields[13]) + int(fields[14]))


def supervisors(home):
    found = []
    for entry in pathlib.Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            words = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if words and words[0].endswith(b"runit-supervise") and any(str(home).encode() in w for w in words):
            found.append(int(entry.name))
    return found


def measure(runit, home, n, seconds, extra):
    env = dict(os.environ, RUNIT_HOME=str(home), NO_COLOR="1")
    for index in range(n):
        subprocess.run([runit, "start", f"p{index}", *extra, "--", "sleep", SLEEP], env=env, check=True,
                       capture_output=True)
    time.sleep(2)  # past the first checks and the start itself
    pids = supervisors(home)
    before = {pid: ticks(pid) for pid in pids}
    time.sleep(seconds)
    after = {pid: ticks(pid) for pid in pids}
    own = sum(after[pid][0] - before[pid][0] for pid in pids)
    children = sum(after[pid][1] - before[pid][1] for pid in pids)
    for index in range(n):
        subprocess.run([runit, "remove", f"p{index}", "--timeout", "1"], env=env, capture_output=True)
    scale = os.sysconf("SC_CLK_TCK") * seconds * max(1, len(pids)) / 100
    return own / scale, children / scale


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--runit-bin", default=str(ROOT / ".build" / "release"))
    args = parser.parse_args()
    runit = str(pathlib.Path(args.runit_bin).resolve() / "runit")

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *arguments):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/"
    kinds = {
        "no check": [],
        "health-cmd true, every 1s": ["--health-cmd", "true", "--health-interval", "1s"],
        "health-http, every 1s": ["--health-http", url, "--health-interval", "1s"],
    }
    base = pathlib.Path(tempfile.mkdtemp(prefix="runit-health-idle-"))
    try:
        for label, extra in kinds.items():
            figures = [measure(runit, base / f"home-{index}", args.n, args.seconds, extra) for index in range(args.rounds)]
            own = [f[0] for f in figures]
            children = [f[1] for f in figures]
            print(f"{label:28} N={args.n}  % of one core per supervisor: its own median {statistics.median(own):.4f}"
                  f" (rounds {', '.join(f'{f:.4f}' for f in own)}); its check commands {statistics.median(children):.4f}")
    finally:
        server.shutdown()
        subprocess.run(["pkill", "-KILL", "-f", f"sleep {SLEEP}"], capture_output=True)
        shutil.rmtree(base, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
