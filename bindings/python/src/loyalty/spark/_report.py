"""The simulate report built from summed partial totals.

`Report.to_dict()` has exactly the shape and the figures of `loyalty simulate
--json` (cli/simulate.c json_run), and `Report.table()` is the text of its
table (print_table), so a Spark run and a single-machine run of the same
history can be compared value for value and line for line.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Dict, List, Mapping, NamedTuple, Optional, Sequence, Tuple

from .._core import Policy, _dump
from ._replay import CODE_SLOTS, GIFT_KINDS, INT64_MAX, INT64_MIN, SOURCES, error_name


class _Sat:
    """Totals read back from summed rows: a sum outside int64 is capped and
    flags the run's overflow, as simulate.c's saturating add does."""

    def __init__(self, totals: Mapping[str, int]) -> None:
        self.t = totals
        self.overflow = bool(totals.get("overflow"))

    def __call__(self, key: str) -> int:
        return self.cap(int(self.t.get(key, 0)))

    def cap(self, v: int) -> int:
        if v > INT64_MAX:
            self.overflow = True
            return INT64_MAX
        if v < INT64_MIN:
            self.overflow = True
            return INT64_MIN
        return v


def share(n: int, d: int) -> Optional[Decimal]:
    """n/d with four decimals, rounded half up in integers (simulate.c jshare)."""
    if d == 0:
        return None
    x = (n * 20000 // d + 1) // 2
    return Decimal(f"{x // 10000}.{x % 10000:04d}")


def share_text(n: int, d: int) -> str:
    """"42.1%" (simulate.c share_text)."""
    if d == 0:
        return "-"
    tenths = (n * 2000 // d + 1) // 2
    return f"{tenths // 10}.{tenths % 10}%"


def run_report(name: str, policy: Policy, totals: Mapping[str, int]) -> Dict[str, Any]:
    """One run's report, in the shape of simulate.c json_run."""
    t = _Sat(totals)
    tiers = [e.id for e in policy.tiers]
    stages = [e.id for e in policy.stages]
    benefits = [b.id for b in policy.benefits]
    nt, ns = len(tiers), len(stages)

    issued_by = {s: t("issued:" + s) for s in SOURCES}
    issued = sum(issued_by.values())
    if issued > INT64_MAX or issued < INT64_MIN:   # total_issued: INT64_MAX on overflow
        issued = INT64_MAX
    available, pending = t("available"), t("pending")
    outstanding = available + pending
    if outstanding > INT64_MAX or outstanding < INT64_MIN:
        outstanding = INT64_MAX
    money: Optional[int] = None
    rate = policy.redeem_rate
    if rate is not None and rate[0] > 0:
        # floor(outstanding × amount / points), toward minus infinity.
        money = max(INT64_MIN, min(INT64_MAX, outstanding * rate[1] // rate[0]))

    gifts: Dict[str, Dict[str, int]] = {}
    for kind in GIFT_KINDS:
        by_tier = {tier: t(f"gift:{kind}:{i}") for i, tier in enumerate(tiers)}
        other = t(f"gift:{kind}:{nt}")
        if other:
            by_tier["(other)"] = other
        gifts[kind] = by_tier

    queried = t("benefits_queried")
    refusals: Dict[str, int] = {}
    for c in range(CODE_SLOTS):
        n = t(f"refusal:{-c}")
        if n:
            refusals[error_name(-c)] = n

    report: Dict[str, Any] = {
        "policy": name,
        "fingerprint": policy.fingerprint,
        "members": t("members"),
        "members_refused": t("members_refused"),
        "events": t("events"),
        "events_refused": t("events_refused"),
        "queries": t("queries"),
        "tiers": {tier: t(f"tier:{i}") for i, tier in enumerate(tiers)},
        "stages": {stage: t(f"stage:{i}") for i, stage in enumerate(stages)},
        "no_stage": t(f"stage:{ns}"),
        "points": {
            "imported": t("imported"),
            "issued": issued,
            "issued_by_source": issued_by,
            "returned": t("returned"),
            "redeemed": t("redeemed"),
            "expired": t("expired"),
            "outstanding": outstanding,
            "available": available,
            "pending": pending,
        },
        "liability": {"points": outstanding, "money": money},
        "gifts": gifts,
        "gift_credit": t("gift_credit"),
        "tier_changes": {"upgrades": t("upgrades"), "downgrades": t("downgrades")},
        "paid": {"started": t("paid_started"), "extended": t("paid_extended"),
                 "ended": t("paid_ended"), "refunds": t("paid_refunds")},
        "benefits_queried": queried,
        "benefits": {b: {"open": t(f"benefit:{i}"), "share": share(t(f"benefit:{i}"), queried)}
                     for i, b in enumerate(benefits)},
        "refusals": refusals,
        "overflow": False,
    }
    report["overflow"] = t.overflow
    return report


class Row(NamedTuple):
    """One line of the side-by-side table: a section heading (values empty)
    or a figure per run (None where the run's policy lacks that id) and the
    difference (second − first) when both runs have it."""

    section: str
    label: str
    values: Tuple[Optional[Any], ...]
    difference: Optional[int]


class Report:
    """What `loyalty simulate --json` reports, from a Spark job.

    ``to_dict()`` is the JSON object of `loyalty simulate --json` (runs: one
    per policy; with a comparison the first is policy A); ``table()`` the
    text table `loyalty simulate [--compare]` prints; ``rows()`` the same
    table as data; ``spark`` what the job met that simulate would have
    stopped on (lines without a member, members given twice or missing...)
    and how often each worker loaded each policy.
    """

    def __init__(self, history: str, lines: int, member_lines: int,
                 runs: Sequence[Dict[str, Any]], spark: Dict[str, int]) -> None:
        self.history = history
        self.lines = lines
        self.member_lines = member_lines
        self.runs = list(runs)
        self.spark = spark

    def to_dict(self) -> Dict[str, Any]:
        return {"history": self.history, "lines": self.lines, "member_lines": self.member_lines,
                "runs": self.runs}

    def to_json(self) -> str:
        """One line of JSON; shares are exact decimals ("0.4354"), as simulate writes them."""
        return _dump(self.to_dict())

    def __repr__(self) -> str:
        return (f"<loyalty.spark.Report {self.history!r} {self.member_lines} member lines, "
                f"{len(self.runs)} run(s)>")

    # ------------------------------------------------------------ the table

    def rows(self) -> List[Row]:
        """The table of `loyalty simulate --compare` as data (print_table)."""
        runs = self.runs
        out: List[Row] = []

        def row(section: str, label: str, values: Sequence[Optional[Any]]) -> None:
            vals = tuple(values)
            diff = None
            if len(vals) == 2 and vals[0] is not None and vals[1] is not None \
                    and isinstance(vals[0], int) and isinstance(vals[1], int):
                diff = vals[1] - vals[0]
            out.append(Row(section, label, vals, diff))

        def each(get: Any) -> List[Any]:
            return [get(r) for r in runs]

        def union(key: str) -> List[str]:
            ids: List[str] = []
            for r in runs:
                for k in r[key]:
                    if k not in ids:
                        ids.append(k)
            return ids

        s = ""
        row(s, "members", each(lambda r: r["members"]))
        row(s, "  refused", each(lambda r: r["members_refused"]))
        row(s, "events", each(lambda r: r["events"]))
        row(s, "  refused", each(lambda r: r["events_refused"]))
        row(s, "queries", each(lambda r: r["queries"]))

        s = "members per tier at the end"
        for tier in union("tiers"):
            row(s, "  " + tier, each(lambda r: r["tiers"].get(tier)))
        s = "members per stage at the end"
        for stage in union("stages"):
            row(s, "  " + stage, each(lambda r: r["stages"].get(stage)))
        row(s, "  (no stage)", each(lambda r: r["no_stage"]))

        s = "points"
        row(s, "  imported", each(lambda r: r["points"]["imported"]))
        row(s, "  issued", each(lambda r: r["points"]["issued"]))
        for source in SOURCES:
            row(s, "    " + source, each(lambda r: r["points"]["issued_by_source"][source]))
        row(s, "  taken back by returns", each(lambda r: r["points"]["returned"]))
        row(s, "  redeemed", each(lambda r: r["points"]["redeemed"]))
        row(s, "  expired", each(lambda r: r["points"]["expired"]))
        row(s, "  outstanding (liability)", each(lambda r: r["points"]["outstanding"]))
        row(s, "    available", each(lambda r: r["points"]["available"]))
        row(s, "    pending", each(lambda r: r["points"]["pending"]))
        row(s, "  liability in money (minor units)", each(lambda r: r["liability"]["money"]))

        s = "gifts by kind and tier"
        tiers = union("tiers")
        for kind in GIFT_KINDS:
            for tier in tiers + ["(other)"]:
                vals = []
                for r in runs:
                    if tier == "(other)":
                        vals.append(r["gifts"][kind].get("(other)", 0))
                    else:
                        vals.append(r["gifts"][kind].get(tier) if tier in r["tiers"] else None)
                if not any(vals):
                    continue
                row(s, f"  {kind}, {tier}", vals)
        row(s, "  reward credit (minor units)", each(lambda r: r["gift_credit"]))

        s = "tier changes and paid plans"
        row(s, "  upgrades", each(lambda r: r["tier_changes"]["upgrades"]))
        row(s, "  downgrades", each(lambda r: r["tier_changes"]["downgrades"]))
        row(s, "  plans started", each(lambda r: r["paid"]["started"]))
        row(s, "  plans extended", each(lambda r: r["paid"]["extended"]))
        row(s, "  plans ended", each(lambda r: r["paid"]["ended"]))
        row(s, "  refunds (minor units)", each(lambda r: r["paid"]["refunds"]))

        s = "benefits open at each member's last event"
        for b in union("benefits"):
            vals = []
            for r in runs:
                entry = r["benefits"].get(b)
                vals.append(None if entry is None else share_text(entry["open"], r["benefits_queried"]))
            out.append(Row(s, "  " + b, tuple(vals), None))

        s = "refused events by code"
        codes: List[str] = []
        for c in range(CODE_SLOTS):
            name = error_name(-c)
            if any(r["refusals"].get(name) for r in runs) and name not in codes:
                codes.append(name)
        for name in codes:
            row(s, "  " + name, each(lambda r: r["refusals"].get(name, 0)))
        return out

    def differences(self) -> List[Row]:
        """The rows where the two runs differ (a comparison only)."""
        return [r for r in self.rows()
                if len(r.values) == 2 and (r.difference not in (None, 0)
                                           or (r.difference is None and r.values[0] != r.values[1]))]

    def table(self) -> str:
        """The text `loyalty simulate POLICY HISTORY [--compare OTHER]` prints."""
        runs = self.runs
        two = len(runs) == 2
        lines: List[str] = []
        lines.append(f"loyalty simulate: {self.history}, {self.lines} lines, "
                     f"{self.member_lines} member lines")
        lines.append("")
        head = _pad("", 34)
        for r in runs:
            name = r["policy"].rsplit("/", 1)[-1]
            head += " " + _rjust(_cut(name, 16), 16)
        if two:
            head += " " + _rjust("difference", 16)
        lines.append(head)

        benefits_heading = "benefits open at each member's last event"
        sections: Dict[str, List[Row]] = {}
        for row in self.rows():
            sections.setdefault(row.section, []).append(row)
        order = ["", "members per tier at the end", "members per stage at the end", "points",
                 "gifts by kind and tier", "tier changes and paid plans", benefits_heading,
                 "refused events by code"]
        for section in order:
            rows = sections.get(section, [])
            if section == benefits_heading:
                asked = ", ".join(f"{r['benefits_queried']} members asked" for r in runs)
                lines.append("")
                lines.append(f"{section} ({asked})")
                for row in rows:
                    text = "  " + _pad(row.label[2:], 32)
                    for v in row.values:
                        text += " " + _rjust("-" if v is None else str(v), 16)
                    lines.append(text)
                continue
            if not rows:
                continue
            if section:
                lines.append("")
                lines.append(section)
            for row in rows:
                text = _pad(row.label, 34)
                for v in row.values:
                    text += " " + _rjust("-" if v is None else str(v), 16)
                if two:
                    if row.values[0] is None or row.values[1] is None:
                        text += " " + " " * 16
                    else:
                        d = row.difference or 0
                        if d > INT64_MAX or d < INT64_MIN:
                            text += " " + _rjust("overflow", 16)
                        elif d:
                            text += " " + _rjust(f"{d:+d}", 16)
                        else:
                            text += " " + _rjust("0", 16)
                lines.append(text)
        for r in runs:
            if r["overflow"]:
                lines.append("")
                lines.append(f"warning: a total under {r['policy']} left int64 and was capped")
        return "\n".join(lines) + "\n"


# printf pads and cuts by bytes; so do these, for ids in any script.

def _pad(text: str, width: int) -> str:
    return text + " " * max(0, width - len(text.encode("utf-8")))


def _rjust(text: str, width: int) -> str:
    return " " * max(0, width - len(text.encode("utf-8"))) + text


def _cut(text: str, width: int) -> str:
    return text.encode("utf-8")[:width].decode("utf-8", "ignore")
