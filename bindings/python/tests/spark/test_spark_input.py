"""What the Spark job does with bad input, with order, and with state bytes.

Expected values are worked out by hand from POLICY.md: under
policies/minimal.yaml (1 point per 1.00 of spend, rounded down; `vip` at
500.00 of lifetime spend; no redemption, no benefits, no lifecycle) an
order of 100.00 earns 100 points and one of 450.50 earns 450 and reaches
vip (550.50 in all).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from typing import Dict, List

import pytest

import loyalty
from support import REPO, policy_path

MINIMAL = policy_path("minimal.yaml")
APPAREL = policy_path("apparel.yaml")

JOINED = '{"id": "%s", "joined": "2026-01-01"}'


def order(oid: str, at: str, amount: int) -> str:
    return json.dumps({"type": "order", "id": oid, "at": at,
                       "lines": [{"sku": "S-1", "category": "tees", "amount": amount}]})


def tick(tid: str, at: str) -> str:
    return json.dumps({"type": "tick", "id": tid, "at": at})


def by_member(rows) -> Dict[str, List]:
    out: Dict[str, List] = {}
    for r in sorted(rows, key=lambda r: (r["member_id"] or "", r["seq"])):
        out.setdefault(r["member_id"], []).append(r)
    return out


def summary(tier: str, available: int) -> dict:
    return {"tier": tier, "points": {"available": available, "pending": 0}, "stage": None}


@pytest.fixture(scope="module")
def minimal() -> loyalty.Policy:
    return loyalty.Policy.from_file(MINIMAL)


def test_bad_input_is_reported_and_the_job_goes_on(spark, minimal, tmp_path) -> None:
    from loyalty import spark as lspark
    good = loyalty.Member.new(minimal, "E-1", "2026-01-01").to_bytes()
    corrupt = bytearray(good)
    corrupt[len(corrupt) // 2] ^= 0xFF
    events = spark.createDataFrame([
        ("A-1", 2, order("O-1", "2026-02-01T10:00:00+08:00", 10000)),
        ("A-1", 3, '{"type": "order", "id": "O-2", '),                       # not JSON
        ("A-1", 4, order("O-1", "2026-02-02T10:00:00+08:00", 99900)),        # duplicate id
        ("A-1", 5, order("O-3", "2026-02-03T10:00:00+08:00", 45050)),
        ("A-1", 6, json.dumps({"type": "redeem", "id": "X-1", "at": "2026-02-04T10:00:00+08:00",
                               "points": 100, "order_amount": 10000})),       # no points.redeem
        ("A-1", 7, '{"query": "benefits", "at": "2026-02-05T10:00:00+08:00"}'),
        ("B-1", 8, tick("T-1", "2026-02-01T00:00:00+08:00")),
        ("C-1", 9, tick("T-1", "2026-02-01T00:00:00+08:00")),                # no member at all
        ("D-1", 10, tick("T-1", "2026-02-01T00:00:00+08:00")),
        ("E-1", 11, order("E-O1", "2026-02-01T10:00:00+08:00", 20000)),
        ("F-1", 12, tick("T-1", "2026-02-01T00:00:00+08:00")),
        ("G-1", 13, tick("T-1", "2026-02-01T00:00:00+08:00")),
    ], "member_id string, seq long, event string")
    members = spark.createDataFrame([
        ("A-1", JOINED % "A-1"),                                       # the inner object
        ("B-1", '{"member": {"id": "B-1", "joined": "2026-01-01", "tier": "gold"}}'),
        ("F-1", JOINED % "F-1"),
        ("F-1", JOINED % "F-1"),                                       # given twice
        ("G-1", JOINED % "G-2"),                                       # another member's object
    ], "member_id string, member string")
    states = spark.createDataFrame([("D-1", bytes(corrupt)), ("E-1", good)],
                                   "member_id string, state binary")

    job = lspark.replay(MINIMAL, events, members, states, partitions=3)
    results = by_member(job.results.collect())
    final = {r["member_id"]: bytes(r["state"]) for r in job.states.collect()}
    report = job.report()

    a = results["A-1"]
    assert [(r["seq"], r["event_id"], r["code"]) for r in a] == [
        (2, "O-1", None), (3, None, "LOY_E_JSON"), (4, "O-1", "LOY_E_DUPLICATE"),
        (5, "O-3", None), (6, "X-1", "LOY_E_REDEEM_DISABLED"), (7, None, None)]
    first = json.loads(a[0]["result"])
    assert first == {"event": "O-1", "effects": [
        {"type": "points", "delta": 100, "source": "order", "rules": []}],
        "member": summary("member", 100)}
    third = json.loads(a[3]["result"])
    assert third["effects"] == [
        {"type": "points", "delta": 450, "source": "order", "rules": []},
        {"type": "tier_changed", "from": "member", "to": "vip", "reason": "upgrade"}]
    assert third["member"] == summary("vip", 550)
    assert json.loads(a[5]["result"])["member"] == summary("vip", 550)
    # A refused line changed nothing: the state is that of the two orders.
    member = loyalty.Member.from_bytes(minimal, final["A-1"])
    assert (member.tier, member.points_available, member.points_pending) == ("vip", 550, 0)

    for member_id, code in (("B-1", "LOY_E_UNKNOWN_TIER"), ("C-1", "LOY_E_INVALID_MEMBER"),
                            ("D-1", "LOY_E_STATE_CHECKSUM"), ("F-1", "LOY_E_INVALID_MEMBER"),
                            ("G-1", "LOY_E_INVALID_MEMBER")):
        rows = results[member_id]
        assert [(r["event_id"], r["code"]) for r in rows] == [(None, code)], member_id
        answer = json.loads(rows[0]["result"])
        assert answer["event"] is None and answer["error"]["code"] == code
        assert member_id not in final

    e = results["E-1"]
    assert json.loads(e[0]["result"]) == {"event": "E-O1", "effects": [
        {"type": "points", "delta": 200, "source": "order", "rules": []}],
        "member": summary("member", 200)}
    assert sorted(final) == ["A-1", "E-1"]

    run = report.runs[0]
    assert (run["members"], run["members_refused"]) == (2, 3)          # A, E / B, D, G
    assert (run["events"], run["events_refused"], run["queries"]) == (6, 3, 1)
    assert run["refusals"] == {"LOY_E_DUPLICATE": 1, "LOY_E_REDEEM_DISABLED": 1, "LOY_E_JSON": 1}
    assert run["points"]["issued_by_source"]["order"] == 750
    assert run["points"]["outstanding"] == 750
    assert run["liability"] == {"points": 750, "money": None}
    assert run["tiers"] == {"member": 1, "vip": 1}
    assert run["no_stage"] == 2
    assert report.spark["members_missing"] == 1
    assert report.spark["members_duplicated"] == 1

    # Written in one pass and read back, the job says the same.
    back = job.write_parquet(str(tmp_path / "job"))
    assert by_member(back.results.collect()) == results
    assert {r["member_id"]: bytes(r["state"]) for r in back.states.collect()} == final
    assert back.report().to_dict() == report.to_dict()
    job.unpersist()


UTC = dt.timezone.utc


@pytest.mark.parametrize("at_column", ["none", "text", "timestamp"])
def test_lines_are_replayed_by_instant_then_arrival(spark, at_column) -> None:
    from loyalty import spark as lspark
    # T-3 is written later in local time than T-2 but happens earlier
    # (2026-02-28 17:00 UTC against 18:00 UTC): replayed by the text it
    # would be refused as out of order.
    rows = [
        (41, order("O-9", "2026-03-02T09:00:00+08:00", 2000)),   # same instant, arrived second
        (30, tick("T-3", "2026-03-01T01:00:00+08:00")),
        (40, order("O-9", "2026-03-02T09:00:00+08:00", 1000)),   # same instant, arrived first
        (20, tick("T-2", "2026-02-28T18:00:00+00:00")),
        (5, tick("T-0", "yesterday")),                            # no instant: refused anyway
        (10, tick("T-1", "2026-02-01T00:00:00+08:00")),
    ]
    instants = {
        41: dt.datetime(2026, 3, 2, 1, 0, tzinfo=UTC), 30: dt.datetime(2026, 2, 28, 17, 0, tzinfo=UTC),
        40: dt.datetime(2026, 3, 2, 1, 0, tzinfo=UTC), 20: dt.datetime(2026, 2, 28, 18, 0, tzinfo=UTC),
        5: None, 10: dt.datetime(2026, 2, 1, 0, 0, tzinfo=dt.timezone(dt.timedelta(hours=8))),
    }
    if at_column == "none":
        events = spark.createDataFrame([("H-1", s, e) for s, e in rows],
                                       "member_id string, seq long, event string")
    elif at_column == "text":
        events = spark.createDataFrame(
            [("H-1", s, e, json.loads(e)["at"]) for s, e in rows],
            "member_id string, seq long, event string, at string")
    else:
        events = spark.createDataFrame(
            [("H-1", s, e, instants[s]) for s, e in rows],
            "member_id string, seq long, event string, at timestamp")
    members = spark.createDataFrame([("H-1", JOINED % "H-1")], "member_id string, member string")
    job = lspark.replay(MINIMAL, events, members, partitions=2, persist=False)
    got = {r["seq"]: r for r in job.results.collect()}
    assert got[5]["code"] == "LOY_E_INVALID_EVENT"
    for seq in (10, 20, 30):
        assert got[seq]["code"] is None, got[seq]["result"]
    # The tie goes to the line that arrived first: 10.00 earns 10 points,
    # and the second O-9 is a duplicate.
    assert got[40]["code"] is None
    assert json.loads(got[40]["result"])["effects"][0]["delta"] == 10
    assert got[41]["code"] == "LOY_E_DUPLICATE"


def test_instants_order_as_the_library_reads_them() -> None:
    from loyalty.spark import instant_us

    def us(*args, tz=UTC) -> int:
        # The standard library as the oracle for the arithmetic.
        t = dt.datetime(*args, tzinfo=tz)
        return (t - dt.datetime(1970, 1, 1, tzinfo=UTC)) // dt.timedelta(microseconds=1)

    assert instant_us("1970-01-01T00:00:00Z") == 0
    assert instant_us("1970-01-01T08:00:00+08:00") == 0
    assert instant_us("1969-12-31T23:59:59.999999Z") == -1
    assert instant_us("2026-11-11T20:15:00+08:00") == us(2026, 11, 11, 12, 15)
    assert instant_us("2026-11-11t20:15:00.1234567-05:30") == \
        us(2026, 11, 12, 1, 45) + 123456          # digits after the sixth ignored
    assert instant_us("2028-02-29T00:00:00z") == us(2028, 2, 29)
    assert instant_us("0000-01-01T00:00:00Z") == -719528 * 86400 * 1_000_000
    for bad in ("2026-02-29T00:00:00Z", "2026-01-01T24:00:00Z", "2026-01-01T00:60:00Z",
                "2026-01-01T00:00:60Z", "2026-01-01 00:00:00Z", "2026-01-01T00:00:00",
                "2026-01-01T00:00:00+24:00", "2026-01-01T00:00:00+08:60", "2026-01-01T00:00:00.Z",
                "2026-01-01T00:00:00+0800", "２０２６-01-01T00:00:00Z", "2026-13-01T00:00:00Z",
                None, 5):
        assert instant_us(bad) is None, bad


def test_nightly_states_are_what_the_pos_loads_next_morning(spark, cli, tmp_path) -> None:
    """Last night's job writes state bytes; this morning the POS loads those
    same bytes (POLICY.md §10) and applies the day's first event; tonight's
    job starts from them again. All three agree with `loyalty replay
    --state-in`."""
    from loyalty import spark as lspark

    path = tmp_path / "year.jsonl"
    with open(path, "w", encoding="utf-8") as out:
        subprocess.run([sys.executable, os.path.join(REPO, "scripts", "gen-history.py"),
                        "--members", "40", "--events", "20", "--seed", "5"], stdout=out, check=True)
    history = lspark.read_history(spark, str(path))
    night = lspark.replay(APPAREL, history, results="none")
    states = {r["member_id"]: bytes(r["state"]) for r in night.states.collect()}
    assert len(states) == 40

    policy = loyalty.Policy.from_file(APPAREL)
    quiet = sorted(states)[:5]      # no event this morning
    morning = {m: order(f"N-{m}", "2027-01-02T10:00:00+08:00", 59900)
               for m in states if m not in quiet}
    pos: Dict[str, str] = {}
    pos_state: Dict[str, bytes] = {}
    for member_id, state in states.items():
        if member_id in quiet:
            pos_state[member_id] = state
            continue
        member = loyalty.Member.from_bytes(policy, state)
        pos[member_id] = member.apply_json(morning[member_id]).to_json()
        pos_state[member_id] = member.to_bytes()
        # The program a back office would run on the same bytes.
        state_file = tmp_path / f"{member_id}.state"
        state_file.write_bytes(state)
        events_file = tmp_path / f"{member_id}.jsonl"
        events_file.write_text(morning[member_id] + "\n", encoding="utf-8")
        out = subprocess.run([cli, "replay", APPAREL, str(events_file), "--state-in",
                              str(state_file)], capture_output=True, check=True, text=True)
        assert json.loads(out.stdout) == json.loads(pos[member_id])

    tonight = lspark.replay(
        APPAREL, spark.createDataFrame([(m, 1, e) for m, e in morning.items()],
                                       "member_id string, seq long, event string"),
        states=night.states.select("member_id", "state"))
    got = {r["member_id"]: r["result"] for r in tonight.results.collect()}
    assert {m: json.loads(t) for m, t in got.items()} == {m: json.loads(t) for m, t in pos.items()}
    # Members without an event come back with the bytes they went in with.
    assert {r["member_id"]: bytes(r["state"]) for r in tonight.states.collect()} == pos_state
    assert len(pos_state) == 40 and len(got) == 35
    assert all(json.loads(t).get("error") is None for t in got.values())
    night.unpersist()
    tonight.unpersist()
    history.unpersist()


def test_policies_travel_as_source_text(spark, tmp_path) -> None:
    from loyalty import spark as lspark
    with open(MINIMAL, "rb") as f:
        source = f.read()
    by_bytes = lspark.PolicySource.of(source, name="minimal")
    by_path = lspark.PolicySource.of(MINIMAL)
    assert by_bytes.fingerprint == by_path.fingerprint == loyalty.Policy.from_file(MINIMAL).fingerprint
    with pytest.raises(TypeError):
        lspark.PolicySource.of(loyalty.Policy.from_file(MINIMAL))
    with pytest.raises(loyalty.PolicyError):
        lspark.PolicySource.of(b"loyalty_policy: 2\n")


def test_read_history_as_simulate_reads_lines(spark, tmp_path) -> None:
    from loyalty import spark as lspark
    lines = [
        "\ufeff" + tick("T-0", "2026-01-01T00:00:00+08:00"),     # before any member line
        " \t",
        '{"member": {"id": "M-1", "joined": "2026-01-01"}}\r',   # CRLF
        tick("T-1", "2026-01-02T00:00:00+08:00"),
        json.dumps({"type": "tick", "id": "T-9", "at": "2026-01-03T00:00:00+08:00",
                    "member_id": "M-2"}),                          # names its member
        '{"member": {"id": "M-2", "id": "M-X", "joined": "2026-01-01"}}',   # first "id" wins
        tick("T-2", "2026-01-04T00:00:00+08:00"),
    ]
    path = tmp_path / "h.jsonl"
    path.write_bytes(("\n".join(lines) + "\n").encode("utf-8"))
    history = lspark.read_history(spark, str(path))
    assert (history.lines, history.member_lines) == (7, 2)
    rows = [tuple(r) for r in history.frame.orderBy("seq").collect()]
    assert rows == [
        (None, 2, 1, lines[0][1:]),
        ("M-1", 0, 3, lines[2]),
        ("M-1", 2, 4, lines[3]),
        ("M-2", 2, 5, lines[4]),
        ("M-2", 0, 6, lines[5]),
        ("M-2", 2, 7, lines[6]),
    ]
    report = lspark.simulate(MINIMAL, history, partitions=2)
    assert report.spark["lines_without_member"] == 1
    run = report.runs[0]
    assert (run["members"], run["events"], run["events_refused"]) == (2, 3, 0)
    history.unpersist()
