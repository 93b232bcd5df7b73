"""The schema test (make schema-test; run through tests/schema/run.sh).

1. The schema is a valid draft-07 schema.
2. Every policy that loads must validate: the reference policies, the bundled
   examples, tests/schema/valid/ and every ```yaml snippet of docs/guide.md.
   Each is first run through `loyalty check` (it must load), so "valid" here
   means what the library means.
3. The invalid-policy corpus (tests/policies/invalid/, every file of which the
   loader refuses) is split three ways below, and asserted both ways:
   - REJECT: the schema must refuse the file, reporting exactly the listed
     JSON paths (so it refuses it for the right reasons, and a new schema
     error on an invalid file is noticed too);
   - ACCEPT: mistakes JSON Schema cannot express (references between parts
     of the policy, ascending thresholds, duplicate ids, YAML tags, merge
     keys); the schema must accept the file, so this list stays honest;
   - UNPARSABLE: not a single well-formed YAML document; the validator's
     YAML reader must refuse it before any schema applies.
   Every corpus file must be listed, and every listed case must exist.
"""
import argparse
import glob
import json
import os
import re
import subprocess
import sys
import tempfile

REJECT = {
    "alias-positions": "$.benefits[1].limit $.benefits[2].when $.tiers.levels[1].at",
    "action-limits": "$.points.actions.review.limit $.points.actions.share $.points.actions.signup.limit",
    "benefits": "$.benefits[0].kind $.benefits[1]",  # value decimals, `yes`, duplicate id, unknown tier: not expressible
    "birthday-by-tier-missing": "$.gifts.birthday $.gifts.birthday.window",
    "birthday-window": "$.gifts.birthday.feb29",  # days_before + days_after > 364: not expressible
    "by-tier-unknown": "$.points.earn.multipliers[0].by_tier.member",  # unknown tier 'gld': a reference
    "cap-and-min-order": "$.points.earn.cap $.points.earn.cap.per_order $.points.earn.min_order",
    "cond-birthday-window": "$.benefits[1].when.birthday",  # `window` without gifts.birthday: a reference
    "cond-calendar": "$.benefits[0].when.day_of_month $.benefits[0].when.month $.benefits[0].when.weekday",
    "cond-dates": "$.benefits[1].when.date_between $.benefits[2].when.date_between[1]",  # from > to, Feb 30: not expressible
    "cond-line-outside": "$.benefits[0].when $.benefits[0].when.any[0]",
    "cond-times": "$.benefits[0].when.time_between[0] $.benefits[0].when.time_between[1] $.benefits[1].when.time_between",
    "cond-types": "$.benefits[0].when.orders_in_months $.benefits[0].when.orders_in_months.months "
                  "$.benefits[0].when.points_at_least $.benefits[0].when.tags $.benefits[0].when.tier_at_least "
                  "$.benefits[1].when.all $.benefits[1].when.not $.benefits[2].when",
    "cond-unknown": "$.benefits[0].when $.benefits[1].when",
    "currency-no-code": "$.currency",
    "number-grouping": "$.tiers.levels[3].at",  # `1__000`, `5000_`: the YAML reader takes them as numbers, not expressible
    "decimals": "$.points.redeem.min_points",  # exponent, leading dot, quoted '_', 5 decimals: YAML 1.2 reads them as numbers
    "earn-rate-missing": "$.points.earn",
    "empty": "$",
    "entry-tier-at": "$.tiers.levels[0]",
    "exclude": "$.tiers.exclude $.tiers.exclude.skus",
    "expiry-range": "$.points.expiry",
    "factor-values": "$.points.earn.multipliers[0].factor $.points.earn.multipliers[2].factor",  # 5 decimals: not expressible
    "gift-references": "$.gifts",  # unknown tiers in by_tier, a repeated spend gift id: not expressible
    "growth-actions": "$.growth.actions.review $.growth.per_spend",  # key `yes` is text in YAML 1.2
    "growth-missing": "$",
    "id-types": "$.tiers.levels[1].id $.tiers.levels[3].id $.tiers.levels[4].id",  # `yes` and a date are text in YAML 1.2
    "level-missing-at": "$.tiers.levels[1]",
    "levels-empty": "$.tiers.levels",
    "levels-missing": "$.tiers",
    "lifecycle-empty": "$.lifecycle",
    "limit-types": "$.benefits[0].limit $.benefits[1].limit",
    "min-hold-1201": "$.tiers.min_hold_months",
    "minor-units-7": "$.currency.minor_units",
    "misplaced-key": "$ $.points $.points.earn",
    "multiplier-both": "$.points.earn.multipliers[0] $.points.earn.multipliers[1]",
    "orders-at-decimal": "$.tiers.levels[1].at",
    "paid": "$.paid.plans[0].guarantee $.paid.plans[0].months $.paid.plans[1]",  # duplicate plan id: not expressible
    "paid-plans-missing": "$.paid",
    "per-spend": "$.growth.per_order $.growth.per_spend $.growth.per_spend.amount",
    "points-misc": "$.points.expiry $.points.negative_balance $.points.pending_days",
    "program-types": "$.currency.code",  # program: yes is text in YAML 1.2
    "qualify-on-missing": "$.tiers",
    "qualify-on-misspelt": "$.tiers.qualify_on",
    "range-bounds": "$.currency.minor_units $.gifts.birthday.window $.gifts.surprise[0].sample_percent "
                    "$.points.earn.rate.amount $.points.expiry $.points.redeem.min_points $.tiers.levels[1].keep "
                    "$.tiers.window",
    "rate-points-decimal": "$.points.earn.rate.points $.points.earn.rounding $.points.earn.rounding_scope $.points.earn.stacking",
    "redeem": "$.points.redeem.max_order_share $.points.redeem.rate.amount $.points.redeem.rate.points $.points.redeem.step",
    "redeem-rate-missing": "$.points.redeem",
    "review-misspelt": "$.tiers.downgrade $.tiers.review",
    "reward-empty": "$.gifts.upgrade.by_tier.gold $.gifts.upgrade.by_tier.member.points",
    "second-at-zero": "$.tiers.levels[1].at",
    "spend-gifts": "$.gifts.spend[0].period $.gifts.spend[0].reward $.gifts.spend[1]",  # credit decimals: minor_units
    "surprise": "$.gifts.surprise[0].sample_percent $.gifts.surprise[1].once $.gifts.surprise[2] $.gifts.surprise[3].reward",
    "three-errors": "$.tiers",  # ascending `at`, decimals of CNY: not expressible
    "top-key-misspelt": "$",
    "top-list": "$",
    "unknown-key-no-hint": "$.points.earn",
    "upgrade": "$.gifts.upgrade $.gifts.upgrade.once $.gifts.upgrade.skipped",
    "version-2": "$.loyalty_policy",
    "version-missing": "$",
    "version-quoted": "$.loyalty_policy",
    # `window` without gifts.birthday (a reference), money decimals (they depend
    # on the currency) and a date as a channel id (text to a YAML 1.2 reader):
    # not expressible
    "cond-forms-ranges": (
        "$.benefits[0].when.not $.lifecycle[0].when "
        "$.points.earn.multipliers[0].when.orders_in_months "
        "$.points.earn.multipliers[0].when.orders_in_months.at_least "
        "$.points.earn.multipliers[0].when.orders_in_months.months "
        "$.points.earn.multipliers[10].when.tier_at_least "
        "$.points.earn.multipliers[11].when.weekday "
        "$.points.earn.multipliers[12].when.spend_in_window_at_least "
        "$.points.earn.multipliers[13].when.member_days_at_least "
        "$.points.earn.multipliers[13].when.points_at_least "
        "$.points.earn.multipliers[14].when "
        "$.points.earn.multipliers[15].when.store "
        "$.points.earn.multipliers[17].when.time_between[0] "
        "$.points.earn.multipliers[1].when.orders_in_months.at_least "
        "$.points.earn.multipliers[1].when.orders_in_months.months "
        "$.points.earn.multipliers[2].when.time_between[0] "
        "$.points.earn.multipliers[2].when.time_between[1] "
        "$.points.earn.multipliers[3].when.time_between[0] "
        "$.points.earn.multipliers[3].when.time_between[1] "
        "$.points.earn.multipliers[4].when.time_between "
        "$.points.earn.multipliers[5].when.date_between "
        "$.points.earn.multipliers[6].when.day_of_month "
        "$.points.earn.multipliers[6].when.month "
        "$.points.earn.multipliers[7].when.birthday "
        "$.points.earn.multipliers[9].when.paid"
    ),
    "number-bases": "$.tiers.levels[1].at",  # YAML 1.2 reads 0x1F, 08, 010 as ints, 1:30.5 as text; 0b101, 9:30 pass as strings
    "window-61": "$.tiers.window",
    "window-word": "$.tiers.window",
}

