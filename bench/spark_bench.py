#!/usr/bin/env python3
"""Members per second of the Spark population jobs, against `loyalty simulate`.

    python3 bench/spark_bench.py [--members 20000] [--events 50] [--nightly-members 100000]

Generates a history (scripts/gen-history.py), then measures on this machine:

- `loyalty simulate --json` alone (one process, one core);
- the job's Python worker alone, no Spark (loyalty.spark's replayer in one
  process, fed the same lines), for the cost of the binding itself;
- the Spark jobs in local mode with 1 and 2 cores, each in a fresh JVM,
  reading their input from Parquet (as a production job reads its tables):
  `simulate` of the year (the report only), `replay` of the year (results
  and state bytes written to Parquet, the report from the same pass), and
  the nightly job (--nightly-members members with a short past: their
  stored states and tonight's events, one order each, in; results and new
  states out). Each job runs twice; the second run (workers warm, as
  through a long job) is the figure, the first is shown too.

Wall time depends on what else the machine runs (the load average is
printed); CPU time is the whole application's (driver, JVM, Python
workers). The 70-million-member figures divide by members per CPU-second:
members share nothing, so the job scales with the cores it is given, and a
cluster's cores are not shared with another tenant. Not a test:
it prints figures. docs/spark.md quotes them.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from typing import Any, Dict, List

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
SPEC = os.environ.get("LOYALTY_SPEC_DIR") or os.path.normpath(os.path.join(REPO, "..", "shared", "spec"))


def child_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def bench_cli(cli: str, policy: str, history: str, members: int) -> Dict[str, Any]:
    best: Dict[str, Any] = {}
    for _ in range(3):
        c0, t0 = child_cpu(), time.perf_counter()
        subprocess.run([cli, "simulate", policy, history, "--json"], check=True,
                       stdout=subprocess.DEVNULL)
        wall, cpu = time.perf_counter() - t0, child_cpu() - c0
        if not best or wall < best["wall_s"]:
            best = {"wall_s": wall, "cpu_s": cpu, "members_per_s": members / wall}
    return best


def bench_python(policy: str, history: str, members: int) -> Dict[str, Any]:
    """The replayer of loyalty.spark without Spark: what one Python worker
    does per member."""
    from loyalty.spark import _replay as R
    from loyalty.spark import PolicySource
    spec = PolicySource.of(policy)
    rows = history_rows(history)
    out: Dict[str, Any] = {}
    for results in ("none", "all"):
        replayer = R.Replayer([spec.spec()], results=results, states=results == "all")
        c0, t0 = time.process_time(), time.perf_counter()
        for _ in R.replay_rows(replayer, rows):
            pass
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        replayer.close()
        out["simulate" if results == "none" else "replay"] = {
            "wall_s": wall, "cpu_s": cpu, "members_per_s": members / wall}
    return out


def history_rows(history: str) -> List[Any]:
    from loyalty.spark import _replay as R
    rows: List[Any] = []
    current = None
    with open(history, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if R.is_blank(line):
                continue
            kind, member_id = R.classify_line(line)
            if kind == R.KIND_MEMBER:
                current = member_id
                rows.append((member_id, kind, number, line, None, None, None))
            else:
                rows.append((member_id or current, kind, number, line, None, None, None))
    return rows


def prepare_nightly(policy: str, members: int, seed: int, folder: str) -> Dict[str, Any]:
    """The nightly job's input: members whose stored states hold a short
    past (gen-history --events 3), and the next day's events, one order
    each; as Parquet. Returns the Python worker's own time for the night."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    from loyalty.spark import _replay as R
    from loyalty.spark import PolicySource
    spec = PolicySource.of(policy)
    history = os.path.join(folder, "past.jsonl")
    with open(history, "w", encoding="utf-8") as out:
        subprocess.run([sys.executable, os.path.join(REPO, "scripts", "gen-history.py"),
                        "--members", str(members), "--events", "3", "--seed", str(seed)],
                       stdout=out, check=True)
    replayer = R.Replayer([spec.spec()], results="none", states=True)
    states: Dict[str, List[Any]] = {"member_id": [], "state": []}
    for chunk in R.replay_rows(replayer, history_rows(history)):
        for kind, member_id, state in zip(chunk["kind"], chunk["member_id"], chunk["state"]):
            if kind == R.OUT_STATE:
                states["member_id"].append(member_id)
                states["state"].append(state)
    day: Dict[str, List[Any]] = {"member_id": list(states["member_id"]), "seq": [], "event": []}
    for n, member_id in enumerate(day["member_id"]):
        day["seq"].append(n + 1)
        day["event"].append(json.dumps({
            "type": "order", "id": f"N-{member_id}", "at": "2027-01-02T10:00:00+08:00",
            "channel": "pos", "lines": [{"sku": "COAT-1", "category": "coats",
                                         "amount": 59900, "qty": 1}]}))
    for name, table in (("states", states), ("day", day)):
        os.makedirs(os.path.join(folder, name))
        pq.write_table(pa.table(table), os.path.join(folder, name, "part-0.parquet"))
    rows = [(m, R.KIND_STATE, 0, None, st, None, None)
            for m, st in zip(states["member_id"], states["state"])]
    rows += [(m, R.KIND_EVENT, q, e, None, None, None)
             for m, q, e in zip(day["member_id"], day["seq"], day["event"])]
    rows.sort(key=lambda r: r[0])
    replayer = R.Replayer([spec.spec()], results="all", states=True)
    c0, t0 = time.process_time(), time.perf_counter()
    for _ in R.replay_rows(replayer, rows):
        pass
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    return {"wall_s": wall, "cpu_s": cpu, "members_per_s": members / wall}


