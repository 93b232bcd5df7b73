"""State bytes: round trips, copies, and the one-call JSON form."""

from __future__ import annotations

import copy
import gc

import loyalty
from loyalty import Action, Line, Order, Tick
from support import loads, policy_path

AT = "2026-05-01T10:00:00+08:00"


def _history(m: loyalty.Member) -> None:
    m.apply(Action("A-1", AT, "signup")).raise_for_error()
    m.apply(Order("O-1", "2026-05-08T10:00:00+08:00", [Line("TEE", "tops", 50000, 2)],
                  channel="app")).raise_for_error()


def test_round_trip(apparel: loyalty.Policy) -> None:
    m = loyalty.Member.new(apparel, "M-1", "2026-01-01", birthday="1990-07-04", tags=["a", "b"])
    _history(m)
    data = m.to_bytes()
    assert isinstance(data, bytes) and data
    back = loyalty.Member.from_bytes(apparel, data)
    assert back.to_bytes() == data
    for attr in ("id", "tier", "tier_since", "stage", "points_available", "points_pending",
                 "lots"):
        assert getattr(back, attr) == getattr(m, attr), attr
    # Both go on identically.
    nxt = Order("O-2", "2026-06-18T10:00:00+08:00", [Line("COAT", "coats", 80000, 1)])
    assert m.apply(nxt).to_dict() == back.apply(nxt).to_dict()
    assert m.to_bytes() == back.to_bytes()
    # from bytearray / memoryview too
    assert loyalty.Member.from_bytes(apparel, memoryview(bytearray(data))).to_bytes() == data


def test_copy_is_independent(apparel: loyalty.Policy) -> None:
    m = loyalty.Member.new(apparel, "M-1", "2026-01-01")
    _history(m)
    before = m.to_bytes()
    twin = copy.copy(m)
    assert twin.apply(Tick("T-1", "2026-05-20T00:00:00+08:00")).effects  # releases O-1
    assert m.to_bytes() == before
    assert copy.deepcopy(m).to_bytes() == before


def test_state_carries_duplicates(apparel: loyalty.Policy) -> None:
    m = loyalty.Member.new(apparel, "M-1", "2026-01-01")
    _history(m)
    back = loyalty.Member.from_bytes(apparel, m.to_bytes())
    r = back.apply(Action("A-1", "2026-06-01T10:00:00+08:00", "signup"))
    assert r.error is not None and r.error.name == "LOY_E_DUPLICATE"


def test_one_call_json(apparel: loyalty.Policy) -> None:
    m = loyalty.Member.from_json(apparel, '{"member": {"id": "M-1", "joined": "2026-01-01"}}')
    state = m.to_bytes()
    result, state2 = apparel.apply_json(state, {"type": "action", "id": "A-1", "at": AT,
                                                "kind": "signup"})
    assert result.ok and result.effects[0]["delta"] == 100 and state2 != state
    assert loyalty.Member.from_bytes(apparel, state2).points_available == 100
    refused, state3 = apparel.apply_json(state2, '{"type": "action", "id": "A-1", "at": "%s", '
                                                 '"kind": "signup"}' % AT)
    assert refused.error is not None and refused.error.name == "LOY_E_DUPLICATE"
    assert state3 == state2
    query, state4 = apparel.apply_json(state2, {"query": "benefits", "at": AT})
    assert query.ok and len(query.benefits) == 7 and state4 == state2


def test_tree_matches_library_json(apparel: loyalty.Policy) -> None:
    """The node-tree walk and the library's own JSON text say the same."""
    import ctypes

    from loyalty._ffi import lib

    m = loyalty.Member.new(apparel, "M-0001", "2025-03-02", birthday="1990-11-20",
                           tags=["employee"])
    lines = [
        '{"type": "order", "id": "O-1", "at": "2026-11-11T20:15:00+08:00", "channel": "pos", '
        '"lines": [{"sku": "COAT-1", "category": "coats", "amount": 129900, "qty": 1}]}',
        '{"query": "benefits", "at": "2026-11-11T20:16:00+08:00", "channel": "pos"}',
        '{"type": "tick", "id": "O-1", "at": "2026-11-12T00:00:00+08:00"}',
    ]
    for line in lines:
        r = m.apply_json(line, trace=True)
        size = ctypes.c_size_t()
        ptr = lib.loy_result_json(m._hs.result, ctypes.byref(size))
        text = ctypes.string_at(ptr, size.value).decode("utf-8")
        assert loads(text) == r.to_dict()
        assert loads(r.to_json()) == r.to_dict()


def test_member_keeps_policy_alive() -> None:
    def make() -> loyalty.Member:
        p = loyalty.Policy.from_file(policy_path("apparel.yaml"))
        return loyalty.Member.new(p, "M-1", "2026-01-01")

    m = make()
    gc.collect()
    assert m.apply(Action("A-1", AT, "signup")).ok
    assert m.policy.tiers[0].id == "member"

    p = loyalty.Policy.from_file(policy_path("apparel.yaml"))
    m2 = loyalty.Member.new(p, "M-2", "2026-01-01")
    p.close()                       # the member still holds the C policy
    gc.collect()
    assert m2.apply(Action("A-1", AT, "signup")).ok
    assert m2.apply(Tick("T", AT)).member_summary == {
        "tier": "member", "points": {"available": 100, "pending": 0}, "stage": "registered"}


def test_legacy_import(apparel: loyalty.Policy) -> None:
    import datetime as dt

    m = loyalty.Member.from_json(apparel, {
        "id": "M-9", "joined": "2024-01-01", "tier": "gold", "tier_since": "2025-06-01",
        "points": [{"points": 500, "expires": "2027-03-31"}, {"points": 300}],
        "spend_by_month": {"2026-04": 120000}, "orders": 7, "last_order": "2026-04-30",
        "gifts_given": {"upgrade": ["silver", "gold"]}})
    assert (m.id, m.tier, m.tier_since) == ("M-9", "gold", dt.date(2025, 6, 1))
    assert m.points_available == 800 and m.points_pending == 0
    # Soonest-expiring first, never-expiring last.
    assert m.lots == [loyalty.Lot(500, dt.date(2027, 3, 31), None), loyalty.Lot(300, None, None)]
    # 7 lifetime orders but none by month: not loyal; at least 2 orders: repeat.
    assert m.stage == "repeat"
    assert m.metric("2026-04-30") == 120000
    assert m.metric("2027-05-01") == 0          # April 2026 is out of the 12-month window
