"""What a policy says about itself, and how the library was found."""

from __future__ import annotations

import re

import loyalty
from support import policy_path


def test_version() -> None:
    assert loyalty.library_version_number // 10000 == 1
    assert loyalty.library_version_number >= loyalty.EXPECTED_VERSION_NUMBER
    assert loyalty.library_version.startswith("1.")
    assert loyalty.library_path


def test_apparel(apparel: loyalty.Policy) -> None:
    assert apparel.program == "Acme Apparel"
    assert apparel.currency == "CNY" and apparel.minor_units == 2
    assert [t.id for t in apparel.tiers] == ["member", "silver", "gold", "platinum"]
    assert apparel.multipliers == ("tier_bonus", "member_day", "birthday_month", "new_season")
    assert apparel.actions == ("signup", "review", "share")
    assert [(b.id, b.kind) for b in apparel.benefits] == [
        ("member-price", "purchase"), ("free-shipping", "service"), ("alteration", "service"),
        ("stylist", "service"), ("designer-salon", "activity"), ("preview-launch", "product"),
        ("staff-discount", "purchase")]
    assert apparel.benefits[6].name is None
    assert apparel.plans == ()
    assert [s.id for s in apparel.stages] == ["dormant", "loyal", "repeat", "first", "registered"]
    # 100 points buy 1.00 = 100 minor units.
    assert apparel.redeem_rate == (100, 100)
    assert set(apparel.gifts) == {
        "upgrade:silver", "upgrade:gold", "upgrade:platinum", "birthday:member", "birthday:gold",
        "birthday:platinum", "surprise:crab-season", "surprise:new-fabric-trial",
        "spend:monthly-credit"}


def test_grocery_and_minimal(grocery: loyalty.Policy, minimal: loyalty.Policy) -> None:
    assert [p.id for p in grocery.plans] == ["annual", "monthly"]
    assert grocery.redeem_rate == (10, 100)
    assert minimal.redeem_rate is None
    assert minimal.stages == () and minimal.currency == "CNY" and minimal.minor_units == 2


def test_fingerprint(apparel: loyalty.Policy) -> None:
    with open(policy_path("apparel.yaml"), "rb") as f:
        data = f.read()
    assert re.fullmatch(r"[0-9a-f]{16}", apparel.fingerprint)
    same = loyalty.Policy.from_string(data, name="apparel.yaml")
    assert same.fingerprint == apparel.fingerprint
    assert loyalty.Policy.from_string(data.decode("utf-8")).fingerprint == apparel.fingerprint
    changed = loyalty.Policy.from_string(data + b"# a comment\n")
    assert changed.fingerprint != apparel.fingerprint
    assert apparel.fingerprint in repr(apparel)
