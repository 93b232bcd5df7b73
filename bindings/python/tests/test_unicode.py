"""Unicode ids, tags and names survive every path (UTF-8 both ways)."""

from __future__ import annotations

import json

import loyalty
from loyalty import Action, Line, Order, Profile


def test_unicode_member_and_events(apparel: loyalty.Policy) -> None:
    mid = "会员-001 🎉 Zoë"
    m = loyalty.Member.new(apparel, mid, "2026-01-01", tags=["员工", "vip-list"])
    assert m.id == mid
    r = m.apply(Order("订单-1 ✓", "2026-05-02T10:00:00+08:00", [Line("大衣-1", "外套", 20000, 1)],
                      channel="小程序", store="上海-001"))
    assert r.ok and r.event == "订单-1 ✓"
    r = m.apply(Action("动作-😀", "2026-05-02T11:00:00+08:00", "signup"))
    assert r.event == "动作-😀" and r.effects[0]["kind"] == "signup"
    back = loyalty.Member.from_bytes(apparel, m.to_bytes())
    assert back.id == mid
    # A remembered Unicode id is a duplicate after the round trip.
    r = back.apply(Action("动作-😀", "2026-05-03T11:00:00+08:00", "signup"))
    assert r.error is not None and r.error.name == "LOY_E_DUPLICATE"
    assert json.loads(r.to_json())["event"] == "动作-😀"
    assert m.apply(Profile("资料-1", "2026-05-04T10:00:00+08:00", tags=["新标签"])).ok


def test_escaped_surrogate_pairs(apparel: loyalty.Policy) -> None:
    # Python's json writes non-BMP characters as escaped surrogate pairs.
    line = json.dumps({"member": {"id": "M-😀", "joined": "2026-01-01"}})
    assert "\\ud83d\\ude00" in line
    m = loyalty.Member.from_json(apparel, line)
    assert m.id == "M-😀"
    r = m.apply_json(json.dumps({"type": "action", "id": "A-😀", "at": "2026-05-01T10:00:00+08:00",
                                 "kind": "signup"}))
    assert r.ok and r.event == "A-😀"


def test_policy_names(apparel: loyalty.Policy, grocery: loyalty.Policy) -> None:
    assert [(t.id, t.name) for t in apparel.tiers] == [
        ("member", "会员"), ("silver", "银卡"), ("gold", "金卡"), ("platinum", "铂金卡")]
    assert grocery.benefits[0] == loyalty.BenefitInfo("tasting", "嘗鮮試吃", "product")


def test_nul_is_refused(apparel: loyalty.Policy) -> None:
    import pytest
    with pytest.raises(ValueError):
        loyalty.Member.new(apparel, "M\x00-1", "2026-01-01")
