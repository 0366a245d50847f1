#!/usr/bin/env python3
"""Log search: `runit logs NAME --grep PATTERN --lines 0` side by side with GNU `grep -E` and
ripgrep `rg` on the same log file, in one run.

A writer prints --mb MB of varied log-like lines through a runit supervisor into a runit log
(its own RUNIT_HOME, one log file, no rotation); then each tool searches that file for each
pattern, its output going to a file (GNU grep stops at the first match when its output is
/dev/null), with a warm page cache. The figure is the median wall time of --repeat runs per
tool and pattern; the output lines of every tool are counted and must agree.

  python3 Benchmarks/search_bench.py --runit-bin .build/release --mb 500
  python3 Benchmarks/search_bench.py --mb 20 --repeat 3          # smoke
"""

import argparse
import json
import os
import pathlib
import select
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

from bench import ROOT, available, run, wait_for_exit

# (label, runit's pattern, ignore case, the peers' pattern when it differs). runit matches the
# text after the record header `<timestamp> <stream>[+] `; grep and rg see whole records, so an
# anchored pattern gets the header spelled out for them. Every pattern is in the syntax all
# three read alike (ICU, POSIX ERE, Rust regex).
PATTERNS = [
    ("literal", "items/976 ", False, None),
    ("alternation", "timeout|refused|panic", False, None),
    ("ignore case", "error", True, None),
    ("class and count", " 5[0-9]{2} [0-9]+ms", False, None),
    ("sparse (1 in 100,000)", "deadlock detected on table [a-z]+", False, None),
    ("backtracking", "^(a+)+$", False, "^[^ ]+ [^ ]+ (a+)+$"),
]

# Deterministic (seeded) log-like lines: a timestamp, a level in mixed case, a component, and a
# request, query, cache, upstream or worker message. Every 100,000th line is a deadlock (the
# sparse pattern); `evil` times, spread over the run, a line of 30 `a`s and a `!` (which makes a
# backtracking engine try every split of the `a`s for `^(a+)+$`) and one of 30 `a`s (a match).
WRITER = r"""
import os, random, sys
total, evil, countfile = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
rng = random.Random(7)
levels = (["INFO"] * 40 + ["info"] * 20 + ["Info"] * 10 + ["DEBUG", "debug"] * 5 + ["WARN"] * 6 + ["warn"] * 3
          + ["Warning"] * 3 + ["ERROR"] * 4 + ["error"] * 2 + ["Error"] * 2)
components = ["http", "db", "cache", "worker-1", "worker-2", "worker-3", "auth", "scheduler"]
methods = ["GET"] * 8 + ["POST"] * 3 + ["PUT", "DELETE"]
resources = ["items", "items", "users", "orders", "carts", "sessions"]
statuses = [200] * 40 + [201, 204, 301, 304] + [400, 401, 403, 404] * 2 + [500, 502, 503]
users = ["alice", "bob", "carol", "dave", "eve", "José", "Zoë", "mallory", "trent", "peggy"]
tables = ["orders", "users", "items", "payments", "sessions", "audit_log"]
hosts = ["10.0.3.17", "10.0.3.18", "payments.internal", "search.internal", "redis-0"]
def message(i):
    r = rng.random()
    if r < 0.60:
        return (f"{rng.choice(methods)} /{rng.choice(resources)}/{rng.randrange(1000)} {rng.choice(statuses)} "
                f"{rng.randrange(1, 900)}ms user={rng.choice(users)} req={rng.getrandbits(32):08x}")
    if r < 0.75:
        return f"query took {rng.randrange(1, 400)}ms rows={rng.randrange(0, 5000)} table={rng.choice(tables)}"
    if r < 0.85:
        return f"cache {rng.choice(['hit', 'hit', 'hit', 'miss'])} key=session:{rng.getrandbits(40):010x}"
    if r < 0.86:
        return f"upstream {rng.choice(hosts)} connect timeout after {rng.randrange(1000, 5000)}ms, retrying"
    if r < 0.865:
        return f"dial tcp {rng.choice(hosts)}:{rng.randrange(1024, 65535)}: connection refused"
    if r < 0.8652:
        return f"panic: runtime error: index out of range [{rng.randrange(100)}] with length {rng.randrange(100)}"
    return (f"worker {rng.randrange(16)} processed {rng.randrange(1, 200)} jobs in {rng.randrange(1, 9000)}ms, "
            f"queue depth {rng.randrange(0, 300)}, city=Zürich")
written = lines = 0
step = total // (evil + 1) if evil else total + 1
next_evil = step
t = 36_000_000
chunk = []
while written < total:
    for _ in range(2000):
        t += rng.randrange(0, 25)
        stamp = f"2026-11-20T{t // 3600000 % 24:02}:{t // 60000 % 60:02}:{t // 1000 % 60:02}.{t % 1000:03}Z"
        lines += 1
        if lines % 100000 == 0:
            text = f"ERROR [db] deadlock detected on table {rng.choice(tables)}, rolling back txn {rng.getrandbits(32):08x}"
        else:
            text = f"{rng.choice(levels):5} [{rng.choice(components)}] {message(lines)}"
        chunk.append(f"{stamp} {text}\n")
    if written >= next_evil and evil:
        chunk += ["a" * 30 + "!\n", "a" * 30 + "\n"]
        lines += 2
        evil -= 1
        next_evil += step
    data = "".join(chunk).encode()
    chunk = []
    view = memoryview(data)
    while view:
        view = view[os.write(1, view):]
    written += len(data)
with open(countfile, "w") as f:
    f.write(str(lines))
"""


