"""examples/python/next_order.py runs and reports what the order would earn."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import loyalty
from support import REPO, policy_path

SCRIPT = os.path.join(REPO, "examples", "python", "next_order.py")


def run(*args: str) -> list:
    proc = subprocess.run([sys.executable, SCRIPT, *args], capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.splitlines()


def test_demo_member() -> None:
    out = run(policy_path("apparel.yaml"), "-", "129900", "coats", "2026-11-11T20:15:00+08:00")
    # §11.6: 1299.00 × 2 (birthday month) × 1.5 (new season) = 3897.
    first = json.loads(out[0])
    assert first["type"] == "points" and first["delta"] == 3897 and first["source"] == "order"
    assert out[-1].startswith("after it: ")


def test_stored_state_is_untouched(tmp_path, apparel: loyalty.Policy) -> None:
    m = loyalty.Member.new(apparel, "M-1", "2026-01-01")
    state = tmp_path / "m.state"
    state.write_bytes(m.to_bytes())
    before = state.read_bytes()
    out = run(policy_path("apparel.yaml"), str(state), "20000", "tops", "2026-05-02T10:00:00+08:00")
    assert json.loads(out[0])["delta"] == 200
    assert state.read_bytes() == before
    assert loyalty.Member.from_bytes(apparel, before).points_pending == 0