ACCEPT = {
    "cond-references": "unknown tier, plan and stage ids: references to other parts of the policy",
    "duplicate-multiplier-id": "duplicate ids in a list: JSON Schema compares whole items only",
    "duplicate-tier-id": "duplicate ids in a list",
    "keep-above-at": "keep <= at compares two values",
    "lifecycle": "only the last stage goes without `when`, and duplicate stage ids",
    "merge-key": "editors' YAML readers apply the merge key before the schema sees the data",
    "tag": "YAML tags (!!int) are resolved before the schema sees the data",
    "id-timestamps": "a YAML 1.2 reader takes timestamps for text, so they are string ids to the schema",
    "money-no-decimals": "how many decimals money takes depends on currency.minor_units",
    "threshold-equal": "ascending thresholds compare two values",
    "version-decimal": "1.0 and 1 are the same JSON number to `const: 1`",
}

UNPARSABLE = {
    "alias-undefined": "an alias to an anchor not defined",
    "bool-words-as-ids": "a top-level key repeated",
    "duplicate-key": "a key repeated in one mapping",
    "two-documents": "two YAML documents",
    "yaml-syntax": "bad indentation",
    "yaml-unclosed": "an unclosed flow mapping",
}


class Tally:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def check(self, ok, what, detail=""):
        if ok:
            self.passed += 1
        else:
            self.failed += 1
            print("FAIL: " + what + (("\n      " + detail.replace("\n", "\n      ")) if detail else ""))