def make_log(base, bindir, megabytes, evil):
    """Writes the log through runit; returns (RUNIT_HOME env, log path, facts about the log)."""
    base.mkdir(parents=True, exist_ok=True)
    home = base / "home"
    env = dict(os.environ, RUNIT_HOME=str(home), NO_COLOR="1")
    runit = str(bindir / "runit")
    writer = base / "writer.py"
    writer.write_text(WRITER)
    countfile = base / "lines-written"
    total = megabytes * 1_000_000
    # One log file: rotation only past twice the writer's bytes plus headers.
    run([runit, "start", "gen", "--settle", "0", "--log-max-size", f"{2 * megabytes + 64}M", "--log-keep", "1",
         "--", sys.executable, str(writer), str(total), str(evil), str(countfile)], env=env)
    started = time.perf_counter()
    supervisor = json.loads((home / "procs" / "gen" / "status.json").read_text())["supervisor_pid"]
    # The supervisor exits once the writer has exited and every line is in the log.
    wait_for_exit(supervisor, 1800)
    status = json.loads(run([runit, "status", "gen", "--json"], env=env).stdout)
    if status["state"] != "exited" or status.get("exit_code") != 0:
        raise RuntimeError(f"the log writer ended as {status['state']} (code {status.get('exit_code')})")
    log = pathlib.Path(status["log_path"])
    others = sorted(p.name for p in log.parent.iterdir() if p != log)
    if others:
        raise RuntimeError(f"the log rotated ({', '.join(others)}): searches would see only part of it")
    written = int(countfile.read_text())
    records = pieces = sys_records = 0
    with open(log, "rb") as f:
        for line in f:
            # A record is `<27-character timestamp> <stream>[+] <text>`.
            tag = line[28:32]
            if tag == b"out ":
                records += 1
            elif tag == b"out+":
                pieces += 1
            elif tag == b"sys ":
                sys_records += 1
    facts = {
        "writer_mb": megabytes,
        "log_bytes": log.stat().st_size,
        "lines_written": written,
        "lines_logged": records,
        "pieces": pieces,
        "sys_records": sys_records,
        "write_seconds": round(time.perf_counter() - started, 1),
    }
    if records != written:
        raise RuntimeError(f"{written} lines written, {records} logged")
    return env, log, facts


def count_lines(path):
    lines = 0
    with open(path, "rb") as f:
        while block := f.read(1 << 20):
            lines += block.count(b"\n")
    return lines


