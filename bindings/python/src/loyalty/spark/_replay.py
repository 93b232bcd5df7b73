"""One worker's share of a population job, with no Spark in it.

A `Replayer` takes members one at a time — the member object or stored
state bytes that starts each one, and its event and query lines — replays
them under one or more policies, and collects three kinds of output rows:
results (one per line, the exact text `loyalty replay` prints), final state
bytes, and partial totals that add up, over all workers, to the report of
`loyalty simulate --json`. The Spark module feeds it the rows of one
partition; the benchmark feeds it a file directly.

The counting mirrors cli/simulate.c line by line (what counts as an event,
which effects are issued, returned, redeemed or expired points, which tier
a gift is counted under, the benefits query at each member's last accepted
event), so the totals equal the single-machine tool's exactly. Where the two
must differ — bad input that stops `loyalty simulate` is reported here and
the job goes on — docs/spark.md says how it is counted.
"""

from __future__ import annotations

import ctypes
import json
import os
import re
import threading
import time
from ctypes import byref, c_size_t, c_void_p
from typing import Any, Dict, Iterable, Iterator, List, Optional, Sequence, Tuple

from .. import _ffi
from .._core import Policy
from .._ffi import lib
from ..errors import E_INVALID_ARG, E_NOMEM, error_for

INT64_MIN = -(1 << 63)
INT64_MAX = (1 << 63) - 1

# Input row kinds, in the order a member's rows are sorted: what starts the
# member first, then its lines.
KIND_MEMBER = 0     # a member object (§11.2), {"member": {...}} or the inner object
KIND_STATE = 1      # stored state bytes (§10)
KIND_EVENT = 2      # an event or query line (§11.1, §11.4)

# Output row kinds.
OUT_RESULT = "result"
OUT_STATE = "state"
OUT_TOTALS = "totals"

RESULTS_ALL = "all"
RESULTS_ERRORS = "errors"
RESULTS_NONE = "none"

SOURCES = ("order", "action", "upgrade", "birthday", "surprise", "spend")
GIFT_KINDS = ("upgrade", "birthday", "surprise", "spend")
_SOURCE_SET = frozenset(SOURCES)
_GIFT_INDEX = {k: i for i, k in enumerate(GIFT_KINDS)}

# cli/simulate.c keeps refusals in 64 slots by -code.
CODE_SLOTS = 64

# Keys of the totals rows. Per run: the simulate counters by name, and
# "tier:I", "stage:I", "gift:KIND:I", "benefit:I", "issued:SOURCE",
# "refusal:CODE" by position in the policy (I = the count for an id the
# policy lacks, or no stage). Keys starting "x:" are the Spark job's own
# (inputs simulate would have stopped on); they are not part of the report.
COUNTERS = (
    "members", "members_refused", "events", "events_refused", "queries", "imported",
    "returned", "redeemed", "expired", "available", "pending", "gift_credit",
    "upgrades", "downgrades", "paid_started", "paid_extended", "paid_ended", "paid_refunds",
    "benefits_queried", "overflow",
)


# ------------------------------------------------------------ policy cache

_POLICIES: Dict[str, Policy] = {}
_POLICIES_LOCK = threading.Lock()


def cached_policy(fingerprint: str, source: bytes, name: Optional[str] = None) -> Tuple[Policy, bool]:
    """The policy of that fingerprint, loaded once per process (a Spark
    executor's Python worker lives across tasks) and shared by every task
    and thread after; returns (policy, whether this call loaded it)."""
    policy = _POLICIES.get(fingerprint)
    if policy is not None:
        return policy, False
    with _POLICIES_LOCK:
        policy = _POLICIES.get(fingerprint)
        if policy is not None:
            return policy, False
        policy = Policy.from_string(source, name=name)
        if policy.fingerprint != fingerprint:
            raise ValueError(f"policy {name!r}: the source shipped has fingerprint "
                             f"{policy.fingerprint}, not {fingerprint}")
        _POLICIES[fingerprint] = policy
        return policy, True


# ---------------------------------------------------------------- instants

