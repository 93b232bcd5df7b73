"""The Spark job equals the single-machine tool on 10,000 generated members.

- `loyalty.spark.simulate` (history read in parallel by read_history) gives
  `loyalty simulate --json`'s report exactly, and the same table text;
- `loyalty.spark.compare` gives `loyalty simulate --compare`'s;
- `loyalty.spark.replay` (history from Parquet) gives, for every member,
  the lines `loyalty replay` prints and the bytes `--state-out` writes, and
  its report (from the same pass) is simulate's again;
- each Python worker loaded each policy once, not per task or row.
"""

from __future__ import annotations

import json
import os
import subprocess
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Dict, List, Tuple

import pytest

from support import policy_path

APPAREL = policy_path("apparel.yaml")
GROCERY = policy_path("grocery.yaml")


def cli_json(cli: str, *args: str) -> dict:
    proc = subprocess.run([cli, "simulate", *args, "--json"], capture_output=True, check=True)
    return json.loads(proc.stdout, parse_float=Decimal)


def cli_text(cli: str, *args: str) -> str:
    return subprocess.run([cli, "simulate", *args], capture_output=True, check=True,
                          text=True).stdout


def as_json(report) -> dict:
    return json.loads(report.to_json(), parse_float=Decimal)


@pytest.fixture(scope="module")
def history(spark, history_path):
    from loyalty import spark as lspark
    h = lspark.read_history(spark, history_path, name=history_path)
    yield h
    h.unpersist()


def test_history_is_read_whole(history, history_path) -> None:
    with open(history_path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    if lines[-1] == "":
        lines.pop()
    assert history.lines == len(lines)
    assert history.member_lines == sum(1 for x in lines if x.startswith('{"member"')) == 10000
    # Every line once, under its member, numbered as in the file.
    rows = history.frame.orderBy("seq").collect()
    assert [r["seq"] for r in rows] == list(range(1, len(lines) + 1))
    assert [r["text"] for r in rows] == lines
    current = None
    for r in rows:
        if r["k"] == 0:
            current = json.loads(r["text"])["member"]["id"]
        assert r["member_id"] == current


def test_simulate_equals_cli(spark, cli, history, history_path) -> None:
    from loyalty import spark as lspark
    expected = cli_json(cli, APPAREL, history_path)
    report = lspark.simulate(APPAREL, history)
    got = as_json(report)
    assert got == expected
    # Not an empty comparison: the history exercises most of the report.
    run = got["runs"][0]
    assert run["members"] == 10000 and run["events"] > 80000
    assert run["events_refused"] > 0 and run["queries"] > 0
    assert run["points"]["issued"] > 0 and run["points"]["redeemed"] > 0
    assert run["points"]["returned"] > 0 and run["benefits_queried"] > 9000
    assert sum(run["gifts"]["upgrade"].values()) > 0
    assert report.table() == cli_text(cli, APPAREL, history_path)
    # Each Python worker process loaded the policy once (the first job to
    # use it), whatever number of tasks it ran.
    x = report.spark
    assert x["tasks"] == 8
    assert 1 <= x["policy_loads"] <= x["worker_processes"] < x["tasks"]


def test_compare_equals_cli(spark, cli, history, history_path) -> None:
    from loyalty import spark as lspark
    expected = cli_json(cli, APPAREL, history_path, "--compare", GROCERY)
    report = lspark.compare(APPAREL, GROCERY, history)
    assert as_json(report) == expected
    assert report.table() == cli_text(cli, APPAREL, history_path, "--compare", GROCERY)
    diffs = {row.label.strip(): row for row in report.differences()}
    a, b = expected["runs"]
    assert diffs["issued"].values == (a["points"]["issued"], b["points"]["issued"])
    assert diffs["issued"].difference == b["points"]["issued"] - a["points"]["issued"]


def _member_files(history_path: str, folder: str) -> Dict[str, str]:
    """One events file per member, as `loyalty replay` takes them."""
    files: Dict[str, str] = {}
    out = None
    with open(history_path, encoding="utf-8") as f:
        for line in f:
            if line.startswith('{"member"'):
                if out:
                    out.close()
                member_id = json.loads(line)["member"]["id"]
                files[member_id] = os.path.join(folder, member_id + ".jsonl")
                out = open(files[member_id], "w", encoding="utf-8")
            out.write(line)
    if out:
        out.close()
    return files


def test_replay_equals_cli_for_every_member(spark, cli, history, history_path, tmp_path) -> None:
    from loyalty import spark as lspark
    # The production path: the history as Parquet tables.
    history.events.write.parquet(str(tmp_path / "events"))
    history.members.write.parquet(str(tmp_path / "members"))
    events = spark.read.parquet(str(tmp_path / "events"))
    members = spark.read.parquet(str(tmp_path / "members"))
    job = lspark.replay(APPAREL, events, members, name=history_path)
    try:
        results: Dict[str, List[Tuple[int, str, str]]] = {}
        for r in job.results.collect():
            results.setdefault(r["member_id"], []).append((r["seq"], r["code"], r["result"]))
        states = {r["member_id"]: (bytes(r["state"]), r["policy"]) for r in job.states.collect()}
        report = as_json(job.report())
    finally:
        job.unpersist()

    assert report == cli_json(cli, APPAREL, history_path)

    folder = tmp_path / "members-cli"
    folder.mkdir()
    files = _member_files(history_path, str(folder))
    assert len(files) == len(results) == len(states) == 10000

    def one(member_id: str) -> Tuple[str, List[str], bytes]:
        path = files[member_id]
        proc = subprocess.run([cli, "replay", APPAREL, path, "--state-out", path + ".state"],
                              capture_output=True, check=True)
        with open(path + ".state", "rb") as f:
            return member_id, proc.stdout.decode("utf-8").splitlines(), f.read()

    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        checked = refused = 0
        fingerprint = job.policy.fingerprint
        for member_id, lines, state in pool.map(one, sorted(files)):
            rows = sorted(results[member_id])
            assert [text for _, _, text in rows] == lines, member_id
            for _, code, text in rows:
                error = json.loads(text).get("error")
                assert code == (error["code"] if error else None), (member_id, text)
                refused += code is not None
            assert states[member_id] == (state, fingerprint), member_id
            checked += 1
    assert checked == 10000 and refused > 1000