def validate(validator, schema, files):
    """check-jsonschema over files: ({basename: set(paths)}, {basename of unparsable})."""
    proc = subprocess.run([validator, "--output-format", "json", "--schemafile", schema] + files,
                          capture_output=True, text=True)
    try:
        report = json.loads(proc.stdout)
    except ValueError:
        sys.exit("schema-test: the validator printed no JSON report:\n" + proc.stdout + proc.stderr)
    errors = {}
    for e in report.get("errors", []):
        errors.setdefault(e["filename"], set()).add(e["path"])
    parse = {p["filename"] for p in report.get("parse_errors", [])}
    return errors, parse


def guide_snippets(guide, outdir):
    """Every ```yaml block of the guide, one file each."""
    text = open(guide, encoding="utf-8").read()
    blocks = re.findall(r"^```yaml\n(.*?)^```\s*$", text, flags=re.S | re.M)
    files = []
    for i, body in enumerate(blocks, 1):
        path = os.path.join(outdir, "guide-snippet-%02d.yaml" % i)
        with open(path, "w", encoding="utf-8") as f:
            f.write(body)
        files.append(path)
    return files


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--validator", required=True)
    ap.add_argument("--loyalty", required=True)
    ap.add_argument("--root", required=True)
    args = ap.parse_args()
    root = args.root
    schema = os.path.join(root, "schema", "loyalty-policy.schema.json")
    spec = os.environ.get("LOY_SPEC_DIR", os.path.join(root, "..", "shared", "spec"))
    t = Tally()

    proc = subprocess.run([args.validator, "--check-metaschema", schema], capture_output=True, text=True)
    t.check(proc.returncode == 0, "the schema is a valid draft-07 schema", proc.stdout + proc.stderr)

    with tempfile.TemporaryDirectory() as tmp:
        reference = sorted(glob.glob(os.path.join(spec, "policies", "*.yaml")))
        t.check(len(reference) == 3, "three reference policies under %s/policies" % spec, str(reference))
        snippets = guide_snippets(os.path.join(root, "docs", "guide.md"), tmp)
        t.check(len(snippets) >= 6, "docs/guide.md has at least 6 yaml snippets", "found %d" % len(snippets))
        valid = (reference + sorted(glob.glob(os.path.join(root, "examples", "data", "*.yaml")))
                 + sorted(glob.glob(os.path.join(root, "examples", "pos-checkout", "*.yaml")))
                 + sorted(glob.glob(os.path.join(root, "tests", "schema", "valid", "*.yaml"))) + snippets)
        for f in valid:
            p = subprocess.run([args.loyalty, "check", f], capture_output=True, text=True)
            t.check(p.returncode == 0, "loyalty check loads " + os.path.relpath(f, root), p.stdout + p.stderr)
        errors, parse = validate(args.validator, schema, valid)
        for f in valid:
            name = os.path.relpath(f, root)
            t.check(f not in errors and f not in parse, "the schema accepts " + name,
                    "\n".join(sorted(errors.get(f, []))) + (" (unparsable)" if f in parse else ""))

    corpus_dir = os.path.join(root, "tests", "policies", "invalid")
    corpus = sorted(glob.glob(os.path.join(corpus_dir, "*.yaml")))
    names = {os.path.basename(f)[:-5]: f for f in corpus}
    listed = set(REJECT) | set(ACCEPT) | set(UNPARSABLE)
    t.check(len(listed) == len(REJECT) + len(ACCEPT) + len(UNPARSABLE), "each corpus case is listed once")
    for n in sorted(set(names) - listed):
        t.check(False, "corpus case %s is listed in tests/schema/check.py (REJECT, ACCEPT or UNPARSABLE)" % n)
    for n in sorted(listed - set(names)):
        t.check(False, "listed case %s exists in tests/policies/invalid/" % n)

    errors, parse = validate(args.validator, schema, corpus)
    for n, f in sorted(names.items()):
        got = errors.get(f, set())
        if n in REJECT:
            want = set(REJECT[n].split())
            t.check(f not in parse and got == want, "the schema rejects %s at exactly %s" % (n, " ".join(sorted(want))),
                    "got: " + (" ".join(sorted(got)) or "no error") + (" (unparsable)" if f in parse else ""))
        elif n in ACCEPT:
            t.check(f not in parse and not got, "the schema accepts %s (cannot express: %s)" % (n, ACCEPT[n]),
                    "got: " + " ".join(sorted(got)) + (" (unparsable)" if f in parse else ""))
        elif n in UNPARSABLE:
            t.check(f in parse, "the validator's YAML reader refuses %s (%s)" % (n, UNPARSABLE[n]),
                    "got: " + (" ".join(sorted(got)) or "accepted"))

    print("schema-test: %d reject, %d accept (not expressible), %d unparsable corpus cases"
          % (len(REJECT), len(ACCEPT), len(UNPARSABLE)))
    print("schema-test: %d passed, %d failed" % (t.passed, t.failed))
    return 1 if t.failed else 0


if __name__ == "__main__":
    sys.exit(main())