def timed_run(argv, out, env, timeout):
    """(seconds, output lines) of one run with stdout into `out`; None on timeout, when the
    whole process group is killed."""
    with open(out, "wb") as stdout, open(f"{out}.err", "wb") as stderr:
        start = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=stdout, stderr=stderr, env=env, start_new_session=True)
        # A pidfd turns readable at the exit: Popen.wait(timeout) polls in sleeps of up to
        # 50 ms, which would round every figure to them.
        pidfd = os.pidfd_open(proc.pid)
        try:
            ended, _, _ = select.select([pidfd], [], [], timeout)
        finally:
            os.close(pidfd)
        if not ended:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            return None
        seconds = time.perf_counter() - start
        code = proc.wait()
    if code not in (0, 1):  # grep and rg exit 1 when nothing matches
        message = pathlib.Path(f"{out}.err").read_text(errors="replace").strip()[:300]
        raise RuntimeError(f"{' '.join(argv)} failed ({code}): {message}")
    return seconds, count_lines(out)


def commands(tool, pattern, ignore_case, peer_pattern, runit, log):
    if tool == "runit":
        return [runit, "logs", "gen", "--grep", pattern, "--lines", "0"] + (["-i"] if ignore_case else [])
    peer = peer_pattern or pattern
    flags = ["-i"] if ignore_case else []
    if tool == "grep":
        return ["grep", "-E", *flags, "-e", peer, str(log)]
    return ["rg", "--no-line-number", "--no-filename", *flags, "-e", peer, str(log)]


def measure(base, bindir, megabytes=500, repeat=5, timeout=120, evil=10, patterns=PATTERNS, log_output=print,
            sources=None):
    """Makes the log under `base` and times every tool on every pattern; a dict for the JSON."""
    tools = ["runit", "grep"]
    notes = []
    if available("rg"):
        tools.append("rg")
    else:
        notes.append("rg is not installed (apt-get install ripgrep); measured without it")
        print(f"note: {notes[-1]}", file=sys.stderr)
    env, log, facts = make_log(base, bindir, megabytes, evil)
    log_output(f"log search: {facts['log_bytes'] / 1e6:.0f} MB log, {facts['lines_logged']} lines "
               f"(all {facts['lines_written']} written), {facts['pieces']} pieces, written in {facts['write_seconds']} s")
    if facts["pieces"]:
        notes.append(f"{facts['pieces']} lines were logged in pieces: runit --grep matches each piece on its own")
    subprocess.run(["cat", str(log)], stdout=subprocess.DEVNULL, check=True)  # warm the page cache
    runit = str(bindir / "runit")
    rows = []
    for label, pattern, ignore_case, peer_pattern in patterns:
        times = {tool: [] for tool in tools}
        counts = {tool: set() for tool in tools}
        timed_out = set()
        # Rounds in turn, so every tool sees the same state of the machine.
        for _ in range(repeat):
            for tool in tools:
                if tool in timed_out:
                    continue
                argv = commands(tool, pattern, ignore_case, peer_pattern, runit, log)
                result = timed_run(argv, base / f"out-{tool}", env, timeout)
                if result is None:
                    timed_out.add(tool)
                    continue
                times[tool].append(result[0])
                counts[tool].add(result[1])
        row = {"pattern": label, "regex": pattern, "ignore_case": ignore_case, "peer_regex": peer_pattern or pattern}
        for tool in tools:
            if tool in timed_out:
                row[f"{tool}_s"] = f"timeout ({timeout} s)"
            else:
                row[f"{tool}_s"] = round(statistics.median(times[tool]), 3)
            # One count per tool, or every count its runs gave when they differ; None: no run ended.
            found = sorted(counts[tool])
            row[f"{tool}_matches"] = found[0] if len(found) == 1 else found or None
        seen = [row[f"{tool}_matches"] for tool in tools if counts[tool]]
        row["counts_agree"] = len(set(map(str, seen))) == 1 and isinstance(seen[0], int)
        peers = [row[f"{t}_s"] for t in tools if t != "runit" and isinstance(row[f"{t}_s"], float)]
        if peers and min(peers) > 0:
            # A timed-out runit is at least the timeout over the best peer: reported as "> N".
            runit_s = row["runit_s"] if isinstance(row["runit_s"], float) else timeout
            row["ratio"] = round(runit_s / min(peers), 1)
            row["ratio_at_least"] = "runit" in timed_out
        rows.append(row)
        log_output(f"  {label:24} " + "  ".join(f"{t}={row[f'{t}_s']} ({row[f'{t}_matches']})" for t in tools)
                   + ("" if row["counts_agree"] else "  COUNTS DIFFER"))
    return {
        "log": facts,
        "repeat": repeat,
        "timeout_s": timeout,
        "tools": {tool: version(tool, runit) for tool in tools},
        "runit_commit": commit(sources or bindir),  # of the sources (the build's folder)
        "locale": os.environ.get("LC_ALL") or os.environ.get("LANG") or "",
        "notes": notes,
        "patterns": rows,
    }


