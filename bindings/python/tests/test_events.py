"""Typed events: each value below is worked out by hand from POLICY.md."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

import loyalty
from loyalty import (
    Action,
    JoinPaid,
    Line,
    Order,
    Original,
    Profile,
    Redeem,
    Return,
    Tick,
    UseBenefit,
)
from support import canonical

AT = "2026-05-01T10:00:00+08:00"


def member(policy: loyalty.Policy, **kw) -> loyalty.Member:
    return loyalty.Member.new(policy, kw.pop("id", "M-1"), kw.pop("joined", "2026-01-01"), **kw)


def summary(tier: str, available: int, pending: int, stage) -> dict:
    return {"tier": tier, "points": {"available": available, "pending": pending}, "stage": stage}


def test_spec_example_typed(apparel: loyalty.Policy) -> None:
    """POLICY.md §11.6, built with the typed API instead of JSON."""
    m = loyalty.Member.new(apparel, "M-0001", "2025-03-02", birthday="1990-11-20",
                           tags=["employee"])
    r = m.apply(Order("O-1", "2026-11-11T20:15:00+08:00",
                      [Line("COAT-1", "coats", 129900, 1)],
                      channel="pos", store="GZ-001", savings=0))
    assert r.ok and r.error is None and r.event == "O-1"
    assert r.effects == [
        {"type": "points", "delta": 3897, "source": "order", "pending_until": "2026-11-18",
         "expires": "2027-11-30", "rules": ["birthday_month", "new_season"]},
        {"type": "tier_changed", "from": "member", "to": "silver", "reason": "upgrade"},
        {"type": "gift", "gift": "upgrade", "tier": "silver", "reward": {"points": 200}},
        {"type": "points", "delta": 200, "source": "upgrade", "expires": "2027-11-30"},
        {"type": "gift", "gift": "birthday", "tier": "member", "year": 2026,
         "reward": {"coupons": ["BDAY-20"]}},
        {"type": "stage_changed", "from": "registered", "to": "first"},
    ]
    assert r.member_summary == summary("silver", 200, 3897, "first")
    assert (m.tier, m.points_available, m.points_pending, m.stage) == ("silver", 200, 3897, "first")
    assert m.tier_since == dt.date(2026, 11, 11)
    assert m.lots == [loyalty.Lot(200, dt.date(2027, 11, 30), None),
                      loyalty.Lot(3897, dt.date(2027, 11, 30), dt.date(2026, 11, 18))] or \
        m.lots == [loyalty.Lot(3897, dt.date(2027, 11, 30), dt.date(2026, 11, 18)),
                   loyalty.Lot(200, dt.date(2027, 11, 30), None)]

    q = m.benefits("2026-11-11T20:16:00+08:00", channel="pos")
    assert q.query == "benefits" and q.at == "2026-11-11T20:16:00+08:00"
    assert q.benefits == [
        {"id": "member-price", "kind": "purchase", "open": True, "value": Decimal("0.95")},
        {"id": "free-shipping", "kind": "service", "open": False,
         "reasons": [{"tier_at_least": "gold"}]},
        {"id": "alteration", "kind": "service", "open": False,
         "reasons": [{"tier_at_least": "gold"}]},
        {"id": "stylist", "kind": "service", "open": False,
         "reasons": [{"tier_at_least": "platinum"}]},
        {"id": "designer-salon", "kind": "activity", "open": False,
         "reasons": [{"tier_at_least": "platinum"}, {"points_at_least": 1000}]},
        {"id": "preview-launch", "kind": "product", "open": False,
         "reasons": [{"any": [{"tier_at_least": "gold"}, {"tags": ["vip-list"]}]}]},
        {"id": "staff-discount", "kind": "purchase", "open": True},
    ]
    # An exact decimal stays exact, in the dict and in the JSON text.
    assert isinstance(q.benefits[0]["value"], Decimal)
    assert '"value": 0.95' in q.to_json()
    assert q.member_summary == summary("silver", 200, 3897, "first")


def test_actions_and_redemption(apparel: loyalty.Policy) -> None:
    m = member(apparel)
    r = m.apply(Action("A-1", AT, "signup"))
    # 100 points, available at once; last day: the month 12 months after May 2026.
    assert r.effects == [{"type": "points", "delta": 100, "source": "action", "kind": "signup",
                          "expires": "2027-05-31"}]
    assert r.member_summary == summary("member", 100, 0, "registered")
    assert m.apply(Action("A-2", AT, "signup")).effects == []          # limit: once
    assert m.apply(Action("A-3", AT, "review")).effects[0]["delta"] == 10
    assert m.apply(Action("A-4", AT, "dance")).effects == []           # not listed: nothing
    assert m.points_available == 110

    before = m.to_bytes()
    # The first failing condition is reported, in the order of §4.5.
    for event, error in [
        (Redeem("X-1", AT, 150, 100000), loyalty.InsufficientPoints),   # 150 > 110
        (Redeem("X-2", AT, 10, 100000), loyalty.BelowMinPoints),        # 10 < 100
        (Redeem("X-3", AT, 110, 100000), loyalty.NotStepMultiple),      # step 100
        (Redeem("X-4", AT, 100, 300), loyalty.OverOrderShare),          # 100 > 0.3 × 300
    ]:
        r = m.apply(event)
        assert not r.ok and r.effects == []
        assert r.error is not None and r.error.code == error.code and r.error.name == error.name
        with pytest.raises(error) as info:
            r.raise_for_error()
        assert info.value.result is r
        assert m.to_bytes() == before          # a refusal changes nothing

    # value = floor(100 × 100 / 100) = 100 minor units ≤ 0.3 × 1000.
    r = m.apply(Redeem("X-5", AT, 100, 1000)).raise_for_error()
    assert r.effects == [{"type": "points", "delta": -100, "source": "redeem", "value": 100}]
    assert m.points_available == 10


def test_use_benefit(apparel: loyalty.Policy) -> None:
    m = member(apparel, tags=["employee"])
    r = m.apply(UseBenefit("U-1", AT, "no-such-benefit"))
    assert r.error is not None and r.error.name == "LOY_E_UNKNOWN_BENEFIT"

    r = m.apply(UseBenefit("U-2", AT, "free-shipping"))
    assert r.error is not None and r.error.name == "LOY_E_BENEFIT_NOT_OPEN"
    assert r.error.reasons == [{"tier_at_least": "gold"}]
    with pytest.raises(loyalty.BenefitNotOpen) as info:
        r.raise_for_error()
    assert info.value.reasons == [{"tier_at_least": "gold"}]
    assert info.value.code == -24

    r = m.apply(UseBenefit("U-3", AT, "staff-discount", channel="tmall"))
    assert r.error is not None and r.error.reasons == [{"not": {"channel": ["tmall", "douyin"]}}]

    r = m.apply(UseBenefit("U-4", AT, "staff-discount", channel="pos"))
    assert r.ok and r.effects == [{"type": "benefit_used", "benefit": "staff-discount"}]


def test_empty_names_are_unknown(grocery: loyalty.Policy) -> None:
    # POLICY.md §11.1 asks kind, benefit and plan to be strings, not
    # non-empty ones: "" is a name the policy lacks. None (the default) is
    # a field not given. (Joined 11 days before: not yet dormant.)
    m = member(grocery, joined="2026-04-20")
    r = m.apply(Action("A-1", AT, ""))
    assert r.ok and r.effects == []
    assert m.apply(UseBenefit("U-1", AT, "")).error.name == "LOY_E_UNKNOWN_BENEFIT"
    assert m.apply(JoinPaid("P-1", AT, "")).error.name == "LOY_E_UNKNOWN_PLAN"
    r = m.apply(Action("A-2", AT))
    assert r.error is not None and r.error.name == "LOY_E_INVALID_EVENT"


def test_join_paid(grocery: loyalty.Policy) -> None:
    m = member(grocery)
    r = m.apply(JoinPaid("P-1", "2026-03-01T09:00:00+08:00", "annual"))
    # 2026-03-01 + 12 months − 1 day.
    assert r.effects == [{"type": "paid_started", "plan": "annual", "from": "2026-03-01",
                          "until": "2027-02-28"}]
    assert r.member_summary == summary("regular", 0, 0, "registered")
    r = m.apply(JoinPaid("P-2", "2026-03-02T09:00:00+08:00", "monthly"))
    assert r.error is not None and r.error.code == loyalty.PlanConflict.code

    other = member(grocery, id="M-2")
    r = other.apply(JoinPaid("P-3", "2026-03-01T09:00:00+08:00", "weekly"))
    with pytest.raises(loyalty.UnknownPlan):
        r.raise_for_error()


def test_profile(apparel: loyalty.Policy) -> None:
    m = member(apparel, tags=["employee"])
    # The birthday is set in step 3, so step 5 already gives the birthday gift
    # of the month window: 120 days after joining (≥ min_member_days 30).
    r = m.apply(Profile("F-1", AT, birthday="1990-05-20"))
    assert r.effects == [{"type": "gift", "gift": "birthday", "tier": "member", "year": 2026,
                          "reward": {"coupons": ["BDAY-20"]}}]
    # Editing the date never yields a second gift for the same occurrence year.
    r = m.apply(Profile("F-2", "2026-05-02T10:00:00+08:00", birthday=dt.date(1990, 5, 25)))
    assert r.ok and r.effects == []
    # Neither field: refused.
    r = m.apply(Profile("F-3", "2026-05-02T11:00:00+08:00"))
    assert r.error is not None and r.error.name == "LOY_E_INVALID_EVENT"
    # The tags are replaced.
    assert m.apply(Profile("F-4", "2026-05-03T10:00:00+08:00", tags=["vip-list"])).ok
    open_ = {b["id"]: b for b in m.benefits("2026-05-03T11:00:00+08:00").benefits}
    assert open_["preview-launch"]["open"] is True
    assert open_["staff-discount"] == {"id": "staff-discount", "kind": "purchase", "open": False,
                                       "reasons": [{"tags": ["employee"]}]}
    # birthday=None removes the birthday.
    assert m.apply(Profile("F-5", "2026-05-04T10:00:00+08:00", birthday=None)).ok


def test_order_return_and_release(apparel: loyalty.Policy) -> None:
    m = member(apparel)
    r = m.apply(Order("O-1", "2026-05-02T10:00:00+08:00", [Line("TEE-1", "tops", 20000, 1)]))
    # 200.00 at 1 point per 1.00; no multiplier applies; pending 7 days.
    assert r.effects == [
        {"type": "points", "delta": 200, "source": "order", "pending_until": "2026-05-09",
         "expires": "2027-05-31", "rules": []},
        {"type": "stage_changed", "from": "registered", "to": "first"},
    ]
    assert r.member_summary == summary("member", 0, 200, "first")

    # floor(200 × 10000 / 20000) = 100, taken from that order's pending points.
    r = m.apply(Return("R-1", "2026-05-03T10:00:00+08:00", 10000,
                       Original("O-1", "2026-05-02T10:00:00+08:00", 20000, 200),
                       [Line("TEE-1", "tops", 10000, 1)]))
    assert r.effects == [{"type": "points", "delta": -100, "source": "return", "order": "O-1"}]
    assert r.member_summary == summary("member", 0, 100, "first")

    r = m.apply(Tick("T-1", "2026-05-09T00:00:00+08:00"))
    assert r.effects == [{"type": "points_released", "points": 100, "order": "O-1"}]
    assert (m.points_available, m.points_pending) == (100, 0)
    assert m.metric("2026-05-31") == 10000          # spend less the refund


def test_instants_and_dates(apparel: loyalty.Policy) -> None:
    m = member(apparel, joined=dt.date(2026, 1, 1), birthday=dt.date(1990, 12, 1))
    at = dt.datetime(2026, 5, 1, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    assert m.apply(Tick("T-1", at)).ok
    with pytest.raises(ValueError):
        m.apply(Tick("T-2", dt.datetime(2026, 5, 1, 11, 0)))     # no offset
    # The string form reaches the library, which refuses it.
    r = m.apply(Tick("T-3", "2026-05-01T12:00:00"))
    assert r.error is not None and r.error.name == "LOY_E_INVALID_EVENT" and r.event == "T-3"


def test_bad_values(apparel: loyalty.Policy) -> None:
    m = member(apparel)
    with pytest.raises(TypeError):
        m.apply(Order("O-1", AT, [Line("A", "x", True, 1)]))       # type: ignore[arg-type]
    with pytest.raises(TypeError):
        m.apply(Order("O-1", AT, [Line("A", "x", 100.5, 1)]))      # type: ignore[arg-type]
    with pytest.raises(OverflowError):
        m.apply(Order("O-1", AT, [Line("A", "x", 2 ** 63, 1)]))
    with pytest.raises(TypeError):
        m.apply({"type": "tick"})                                  # type: ignore[arg-type]
    r = m.apply(Order("O-1", AT, [Line("A", "x", -100, 1)]))
    assert r.error is not None and r.error.name == "LOY_E_INVALID_EVENT"
    # Adding up to more than int64 is the library's overflow.
    r = m.apply(Order("O-2", AT, [Line("A", "x", 2 ** 63 - 1, 1), Line("B", "x", 1, 1)]))
    assert r.error is not None and r.error.name == "LOY_E_OVERFLOW"
    # A refused id is not remembered: the corrected event goes through.
    assert m.apply(Order("O-1", AT, [Line("A", "x", 10000, 1)])).ok


def test_policy_apply_and_trace(apparel: loyalty.Policy) -> None:
    m = member(apparel)
    r = apparel.apply(m, Action("A-1", AT, "signup"), trace=True)
    assert r.ok and r.effects[0]["delta"] == 100
    assert r.trace is not None
    assert canonical(r.to_dict()) == canonical(
        {"event": "A-1", "effects": r.effects, "member": summary("member", 100, 0, "registered")})
