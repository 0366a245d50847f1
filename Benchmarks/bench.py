#!/usr/bin/env python3
"""runit's benchmark harness: runit side by side with supervisord, runit (runsv) and s6.

Each manager runs N `sleep` processes; the harness measures, in one run:
  list      one listing of all N processes (median of --repeat runs)
  status    the status of one process (median of --repeat runs), beside the floor of any
            command: `true`, and a static Swift executable that does nothing
  restart   stop + start of one process, waiting until it is really down and up again
  start_all starting all N and waiting until all run
  pss_kb    supervisor memory (PSS) per managed process
  idle_cpu  CPU of all supervisors over --idle seconds, as % of one core
and, for runit alone, log throughput through the supervisor against a direct file write;
with --search (and in --full and --quick), `runit logs --grep` against grep and rg.

runit's executables are first copied out of --runit-bin into the run's folder, as
`Scripts/install` copies them: a file the linker wrote itself is slower to start on this
kernel (about 0.25 ms a command here) than the same bytes copied, as any installed program is.

  python3 Benchmarks/bench.py --quick            # smoke: N=10, small, about 45 s
  python3 Benchmarks/bench.py --full             # N = 10, 100, 1000 (about 10 minutes)
  python3 Benchmarks/bench.py --search --n 10    # with log search against grep and rg (search_bench.py)
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

from managers import S6, SLEEP, Runit, Runsv, Supervisord, pids_matching, run

ROOT = pathlib.Path(__file__).resolve().parents[1]


def timed(fn):
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) * 1000


def pss_kb(pids):
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/smaps_rollup") as f:
                for line in f:
                    if line.startswith("Pss:"):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total


def cpu_ticks(pids):
    total = 0
    for pid in pids:
        try:
            fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except (OSError, IndexError):
            pass
    return total


WRITER = """
import os, sys
total = int(sys.argv[1])
line = b"x" * 99 + b"\\n"
written = 0
if sys.argv[2] == "line":
    # One write per line, as a program that logs line by line (line-buffered) does.
    while written < total:
        os.write(1, line)
        written += len(line)
else:
    # About 1 MiB of 100-byte lines per write: the fastest a program can hand over its output.
    block = line * 10486
    while written < total:
        os.write(1, block)
        written += len(block)
