"""What would a member's next order earn? Tried on a copy made from the
stored state bytes, so the stored member is untouched.

    python next_order.py POLICY.yaml STATE_FILE AMOUNT [CATEGORY] [AT]
    python next_order.py examples/data/apparel.yaml - 129900 coats 2026-11-11T20:15:00+08:00
(STATE_FILE "-": a new demo member; AMOUNT in minor units; AT defaults to now.)
"""
import datetime as dt
import json
import sys

import loyalty

policy_file, state_file, amount = sys.argv[1], sys.argv[2], int(sys.argv[3])
category = sys.argv[4] if len(sys.argv) > 4 else None
at = sys.argv[5] if len(sys.argv) > 5 else dt.datetime.now(dt.timezone.utc).astimezone()
policy = loyalty.Policy.from_file(policy_file)
if state_file == "-":
    stored = loyalty.Member.new(policy, "M-DEMO", "2025-03-02", birthday="1990-11-20").to_bytes()
else:
    with open(state_file, "rb") as f:
        stored = f.read()
trial = loyalty.Member.from_bytes(policy, stored)       # a copy: `stored` never changes
result = trial.apply(loyalty.Order("what-if", at, [loyalty.Line(None, category, amount, 1)]))
result.raise_for_error()
for effect in result.effects:
    print(json.dumps(effect, ensure_ascii=False, default=str))
print("after it:", json.dumps(result.member_summary, ensure_ascii=False))
