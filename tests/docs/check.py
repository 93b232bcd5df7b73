"""The guide's examples are real (run by tests/docs/run.sh, from make docs).

docs/guide.md holds three kinds of fenced blocks this test reads:
  ```yaml   a complete policy: `loyalty check` must load it;
  ```jsonl  a member line and events: replayed under the last yaml block
            before it, the block right after it must be ```json with the
            results `loyalty replay` prints, one per line (compared as JSON).
"""
import json
import os
import re
import subprocess
import sys
import tempfile

FENCE = re.compile(r"^```([a-z]*)\n(.*?)^```[ \t]*$", re.S | re.M)


def main():
    loyalty, guide = sys.argv[1], sys.argv[2]
    blocks = [(m.group(1), m.group(2)) for m in FENCE.finditer(open(guide, encoding="utf-8").read())]
    passed = failed = 0

    def check(ok, what, detail=""):
        nonlocal passed, failed
        if ok:
            passed += 1
        else:
            failed += 1
            print("FAIL: " + what + ("\n  " + detail.replace("\n", "\n  ") if detail else ""))

    with tempfile.TemporaryDirectory() as tmp:
        policy = None
        policies = replays = 0
        for i, (lang, body) in enumerate(blocks):
            if lang == "yaml":
                policies += 1
                policy = os.path.join(tmp, "policy-%d.yaml" % policies)
                with open(policy, "w", encoding="utf-8") as f:
                    f.write(body)
                p = subprocess.run([loyalty, "check", policy], capture_output=True, text=True)
                check(p.returncode == 0 and ": ok, " in p.stdout,
                      "guide policy %d loads" % policies, p.stdout + p.stderr + body)
            elif lang == "jsonl":
                replays += 1
                what = "guide replay %d" % replays
                if policy is None or i + 1 >= len(blocks) or blocks[i + 1][0] != "json":
                    check(False, what + " has a yaml block before it and a json block right after it")
                    continue
                events = os.path.join(tmp, "events-%d.jsonl" % replays)
                with open(events, "w", encoding="utf-8") as f:
                    f.write(body)
                p = subprocess.run([loyalty, "replay", policy, events], capture_output=True, text=True)
                if p.returncode != 0:
                    check(False, what + " runs", p.stdout + p.stderr)
                    continue
                got = [json.loads(line) for line in p.stdout.splitlines() if line.strip()]
                want = [json.loads(line) for line in blocks[i + 1][1].splitlines() if line.strip()]
                check(len(got) == len(want), what + " prints %d results" % len(want), p.stdout)
                for k, (g, w) in enumerate(zip(got, want)):
                    check(g == w, what + " result %d is as the guide shows" % (k + 1),
                          "guide:  " + json.dumps(w, ensure_ascii=False) + "\nactual: " + json.dumps(g, ensure_ascii=False))
        check(policies >= 6, "the guide has at least 6 policies", "found %d" % policies)
        check(replays >= 5, "the guide has at least 5 replays", "found %d" % replays)
    print("guide: %d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
