#!/usr/bin/env python3
"""Generate a members' history for `loyalty simulate` (docs/wire.md).

Each member is a member line {"member": {...}} followed by its events in
time order, over one year: orders (several lines, channels, stores, the
categories of the reference policies), returns of earlier orders, actions,
redemptions, benefit uses, paid-plan joins, profile changes, ticks and a
few benefit queries. The output is deterministic for a seed, so a figure
measured on it can be measured again.

    scripts/gen-history.py --members 20000 --events 60 --seed 1 > history.jsonl
    loyalty simulate policies/apparel.yaml history.jsonl
"""
import argparse
import datetime as dt
import json
import random
import sys

CATEGORIES = [
    ("coats", 30000, 150000), ("dresses", 15000, 80000), ("tees", 5000, 20000),
    ("shirts", 8000, 30000), ("bags", 10000, 60000), ("shipping", 800, 2000),
    ("gift_card", 10000, 50000), ("fruit", 500, 20000), ("grain", 500, 8000),
    ("fruit", 500, 20000), ("tees", 5000, 20000), ("grain", 500, 8000),
]
CHANNELS = ["pos", "app", "mini_program", "tmall", "douyin"]
ACTIONS = ["signup", "review", "share", "check_in", "referral", "like"]
BENEFITS = ["member-price", "free-shipping", "alteration", "stylist", "designer-salon",
            "preview-launch", "staff-discount", "tasting", "monthly-coupons", "free-veg",
            "delivery-priority"]
PLANS = ["annual", "monthly"]
TAGS = ["employee", "vip-list", "student"]


def instant(t):
    return t.strftime("%Y-%m-%dT%H:%M:%S") + "+08:00"


def member_history(rng, n, events, start):
    out = []
    joined = start - dt.timedelta(days=rng.randrange(0, 400))
    member = {"id": "M-%07d" % n, "joined": joined.strftime("%Y-%m-%d")}
    if rng.random() < 0.8:
        member["birthday"] = "%04d-%02d-%02d" % (rng.randrange(1960, 2006), rng.randrange(1, 13),
                                                rng.randrange(1, 29))
    if rng.random() < 0.1:
        member["tags"] = [rng.choice(TAGS)]
    out.append({"member": member})

    # Members differ: many have a few events, some have many (mean `events`).
    count = max(1, min(int(rng.expovariate(1.0 / events)), 20 * events))
    times = sorted(start + dt.timedelta(seconds=rng.randrange(0, 365 * 86400)) for _ in range(count))
    orders = []
    for k, t in enumerate(times):
        at = instant(t)
        r = rng.random()
        eid = "%s-%d" % ("E", k)
        if r < 0.40:
            lines = []
            for _ in range(rng.choice([1, 1, 1, 2, 2, 3])):
                cat, lo, hi = rng.choice(CATEGORIES)
                lines.append({"sku": "%s-%d" % (cat.upper(), rng.randrange(100)), "category": cat,
                              "amount": rng.randrange(lo, hi), "qty": rng.randrange(1, 4)})
            ev = {"type": "order", "id": eid, "at": at, "channel": rng.choice(CHANNELS), "lines": lines}
            if rng.random() < 0.3:
                ev["store"] = "S-%03d" % rng.randrange(50)
            if rng.random() < 0.2:
                ev["savings"] = rng.randrange(0, 3000)
            orders.append((eid, at, sum(x["amount"] for x in lines)))
        elif r < 0.45 and orders:
            oid, oat, amount = rng.choice(orders)
            refund = rng.randrange(1, amount + 1)
            ev = {"type": "return", "id": eid, "at": at, "amount": refund,
                  "original": {"id": oid, "at": oat, "amount": amount, "points": amount // 100}}
        elif r < 0.70:
            ev = {"type": "action", "id": eid, "at": at, "kind": rng.choice(ACTIONS)}
        elif r < 0.75:
            ev = {"type": "redeem", "id": eid, "at": at, "points": rng.randrange(1, 30) * 100,
                  "order_amount": rng.randrange(5000, 200000)}
        elif r < 0.83:
            ev = {"type": "use_benefit", "id": eid, "at": at, "benefit": rng.choice(BENEFITS),
                  "channel": rng.choice(CHANNELS)}
        elif r < 0.85:
            ev = {"type": "join_paid", "id": eid, "at": at, "plan": rng.choice(PLANS)}
        elif r < 0.86:
            ev = {"type": "profile", "id": eid, "at": at, "tags": rng.sample(TAGS, rng.randrange(0, 3))}
        elif r < 0.96:
            ev = {"type": "tick", "id": eid, "at": at}
        else:
            ev = {"query": "benefits", "at": at, "channel": rng.choice(CHANNELS)}
        out.append(ev)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--members", type=int, default=1000)
    ap.add_argument("--events", type=int, default=50, help="events per member, on average")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--start", default="2026-01-01", help="first day of the year replayed")
    args = ap.parse_args()
    rng = random.Random(args.seed)
    start = dt.datetime.strptime(args.start, "%Y-%m-%d")
    write = sys.stdout.write
    for n in range(args.members):
        for row in member_history(rng, n, args.events, start):
            write(json.dumps(row, ensure_ascii=False, separators=(", ", ": ")))
            write("\n")


if __name__ == "__main__":
    main()