def to_parquet(history: str, folder: str) -> None:
    from loyalty import spark as lspark
    spark = lspark.local_session(2, app_name="loyalty-bench-prepare")
    h = lspark.read_history(spark, history)
    h.events.write.parquet(os.path.join(folder, "events"))
    h.members.write.parquet(os.path.join(folder, "members"))
    spark.stop()


def tree_cpu(root: int) -> float:
    """CPU seconds of a process and all its descendants, alive or reaped
    (/proc: utime, stime and the reaped children's cutime, cstime)."""
    tick = os.sysconf("SC_CLK_TCK")
    parent: Dict[int, int] = {}
    cpu: Dict[int, float] = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid = int(name)
        parent[pid] = int(fields[1])
        cpu[pid] = sum(int(x) for x in fields[11:15]) / tick
    total = 0.0
    for pid in cpu:
        p = pid
        while p and p != root:
            p = parent.get(p, 0)
        if p == root:
            total += cpu[pid]
    return total


def worker(cores: int, policy: str, folder: str, members: int, nightly: int) -> Dict[str, Any]:
    """One core count, in this (fresh) process and JVM. CPU is the whole
    application's: this driver, the JVM, and the Python workers under it."""
    from loyalty import spark as lspark
    spark = lspark.local_session(cores, app_name=f"loyalty-bench-{cores}", partitions=8 * cores)
    jvm = spark.sparkContext._gateway.proc.pid

    def app_cpu() -> float:
        return time.process_time() + tree_cpu(jvm)

    events = spark.read.parquet(os.path.join(folder, "events"))
    member_rows = spark.read.parquet(os.path.join(folder, "members"))
    day = spark.read.parquet(os.path.join(folder, "day"))
    states = spark.read.parquet(os.path.join(folder, "states"))
    out: Dict[str, Any] = {"cores": cores}
    for job in ("simulate", "replay", "nightly"):
        runs = []
        for attempt in range(2):
            t0, c0 = time.perf_counter(), app_cpu()
            target = os.path.join(folder, f"out-{job}-{cores}-{attempt}")
            if job == "simulate":
                report = lspark.simulate(policy, events, member_rows)
            elif job == "replay":
                run = lspark.replay(policy, events, member_rows, persist=False)
                report = run.write_parquet(target, mode="overwrite").report()
            else:
                run = lspark.replay(policy, day, states=states, persist=False)
                report = run.write_parquet(target, mode="overwrite").report()
            count = nightly if job == "nightly" else members
            assert report.runs[0]["members"] == count
            runs.append((time.perf_counter() - t0, app_cpu() - c0,
                         report.spark["worker_cpu_ms"] / 1000))
        wall, cpu, worker_cpu = runs[1]
        out[job] = {"first_wall_s": runs[0][0], "wall_s": wall, "cpu_s": cpu,
                    "load_average": os.getloadavg()[0],
                    "worker_cpu_s": worker_cpu, "members_per_s": count / wall,
                    "members_per_cpu_s": count / cpu}
    spark.stop()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--members", type=int, default=20000)
    ap.add_argument("--events", type=int, default=50, help="events per member, on average")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--nightly-members", type=int, default=100000,
                    help="members of the nightly job (a short past each, one order tonight)")
    ap.add_argument("--policy", default=os.path.join(SPEC, "policies", "apparel.yaml"))
    ap.add_argument("--cli", default=os.environ.get("LOYALTY_CLI")
                    or os.path.join(REPO, os.environ.get("BUILD", "build"), "loyalty"))
    ap.add_argument("--cores", default="1,2", help="Spark core counts to measure")
    ap.add_argument("--target", type=int, default=70_000_000, help="members to extrapolate to")
    ap.add_argument("--json", action="store_true", help="print the figures as JSON too")
    ap.add_argument("--worker", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--folder", help=argparse.SUPPRESS)
    args = ap.parse_args()

    if args.worker:
        print(json.dumps(worker(args.worker, args.policy, args.folder, args.members,
                                args.nightly_members)))
        return

    folder = tempfile.mkdtemp(prefix="loyalty-spark-bench-")
    try:
        history = os.path.join(folder, "history.jsonl")
        with open(history, "w", encoding="utf-8") as out:
            subprocess.run([sys.executable, os.path.join(REPO, "scripts", "gen-history.py"),
                            "--members", str(args.members), "--events", str(args.events),
                            "--seed", str(args.seed)], stdout=out, check=True)
        with open(history, "rb") as f:
            lines = sum(1 for _ in f)
        print(f"history: {args.members} members, {lines} lines "
              f"(gen-history --events {args.events} --seed {args.seed}); policy {args.policy}; "
              f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}", flush=True)

        figures: Dict[str, Any] = {"members": args.members, "lines": lines,
                                   "load_average": os.getloadavg()[0]}
        figures["loyalty_simulate"] = bench_cli(args.cli, args.policy, history, args.members)
        figures["python_worker"] = bench_python(args.policy, history, args.members)
        figures["python_worker"]["nightly"] = prepare_nightly(args.policy, args.nightly_members,
                                                              args.seed, folder)
        to_parquet(history, folder)
        figures["spark"] = []
        for cores in [int(c) for c in args.cores.split(",")]:
            proc = subprocess.run([sys.executable, __file__, "--worker", str(cores),
                                   "--folder", folder, "--policy", args.policy,
                                   "--members", str(args.members),
                                   "--nightly-members", str(args.nightly_members)],
                                  check=True, stdout=subprocess.PIPE, text=True)
            figures["spark"].append(json.loads(proc.stdout.strip().splitlines()[-1]))
    finally:
        shutil.rmtree(folder, ignore_errors=True)

    print()
    print(f"{'':40} {'members/s':>10} {'wall s':>7} {'CPU s':>7} {'members/CPU s':>14}")
    ls = figures["loyalty_simulate"]
    print(f"{'loyalty simulate (C, 1 core)':40} {ls['members_per_s']:10.0f} {ls['wall_s']:7.2f} "
          f"{ls['cpu_s']:7.2f} {args.members / ls['cpu_s']:14.0f}")
    for job, f in figures["python_worker"].items():
        label = f"Python worker alone, {job}"
        count = args.nightly_members if job == "nightly" else args.members
        print(f"{label:40} {f['members_per_s']:10.0f} {f['wall_s']:7.2f} {f['cpu_s']:7.2f} "
              f"{count / f['cpu_s']:14.0f}")
    for s in figures["spark"]:
        for job in ("simulate", "replay", "nightly"):
            f = s[job]
            label = f"Spark local[{s['cores']}], {job}"
            print(f"{label:40} {f['members_per_s']:10.0f} {f['wall_s']:7.2f} {f['cpu_s']:7.2f} "
                  f"{f['members_per_cpu_s']:14.0f}   (first run {f['first_wall_s']:.1f} s wall; "
                  f"Python workers {f['worker_cpu_s']:.1f} s CPU; load {f['load_average']:.1f})")
    print("(simulate: the year, report only; replay: the year, results and state bytes written "
          "to Parquet, the report from the same pass; nightly: stored states of members with a short past and one order "
          "per member, written likewise; CPU: the whole application, driver, JVM and Python "
          "workers)")

    # A cluster's cores are its own: extrapolate from members per CPU-second
    # of the whole application, which another tenant's load does not change.
    print()
    print(f"{args.target:,} members, 4 cores per executor, at the lowest members per "
          "core-second measured:")
    print(f"  {'':28} {'nightly':>10} {'year replay':>12} {'year simulate':>14}")
    rates = {job: min(s[job]["members_per_cpu_s"] for s in figures["spark"])
             for job in ("nightly", "replay", "simulate")}
    figures["members_per_core_s"] = rates
    for executors in (10, 25, 50, 100, 200):
        cells = [args.target / (rates[job] * 4 * executors) / 60
                 for job in ("nightly", "replay", "simulate")]
        print(f"  {executors:4d} executors ({4 * executors:4d} cores) "
              f"{cells[0]:8.1f} min {cells[1]:8.1f} min {cells[2]:10.1f} min")
    simulate_rate = args.members / figures["loyalty_simulate"]["cpu_s"]
    print(f"  `loyalty simulate` on one core: {args.target / simulate_rate / 3600:.1f} h")
    if args.json:
        print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
