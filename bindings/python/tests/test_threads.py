"""One policy shared by 8 threads, each with its own members: the answers
equal a single-threaded run."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any, List

import loyalty
from loyalty import Action, Line, Order, Redeem, Tick, UseBenefit


def _history(policy: loyalty.Policy, n: int) -> List[Any]:
    out: List[Any] = []
    m = loyalty.Member.new(policy, f"M-{n:04d}", "2025-03-02", birthday=f"1990-{n % 12 + 1:02d}-15",
                           tags=["employee"] if n % 3 == 0 else [])
    for k in range(12):
        month = k + 1
        at = f"2026-{month:02d}-{(n % 27) + 1:02d}T12:00:00+08:00"
        amount = 10000 * ((n + k) % 17 + 1)
        events = [
            Order(f"O-{k}", at, [Line("SKU", "coats" if k % 4 == 0 else "tops", amount, 1)],
                  channel="pos"),
            Action(f"A-{k}", at, "review"),
            UseBenefit(f"U-{k}", at, "alteration"),
            Redeem(f"X-{k}", at, 100, 100000),
            Tick(f"T-{k}", at),
        ]
        for ev in events:
            out.append(m.apply(ev).to_dict())
        out.append(m.benefits(at, channel="app").to_dict())
    out.append(m.to_bytes())
    m.close()
    return out


def test_threads_match_sequential(apparel: loyalty.Policy) -> None:
    members = range(64)
    sequential = [_history(apparel, n) for n in members]
    with ThreadPoolExecutor(max_workers=8) as pool:
        threaded = list(pool.map(lambda n: _history(apparel, n), members))
    assert threaded == sequential
    # The histories did something: some accepted orders earned points.
    assert any(r.get("effects") for h in sequential for r in h[:-1] if isinstance(r, dict))