_INSTANT = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt]([0-9]{2}):([0-9]{2}):([0-9]{2})"
    r"(?:\.([0-9]+))?(?:[Zz]|([+-])([0-9]{2}):([0-9]{2}))")
_DAYS_IN_MONTH = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def _days_from_civil(y: int, m: int, d: int) -> int:
    # The library's loy_day_from_ymd (H. Hinnant's days_from_civil): days
    # since 1970-01-01, valid from year 0, in integers.
    y -= m <= 2
    era = y // 400
    yoe = y - era * 400
    doy = (153 * (m + (-3 if m > 2 else 9)) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def instant_us(text: Any) -> Optional[int]:
    """The UTC microsecond that orders an instant (POLICY.md §1), exactly as
    the library's parser reads it (lib/date.c loy_parse_instant: fraction
    digits after the sixth ignored, offset up to 23:59); None when the text
    is not an instant the library accepts."""
    if not isinstance(text, str):
        return None
    m = _INSTANT.fullmatch(text)
    if m is None:
        return None
    y, mo, d, hh, mi, ss = (int(m.group(i)) for i in range(1, 7))
    if not 1 <= mo <= 12 or hh > 23 or mi > 59 or ss > 59:
        return None
    leap = y % 4 == 0 and (y % 100 != 0 or y % 400 == 0)
    if not 1 <= d <= (29 if mo == 2 and leap else _DAYS_IN_MONTH[mo - 1]):
        return None
    frac = m.group(7) or ""
    micros = int((frac[:6] or "0").ljust(6, "0"))
    offset = 0
    if m.group(8):
        oh, om = int(m.group(9)), int(m.group(10))
        if oh > 23 or om > 59:
            return None
        offset = oh * 60 + om
        if m.group(8) == "-":
            offset = -offset
    local_s = _days_from_civil(y, mo, d) * 86400 + hh * 3600 + mi * 60 + ss
    return (local_s - offset * 60) * 1_000_000 + micros


def _first_wins(pairs: List[Tuple[str, Any]]) -> Dict[str, Any]:
    # The wire's reader keeps a repeated key and reads the first (docs/wire.md).
    out: Dict[str, Any] = {}
    for k, v in pairs:
        out.setdefault(k, v)
    return out


def parse_line(line: str, *, exact: bool = False) -> Any:
    """A JSON line read as the wire reads it (the first of a repeated key
    wins); raises ValueError when it is not JSON. Without exact, only "at"
    is read the wire's way: it can repeat only when written twice or hidden
    behind an escape, and the plain decoder, faster, is exact otherwise."""
    if exact or "\\u" in line or line.count('"at"') > 1:
        return json.loads(line, object_pairs_hook=_first_wins)
    return json.loads(line)


_AT_VALUE = re.compile(r'"at"[ \t\r\n]*:[ \t\r\n]*"([^"]*)"')


def line_at(line: Optional[str]) -> Any:
    """The top-level "at" of an event or query line, or None. A line with one
    "at" and no escape is searched as text; any other is parsed. The search
    can only be wrong for a line that lacks a top-level "at" (its "at" is
    nested) or is not JSON, and the library refuses such a line wherever it
    stands, so its place in the order does not matter."""
    if not line:
        return None
    if "\\" not in line and line.count('"at"') == 1:
        m = _AT_VALUE.search(line)
        return m.group(1) if m else None
    try:
        obj = parse_line(line)
    except (ValueError, RecursionError):
        return None
    return obj.get("at") if isinstance(obj, dict) else None


def _plain_offset(at: Any) -> Optional[str]:
    # "YYYY-MM-DDTHH:MM:SS+HH:MM" or "...SSZ": the offset part, else None.
    if isinstance(at, str):
        if len(at) == 25 and at[19] in "+-":
            return at[19:]
        if len(at) == 20 and at[19] in "Zz":
            return "Z"
    return None


def order_lines(rows: Sequence[Tuple[int, Optional[str], Optional[int], Optional[str]]]) -> List[int]:
    """The order in which one member's lines are replayed: by instant (the
    library's UTC microsecond), ties by arrival (seq). rows are (seq, line,
    at_us, at_text): at_us when the caller gave a timestamp, else at_text
    when it gave the instant as text, else the line's own "at". A line
    without a readable instant is refused wherever it stands, so it is
    replayed first, in arrival order, and cannot disturb the others.
    Returns the indexes of rows in replay order."""
    ats: List[Any] = []
    exact = False
    for seq, line, at_us, at_text in rows:
        if at_us is not None:
            exact = True
            ats.append(at_us)
        else:
            ats.append(at_text if at_text is not None else line_at(line))
    keys: List[Tuple[Any, ...]] = []
    if not exact:
        # Every instant written the same way with one offset (the usual
        # case, §1): the text's order is the instants' order, and a text that
        # is not an instant at all is refused wherever it lands.
        offsets = {_plain_offset(at) for at in ats if at is not None}
        if len(offsets) == 1 and None not in offsets:
            for i, at in enumerate(ats):
                seq = rows[i][0]
                keys.append((0, seq) if at is None else (1, at[:10], at[11:19], seq))
            return sorted(range(len(rows)), key=keys.__getitem__)
    for i, at in enumerate(ats):
        seq = rows[i][0]
        us = at if isinstance(at, int) and not isinstance(at, bool) else instant_us(at)
        keys.append((0, seq) if us is None else (1, us, seq))
    return sorted(range(len(rows)), key=keys.__getitem__)


# ----------------------------------------------------------------- helpers

def _int(v: Any) -> int:
    # loy_node_int: the value of an int node, 0 for anything else.
    return v if type(v) is int else 0


def _text(v: Any) -> str:
    # node_text of simulate.c: the text of a string node, "" otherwise.
    return v if isinstance(v, str) else ""


_ERROR_NAMES: Dict[int, str] = {}


def error_name(code: int) -> str:
    name = _ERROR_NAMES.get(code)
    if name is None:
        name = _ffi.text(lib.loy_error_name(code)) or "LOY_E_UNKNOWN"
        _ERROR_NAMES[code] = name
    return name


def error_object(code_name: str, message: str) -> str:
    """An error object of the wire's shape, as `loyalty replay` prints one for
    a failure the library does not answer with a result (state bytes that do
    not load)."""
    return ('{"event": null, "error": {"code": ' + json.dumps(code_name, ensure_ascii=False)
            + ', "message": ' + json.dumps(message, ensure_ascii=False) + "}}")


class Output:
    """Columns of output rows, handed out in chunks to bound memory."""

    COLUMNS = ("kind", "run", "member_id", "seq", "event_id", "code", "result", "state",
               "key", "value")

    def __init__(self) -> None:
        self.cols: Dict[str, List[Any]] = {c: [] for c in self.COLUMNS}
        self.rows = 0

    def add(self, kind: str, run: int, member_id: Optional[str], seq: Optional[int] = None,
            event_id: Optional[str] = None, code: Optional[str] = None,
            result: Optional[str] = None, state: Optional[bytes] = None,
            key: Optional[str] = None, value: Optional[int] = None) -> None:
        c = self.cols
        c["kind"].append(kind)
        c["run"].append(run)
        c["member_id"].append(member_id)
        c["seq"].append(seq)
        c["event_id"].append(event_id)
        c["code"].append(code)
        c["result"].append(result)
        c["state"].append(state)
        c["key"].append(key)
        c["value"].append(value)
        self.rows += 1

    def take(self) -> Dict[str, List[Any]]:
        out = self.cols
        self.cols = {c: [] for c in self.COLUMNS}
        self.rows = 0
        return out


# -------------------------------------------------------------------- run

class _Run:
    """One policy's side of the job in this worker: a member and a result
    handle reused for every member (as simulate does), and its counters."""

    def __init__(self, index: int, fingerprint: str, source: bytes, name: Optional[str]) -> None:
        self.index = index
        self.policy, self.loaded = cached_policy(fingerprint, source, name)
        self.pp = self.policy._handle().ptr
        m = _ffi.MemberP()
        rc = lib.loy_member_create(byref(m), self.pp)
        if rc != 0 or not m:
            raise error_for(rc or E_NOMEM)
        r = _ffi.ResultP()
        rc = lib.loy_result_new(byref(r), self.pp)
        if rc != 0 or not r:
            lib.loy_member_free(m)
            raise error_for(rc or E_NOMEM)
        self.m, self.r = m, r
        self.tier_index = {e.id: i for i, e in enumerate(self.policy.tiers)}
        self.tier_count = len(self.tier_index)
        self.stage_index = {e.id: i for i, e in enumerate(self.policy.stages)}
        self.stage_count = len(self.stage_index)
        self.benefit_count = len(self.policy.benefits)
        self.t: Dict[str, int] = {}

    def close(self) -> None:
        lib.loy_result_free(self.r)
        lib.loy_member_free(self.m)
        self.m = self.r = None

    def add(self, key: str, v: int) -> None:
        self.t[key] = self.t.get(key, 0) + v

    def result_text(self) -> str:
        n = c_size_t(0)
        ptr = lib.loy_result_json(self.r, byref(n))
        if not ptr:
            raise error_for(E_NOMEM, "the result could not be written")
        return ctypes.string_at(ptr, n.value).decode("utf-8", "replace")

    def tier(self, tier_id: str) -> int:
        return self.tier_index.get(tier_id, self.tier_count)

    # simulate.c count_effects
    def count_effects(self, answer: Dict[str, Any]) -> None:
        member_tier: Optional[str] = None
        for e in answer.get("effects") or ():
            kind = e.get("type")
            if kind == "points":
                delta = _int(e.get("delta"))
                source = e.get("source")
                if source == "return":
                    self.add("returned", -delta)
                elif source == "redeem":
                    self.add("redeemed", -delta)
                elif source == "expiry":
                    self.add("expired", -delta)
                elif source in _SOURCE_SET:
                    self.add("issued:" + source, delta)
            elif kind == "gift":
                k = _GIFT_INDEX.get(e.get("gift"))   # type: ignore[arg-type]
                if k is None:
                    continue
                # Upgrade and birthday gifts name their tier; the others go
                # with the tier the member has after the event.
                if "tier" in e:
                    tier = _text(e["tier"])
                else:
                    if member_tier is None:
                        member = answer.get("member")
                        member_tier = _text(member.get("tier")) if isinstance(member, dict) else ""
                    tier = member_tier
                self.add(f"gift:{GIFT_KINDS[k]}:{self.tier(tier)}", 1)
                reward = e.get("reward")
                if isinstance(reward, dict) and "credit" in reward:
                    self.add("gift_credit", _int(reward["credit"]))
            elif kind == "tier_changed":
                if self.tier(_text(e.get("to"))) > self.tier(_text(e.get("from"))):
                    self.add("upgrades", 1)
                else:
                    self.add("downgrades", 1)
            elif kind == "paid_started":
                self.add("paid_extended" if e.get("extended") is True else "paid_started", 1)
            elif kind == "paid_ended":
                self.add("paid_ended", 1)
                self.add("paid_refunds", _int(e.get("refund")))

    # simulate.c finish_member
    def finish(self, last_line: Optional[str]) -> None:
        m = self.m
        self.add(f"tier:{self.tier(_ffi.text(lib.loy_member_tier(m)) or '')}", 1)
        stage = _ffi.text(lib.loy_member_stage(m))
        self.add(f"stage:{self.stage_index.get(stage, self.stage_count) if stage is not None else self.stage_count}", 1)
        self.add("available", int(lib.loy_member_points_available(m)))
        self.add("pending", int(lib.loy_member_points_pending(m)))
        if not last_line:
            return
        try:
            at = parse_line(last_line).get("at")
        except (ValueError, RecursionError, AttributeError):
            return
        if not isinstance(at, str) or "\x00" in at:
            return
        if lib.loy_query_benefits(self.pp, m, at.encode("utf-8"), None, None, self.r) != 0:
            return
        self.add("benefits_queried", 1)
        root = lib.loy_result_root(self.r)
        b = lib.loy_node_first(lib.loy_node_get(root, b"benefits"))
        i = 0
        while b and i < self.benefit_count:
            if lib.loy_node_bool(lib.loy_node_get(b, b"open")):
                self.add(f"benefit:{i}", 1)
            b = lib.loy_node_next(b)
            i += 1


# --------------------------------------------------------------- replayer

PolicySpec = Tuple[str, bytes, Optional[str]]   # (fingerprint, source bytes, name)
Head = Tuple[int, int, Optional[str], Optional[bytes]]          # (kind, seq, member text, state)
EventRow = Tuple[int, Optional[str], Optional[int], Optional[str]]  # (seq, line, at_us, at text)


class Replayer:
    """Replays members one at a time under each policy and collects output.

    results: "all" (a row per line and per refused member), "errors" (only
    refusals) or "none"; states: whether to write each member's final state.
    """

    def __init__(self, policies: Sequence[PolicySpec], *, results: str = RESULTS_ALL,
                 states: bool = True) -> None:
        if results not in (RESULTS_ALL, RESULTS_ERRORS, RESULTS_NONE):
            raise ValueError(f"results must be 'all', 'errors' or 'none', not {results!r}")
        self.runs = [_Run(i, fp, src, name) for i, (fp, src, name) in enumerate(policies)]
        self.results = results
        self.states = states
        self.out = Output()
        self.x: Dict[str, int] = {}
        self.started = time.process_time()

    def close(self) -> None:
        for run in self.runs:
            run.close()

    def _x(self, key: str, v: int = 1) -> None:
        self.x[key] = self.x.get(key, 0) + v

    def _result(self, run: int, member_id: Optional[str], seq: Optional[int],
                event_id: Optional[str], code: Optional[str], text: str) -> None:
        if self.results == RESULTS_ALL or (self.results == RESULTS_ERRORS and code is not None):
            self.out.add(OUT_RESULT, run, member_id, seq, event_id, code, text)

    def _skip(self, member_id: Optional[str], seq: Optional[int], message: str) -> None:
        # Not the library's refusal but the job's: a member it cannot start.
        text = error_object("LOY_E_INVALID_MEMBER", message)
        for run in self.runs:
            self._result(run.index, member_id, seq, None, "LOY_E_INVALID_MEMBER", text)

    def member(self, member_id: Optional[str], heads: Sequence[Head],
               events: Sequence[EventRow]) -> None:
        """One member: what starts it (exactly one member object or state
        bytes) and its lines in any order; they are replayed by instant, ties
        by seq."""
        self._x("x:member_rows", sum(1 for h in heads if h[0] == KIND_MEMBER))
        self._x("x:state_rows", sum(1 for h in heads if h[0] == KIND_STATE))
        self._x("x:event_rows", len(events))
        if len(heads) != 1 or member_id is None:
            first = min([h[1] for h in heads] + [e[0] for e in events], default=None)
            if member_id is None:
                self._x("x:lines_without_member", len(heads) + len(events))
                self._skip(None, first, f"{len(events)} lines without a member_id (an event "
                           "before the first member line, or a null member_id): skipped")
            elif not heads:
                self._x("x:members_missing")
                self._x("x:events_skipped", len(events))
                self._skip(member_id, first, f"no member object or state bytes for member "
                           f"{member_id!r}: its {len(events)} lines were skipped")
            else:
                self._x("x:members_duplicated")
                self._x("x:events_skipped", len(events))
                self._skip(member_id, first, f"member {member_id!r} is given {len(heads)} "
                           f"times (member objects or state bytes): it was skipped with its "
                           f"{len(events)} lines")
            return

        lines = []
        for i in order_lines(events):
            seq, line = events[i][0], events[i][1]
            lines.append((seq, line, (line or "").encode("utf-8")))

        kind, head_seq, text, state = heads[0]
        for run in self.runs:
            self._member_run(run, member_id, kind, head_seq, text, state, lines)

    def _start(self, run: _Run, member_id: str, kind: int, seq: int, text: Optional[str],
               state: Optional[bytes]) -> bool:
        if kind == KIND_MEMBER:
            data = _member_line(text or "").encode("utf-8")
            rc = lib.loy_member_init_json(run.m, data, len(data), run.r)
            if rc in (E_NOMEM, E_INVALID_ARG):
                raise error_for(rc, _ffi.text(lib.loy_result_message(run.r)) or "")
            if rc != 0:
                run.add("members_refused", 1)
                self._result(run.index, member_id, seq, None, error_name(rc), run.result_text())
                return False
        else:
            raw = bytes(state or b"")
            buf = ctypes.create_string_buffer(raw, len(raw))
            rc = lib.loy_member_load(run.m, buf, len(raw))
            if rc == E_NOMEM:
                raise error_for(rc)
            if rc != 0:
                why = _ffi.text(lib.loy_member_error(run.m)) or _ffi.text(lib.loy_strerror(rc)) or ""
                run.add("members_refused", 1)
                self._result(run.index, member_id, seq, None, error_name(rc),
                             error_object(error_name(rc), why))
                return False
        got = _ffi.text(lib.loy_member_id(run.m)) or ""
        if got != member_id:
            run.add("members_refused", 1)
            what = "member object" if kind == KIND_MEMBER else "state"
            self._result(run.index, member_id, seq, None, "LOY_E_INVALID_MEMBER",
                         error_object("LOY_E_INVALID_MEMBER",
                                      f"the {what} is member {got!r}, not {member_id!r}: skipped"))
            return False
        return True

    def _member_run(self, run: _Run, member_id: str, kind: int, head_seq: int,
                    text: Optional[str], state: Optional[bytes],
                    lines: Sequence[Tuple[int, Optional[str], bytes]]) -> None:
        if not self._start(run, member_id, kind, head_seq, text, state):
            return
        run.add("members", 1)
        run.add("imported", int(lib.loy_member_points_available(run.m)))
        pp, m, r = run.pp, run.m, run.r
        apply_line = lib.loy_apply_json_line
        result_json = lib.loy_result_json
        string_at = ctypes.string_at
        n = c_size_t(0)
        nref = byref(n)
        want = self.results
        add = run.add
        last_line: Optional[str] = None
        for seq, line, data in lines:
            rc = apply_line(pp, m, data, len(data), r)
            if rc == E_NOMEM or rc == E_INVALID_ARG:
                raise error_for(rc, _ffi.text(lib.loy_result_message(r)) or "")
            ptr = result_json(r, nref)
            if not ptr:
                raise error_for(E_NOMEM, "the result could not be written")
            raw = string_at(ptr, n.value)
            # The writer puts "query" or "event" first (docs/wire.md); an
            # answer of any other shape is read whole.
            answer: Optional[Dict[str, Any]] = None
            if raw.startswith(b'{"query"'):
                is_query = True
            elif raw.startswith(b'{"event": null'):
                is_query, event_id = False, None
            elif raw.startswith(b'{"event": "') and raw.find(b'\\', 11, raw.find(b'"', 11)) < 0:
                is_query = False
                event_id = raw[11:raw.find(b'"', 11)].decode("utf-8", "replace")
            else:
                answer = json.loads(raw)
                is_query = "query" in answer
                event_id = answer.get("event")
                event_id = event_id if isinstance(event_id, str) else None
            code = error_name(rc) if rc else None
            if want == RESULTS_ALL or (want == RESULTS_ERRORS and rc):
                self.out.add(OUT_RESULT, run.index, member_id, seq,
                             None if is_query else event_id, code, raw.decode("utf-8", "replace"))
            if is_query:
                add("queries", 1)
                continue
            add("events", 1)
            if rc:
                add("events_refused", 1)
                if rc < 0 and -rc < CODE_SLOTS:
                    add(f"refusal:{rc}", 1)
                continue
            if b'"effects": []' not in raw:
                run.count_effects(answer if answer is not None else json.loads(raw))
            last_line = line
        run.finish(last_line)
        if self.states:
            ptr = c_void_p()
            n = c_size_t(0)
            rc = lib.loy_member_to_bytes(m, byref(ptr), byref(n))
            if rc != 0:
                raise error_for(rc, _ffi.text(lib.loy_member_error(m)) or "")
            self.out.add(OUT_STATE, run.index, member_id,
                         state=ctypes.string_at(ptr.value, n.value) if ptr.value else b"")

    def totals(self) -> None:
        """Add this worker's partial totals as rows (one per key)."""
        # What this task cost the worker process, for benchmarks.
        self._x("x:tasks")
        self._x(f"x:pid:{os.getpid()}")
        self._x("x:worker_cpu_ms", int((time.process_time() - self.started) * 1000))
        self.started = time.process_time()
        for run in self.runs:
            t = dict(run.t)
            t["x:policy_loads"] = 1 if run.loaded else 0
            run.loaded = False
            if run.index == 0:
                t.update(self.x)
            for key, v in sorted(t.items()):
                if v > INT64_MAX or v < INT64_MIN:
                    # Beyond int64 in one worker: kept capped, and the run
                    # reports an overflow as simulate does.
                    v = INT64_MAX if v > 0 else INT64_MIN
                    self.out.add(OUT_TOTALS, run.index, None, key="overflow", value=1)
                if v:
                    self.out.add(OUT_TOTALS, run.index, None, key=key, value=v)
            run.t = {}
        self.x = {}


def _member_line(text: str) -> str:
    """A member row's text as the wire's member line: {"member": {...}} as
    given, or the inner object wrapped (textually, so nothing is re-encoded)."""
    try:
        obj = parse_line(text)
    except (ValueError, RecursionError):
        return text          # the library says what is wrong with it
    if isinstance(obj, dict) and "member" not in obj:
        return '{"member": ' + text + "}"
    return text


def is_blank(line: str) -> bool:
    """simulate.c's blank line: only spaces, tabs and CRs."""
    return not line.strip(" \t\r")


def classify_line(line: str) -> Tuple[int, Optional[str]]:
    """A history line (docs/wire.md) as simulate reads it: (KIND_MEMBER, id)
    for a member line, (KIND_EVENT, member_id or None) for anything else;
    member_id is the event's own "member_id" when it names one."""
    # Only a line that mentions "member" (or escapes a key) can be a member
    # line or carry member_id (simulate.c feed_line).
    if "member" not in line and "\\u" not in line:
        return KIND_EVENT, None
    try:
        obj = parse_line(line, exact=True)
    except (ValueError, RecursionError):
        return KIND_EVENT, None
    if not isinstance(obj, dict):
        return KIND_EVENT, None
    if "member" in obj and "type" not in obj and "query" not in obj:
        inner = obj["member"]
        mid = inner.get("id") if isinstance(inner, dict) else None
        return KIND_MEMBER, mid if isinstance(mid, str) else ""
    mid = obj.get("member_id")
    return KIND_EVENT, mid if isinstance(mid, str) else None


def replay_rows(replayer: Replayer,
                rows: Iterable[Tuple[Optional[str], int, int, Optional[str], Optional[bytes],
                                     Optional[int], Optional[str]]],
                chunk_rows: int = 8192) -> Iterator[Dict[str, List[Any]]]:
    """Feed rows (member_id, kind, seq, text, state, at_us, at), grouped by
    member_id (each member's rows contiguous, in any order among them), to a
    replayer; yields its output in chunks of about chunk_rows rows, the
    partial totals in the last one."""
    unset = object()
    current: Any = unset
    heads: List[Head] = []
    events: List[EventRow] = []
    for member_id, kind, seq, text, state, at_us, at in rows:
        if member_id != current:
            if current is not unset:
                replayer.member(current, heads, events)
                if replayer.out.rows >= chunk_rows:
                    yield replayer.out.take()
            current, heads, events = member_id, [], []
        if kind == KIND_EVENT:
            events.append((seq, text, at_us, at))
        else:
            heads.append((kind, seq, text, state))
    if current is not unset:
        replayer.member(current, heads, events)
    replayer.totals()
    yield replayer.out.take()