def version(tool, runit):
    argv = [runit, "--version"] if tool == "runit" else [tool, "--version"]
    result = run(argv, check=False)
    return (result.stdout or result.stderr).splitlines()[0] if (result.stdout or result.stderr) else "?"


def commit(bindir):
    """The last commit that changed runit's sources in the checkout the binaries were built in,
    `+dirty` with uncommitted changes there."""
    sources = [":/Sources", ":/Package.swift"]
    git = ["git", "-C", str(bindir)]
    head = run([*git, "log", "-1", "--format=%h", "--", *sources], check=False).stdout.strip()
    if not head:
        return "?"
    dirty = run([*git, "status", "--porcelain", "--", *sources], check=False).stdout.strip()
    return head + ("+dirty" if dirty else "")


def table(result):
    tools = [t for t in ("runit", "grep", "rg") if t in result["tools"]]
    out = ["| pattern | matches | " + " | ".join(f"{t} s" for t in tools) + " | runit / best peer |",
           "|---|---|" + "---|" * len(tools) + "---|"]
    for row in result["patterns"]:
        flag = " (-i)" if row["ignore_case"] else ""
        if row["counts_agree"]:
            matches = str(next(row[f"{t}_matches"] for t in tools if row[f"{t}_matches"] is not None))
        else:
            matches = "DIFFER: " + ", ".join(f"{t} {row[f'{t}_matches']}" for t in tools)
        cells = [str(row[f"{t}_s"]) for t in tools]
        ratio = f"{'> ' if row.get('ratio_at_least') else ''}{row['ratio']}x" if row.get("ratio") is not None else "-"
        regex = row["regex"].replace("|", "\\|")  # a `|` in a Markdown table cell
        out.append(f"| `{regex}`{flag} | {matches} | " + " | ".join(cells) + f" | {ratio} |")
    return "\n".join(out)


def summary(result):
    facts = result["log"]
    return (f"log search, runit (sources at {result['runit_commit']}): {facts['log_bytes'] / 1e6:.0f} MB log of "
            f"{facts['lines_logged']} lines, median of {result['repeat']} runs (wall seconds), warm cache, "
            f"output to a file; ratio is runit against the faster of grep and rg\n\n{table(result)}")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runit-bin", default=str(ROOT / ".build" / "release"))
    parser.add_argument("--mb", type=int, default=500, help="MB of text the writer prints (the log is ~1.3x)")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--timeout", type=float, default=120, help="seconds per run before it counts as a timeout")
    parser.add_argument("--evil", type=int, default=10, help="lines that make a backtracking engine blow up")
    args = parser.parse_args()
    bindir = pathlib.Path(args.runit_bin).resolve()
    base = pathlib.Path(tempfile.mkdtemp(prefix="runit-search-"))
    try:
        result = measure(base, bindir, args.mb, args.repeat, args.timeout, args.evil,
                         log_output=lambda text: print(text, file=sys.stderr))
    finally:
        run([str(bindir / "runit"), "remove", "gen"], env=dict(os.environ, RUNIT_HOME=str(base / "home")), check=False)
        shutil.rmtree(base, ignore_errors=True)
    print("\n" + summary(result))
    out = ROOT / "Benchmarks" / "results"
    out.mkdir(exist_ok=True)
    (out / f"search-{time.strftime('%Y%m%dT%H%M%S')}.json").write_text(json.dumps(result, indent=2))
    if not all(row["counts_agree"] for row in result["patterns"]):
        raise SystemExit("the tools' match counts differ (see the table)")


if __name__ == "__main__":
    main()