os.write(1, b"END\\n")
"""


def wait_for_exit(pid, timeout):
    """Blocks until `pid` (not our child) has exited, without polling: a pidfd turns readable."""
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        return
    try:
        ready, _, _ = select.select([fd], [], [], timeout)
        if not ready:
            raise TimeoutError(f"pid {pid} still running after {timeout} s")
    finally:
        os.close(fd)


def throughput_once(base, bindir, total, writer, mode):
    """Seconds for the writer straight into a file, through `cat` into a file (any pipe relay's
    floor), and through a runit supervisor into its log."""
    target = base / "direct.out"
    # Each timing starts with nothing dirty in the page cache: the writeback of the run before
    # (hundreds of MB) would otherwise land on whichever figure is taken while it runs.
    os.sync()
    start = time.perf_counter()
    with open(target, "wb") as out:
        subprocess.run([sys.executable, str(writer), str(total), mode], stdout=out, check=True)
    direct = time.perf_counter() - start
    size = target.stat().st_size
    target.unlink()

    os.sync()
    start = time.perf_counter()
    with open(target, "wb") as out:
        producer = subprocess.Popen([sys.executable, str(writer), str(total), mode], stdout=subprocess.PIPE)
        subprocess.run(["cat"], stdin=producer.stdout, stdout=out, check=True)
        producer.stdout.close()
        producer.wait()
    relay = time.perf_counter() - start
    target.unlink()

    home = base / "tp-home"
    env = dict(os.environ, RUNIT_HOME=str(home))
    runit = str(bindir / "runit")
    os.sync()
    start = time.perf_counter()
    run([runit, "start", "tp", "--settle", "0", "--log-max-size", "64M", "--log-keep", "100", "--",
         sys.executable, str(writer), str(total), mode], env=env)
    # The supervisor exits once the writer has exited and every line is in the log; waiting on
    # it with a pidfd costs nothing, where polling `runit status` would take CPU from the run.
    supervisor = json.loads((home / "procs" / "tp" / "status.json").read_text())["supervisor_pid"]
    wait_for_exit(supervisor, 600)
    through = time.perf_counter() - start
    state = json.loads(run([runit, "status", "tp", "--json"], env=env).stdout)["state"]
    if state != "exited":
        raise RuntimeError(f"the throughput writer ended as {state}, not exited")
    lines = 0
    for path in (home / "procs" / "tp" / "logs").iterdir():
        with open(path, "rb") as f:
            # A record is `<27-character timestamp> <stream> <text>`: count the stdout ones.
            lines += sum(1 for line in f if line[28:32] == b"out ")
    run([runit, "remove", "tp"], env=env, check=False)
    return direct, through, size, lines, relay


def throughput(base, bindir, megabytes, mode, rounds=3):
    """MB/s of a writer through the runit supervisor, through `cat` and straight into a file:
    the median of `rounds` runs of each, taken in turn so that all see the same page cache."""
    total = megabytes * 1024 * 1024
    writer = base / "writer.py"
    writer.write_text(WRITER)
    runs = [throughput_once(base, bindir, total, writer, mode) for _ in range(rounds)]
    size = runs[0][2]
    direct = statistics.median(r[0] for r in runs)
    through = statistics.median(r[1] for r in runs)
    relay = statistics.median(r[4] for r in runs)
    return {
        "megabytes": megabytes,
        "writes": mode,
        "rounds": rounds,
        "direct_mb_s": round(size / direct / 1e6, 1),
        "cat_mb_s": round(size / relay / 1e6, 1),
        "runit_mb_s": round(size / through / 1e6, 1),
        "ratio": round(direct / through, 2),
        "cat_ratio": round(direct / relay, 2),
        "lines_logged": min(r[3] for r in runs),
        "lines_written": size // 100 + 1,
    }


def measure(manager, repeat, idle_seconds):
    figures = {"n": manager.n}
    figures["start_all_ms"] = round(timed(manager.start_all), 1)
    time.sleep(0.5)
    subprocess.run(["sync"])
    lists = [timed(manager.list) for _ in range(repeat)]
    figures["list_ms"] = round(statistics.median(lists), 2)
    figures["status_ms"] = round(statistics.median(timed(manager.status) for _ in range(repeat)), 2)
    restarts = [timed(manager.restart) for _ in range(max(3, repeat // 2))]
    figures["restart_ms"] = round(statistics.median(restarts), 2)
    if isinstance(manager, Runit):
        figures["restart_command_ms"] = round(statistics.median(timed(manager.restart_command) for _ in range(3)), 1)
    pids = manager.supervisor_pids()
    figures["supervisor_processes"] = len(pids)
    figures["pss_kb_per_process"] = round(pss_kb(pids) / manager.n, 1)
    before = cpu_ticks(pids)
    time.sleep(idle_seconds)
    ticks = cpu_ticks(manager.supervisor_pids()) - before
    figures["idle_cpu_percent"] = round(ticks / os.sysconf("SC_CLK_TCK") / idle_seconds * 100, 3)
    return figures


def floor(base, repeat):
    """What any command costs this harness: `/bin/true`, and a static Swift executable that
    starts and exits (the floor of runit's front), timed as the managers' commands are;
    the Swift one only where `swiftc` can build it."""
    figures = {"true_ms": round(statistics.median(timed(lambda: run(["true"])) for _ in range(repeat)), 2)}
    source = base / "floor.swift"
    source.write_text("#if canImport(Glibc)\nimport Glibc\n#endif\nexit(0)\n")
    built = base / "floor-built"
    binary = base / "floor"
    if available("swiftc") and run(["swiftc", "-O", "-static-executable", str(source), "-o", str(built)],
                                   check=False).returncode == 0:
        shutil.copy2(built, binary)  # installed as runit's executables are (see install_runit)
        figures["static_swift_ms"] = round(statistics.median(timed(lambda: run([str(binary)])) for _ in range(repeat)), 2)
    return figures


def install_runit(bindir, base):
    """Copies runit's executables into `base/bin`, as `Scripts/install` does, and returns it."""
    installed = base / "bin"
    installed.mkdir()
    for tool in ("runit", "runit-cli", "runit-supervise", "runit-mcp"):
        if (bindir / tool).exists():
            shutil.copy2(bindir / tool, installed / tool)
    return installed


def available(tool):
    return shutil.which(tool) is not None


def table(results):
    columns = ["list_ms", "status_ms", "restart_ms", "start_all_ms", "pss_kb_per_process", "idle_cpu_percent"]
    out = ["| N | manager | " + " | ".join(columns) + " |", "|---|---|" + "---|" * len(columns)]
    for n in sorted({r["n"] for r in results}):
        rows = [r for r in results if r["n"] == n]
        for row in rows:
            cells = []
            for column in columns:
                peers = [r[column] for r in rows if r["manager"] != "runit" and column in r]
                if column not in row:
                    cells.append(row.get("error", "-"))
                    continue
                value = row[column]
                cell = f"{value}"
                if row["manager"] == "runit" and peers:
                    best = min(peers)
                    cell += f" ({value / best:.2f}x best)" if best > 0 else " (best peer 0)"
                cells.append(cell)
            out.append(f"| {n} | {row['manager']} | " + " | ".join(cells) + " |")
    return "\n".join(out)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="smoke run: N=10, few repeats, tiny throughput")
    parser.add_argument("--full", action="store_true", help="N = 10, 100, 1000")
    parser.add_argument("--n", default=None, help="comma-separated process counts")
    parser.add_argument("--runit-bin", default=str(ROOT / ".build" / "release"))
    parser.add_argument("--repeat", type=int, default=None)
    parser.add_argument("--idle", type=float, default=None, help="idle seconds for the CPU figure")
    parser.add_argument("--throughput-mb", type=int, default=None)
    parser.add_argument("--peers", default="supervisord,runsv,s6")
    parser.add_argument("--throughput-only", action="store_true", help="only the log throughput figure")
    parser.add_argument("--search", action="store_true", help="also log search against grep and rg (search_bench.py); "
                        "in --full (500 MB) and --quick (20 MB)")
    parser.add_argument("--search-mb", type=int, default=None, help="MB the log search writer prints")
    args = parser.parse_args()

    counts = [10] if args.quick else [10, 100, 1000] if args.full else [100]
    if args.n:
        counts = [int(x) for x in args.n.split(",")]
    if args.throughput_only:
        counts = []
    repeat = args.repeat or (5 if args.quick else 20)
    block_mb = args.throughput_mb or (20 if args.quick else 1000)
    line_mb = args.throughput_mb or (5 if args.quick else 200)
    bindir = pathlib.Path(args.runit_bin).resolve()
    peers = []
    for peer, tool, cls in [("supervisord", "supervisord", Supervisord), ("runsv", "runsvdir", Runsv), ("s6", "s6-svscan", S6)]:
        if peer in args.peers.split(",") and available(tool):
            peers.append(cls)
        elif peer in args.peers.split(","):
            print(f"note: {peer} is not installed (apt-get install supervisor runit s6); measuring without it", file=sys.stderr)

    base = pathlib.Path(tempfile.mkdtemp(prefix="runit-bench-"))
    results = []
    try:
        built = bindir
        bindir = install_runit(built, base)
        for n in counts:
            idle = args.idle if args.idle is not None else (2 if args.quick else 60 if n == 100 else 10)
            for make in [lambda b, n: Runit(b, n, bindir)] + [lambda b, n, c=c: c(b, n) for c in peers]:
                manager = make(base / f"n{n}", n)
                try:
                    figures = measure(manager, repeat, idle)
                except (RuntimeError, TimeoutError) as error:
                    figures = {"n": n, "error": str(error)[:200]}
                finally:
                    manager.teardown()
                figures["manager"] = manager.name
                results.append(figures)
                print(f"  {manager.name:12} N={n:5}  " + "  ".join(f"{k}={v}" for k, v in figures.items() if k not in ("manager", "n")), file=sys.stderr)
        floors = floor(base, repeat) if counts else {}
        if results:
            print("\n" + table(results))
            print("\nthe floor of a command, timed the same way: " + ", ".join(f"{k} {v}" for k, v in floors.items()))
        flows = []
        for mode, megabytes in (("block", block_mb), ("line", line_mb)):
            flow = throughput(base, bindir, megabytes, mode, rounds=1 if args.quick else 5)
            flows.append(flow)
            print(f"\nlog throughput, {flow['megabytes']} MiB of 100-byte lines, one write per {mode}: "
                  f"direct {flow['direct_mb_s']} MB/s, through cat {flow['cat_mb_s']} MB/s (ratio {flow['cat_ratio']}), "
                  f"through the runit supervisor {flow['runit_mb_s']} MB/s, ratio {flow['ratio']} "
                  f"({flow['lines_logged']} of {flow['lines_written']} lines logged)")
            if flow["lines_logged"] < flow["lines_written"]:
                raise SystemExit("lines were lost in the log")
        search = None
        if args.search or args.full or args.quick:
            import search_bench
            search = search_bench.measure(base / "search", bindir, args.search_mb or (20 if args.quick else 500),
                                          repeat=3 if args.quick else 5, timeout=30 if args.quick else 120,
                                          evil=1 if args.quick else 10, log_output=lambda t: print(t, file=sys.stderr),
                                          sources=built)
            print("\n" + search_bench.summary(search))
        out = ROOT / "Benchmarks" / "results"
        out.mkdir(exist_ok=True)
        stamp = time.strftime("%Y%m%dT%H%M%S")
        figures = {"results": results, "floor": floors, "throughput": flows, "search": search}
        (out / f"bench-{stamp}.json").write_text(json.dumps(figures, indent=2))
        if search and not all(row["counts_agree"] for row in search["patterns"]):
            raise SystemExit("log search: the tools' match counts differ")
    finally:
        # Everything the run started: supervisors under the temp dir and, whatever a peer's
        # teardown left behind (s6-supervise exits on SIGTERM and leaves its service up),
        # the managed `sleep` processes, whose argument is this harness's own.
        leftovers = pids_matching(str(base)) + pids_matching(f"^sleep {SLEEP}$")
        for pid in leftovers:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
