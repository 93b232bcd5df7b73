#!/bin/sh
# make pos-test: the POS example pays every order exactly once.
#   test.sh POS_CHECKOUT_PROGRAM [POLICY]
# Two databases get the same requests. "clean" runs them once each. "crash"
# dies right before COMMIT of O-1 (POS_CRASH_BEFORE_COMMIT), then the till
# retries O-1, then retries it once more after it was committed. Both must
# end with the same ledger and byte-identical member state, and the retries
# must add nothing. Expected figures, by hand from policy.yaml:
#   O-1 on 2026-11-18 (a member day): eligible 528.00 (the 0.50 bag is
#       excluded from points) x 1 point/yuan x 2 = 1056 points; qualifying
#       spend 528.50 >= 500 reaches silver, whose gift is 100 points.
#   O-2 on 2026-11-20 (no member day): 100.00 -> 100 points.
#   Points expire at the end of the month 12 months after the credit: 2027-11-30.
set -eu
pos=$1
policy=${2:-$(dirname "$0")/policy.yaml}
command -v sqlite3 >/dev/null || { echo "pos-test: the sqlite3 program is missing (make deps)"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0
failed=0
check() {  # check DESCRIPTION ACTUAL EXPECTED
    if [ "$2" = "$3" ]; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
        printf 'FAIL: %s\n  expected: %s\n  actual:   %s\n' "$1" "$3" "$2"
    fi
}
q() { sqlite3 "$1" "$2"; }
o1() { "$pos" "$1" "$policy" order M-1 O-1 2026-11-18T10:00:00+08:00 --store SH-001 CAKE-8,cakes,52800 BAG,bags,50; }
o2() { "$pos" "$1" "$policy" order M-1 O-2 2026-11-20T09:30:00+08:00 --store SH-001 CAKE-2,cakes,10000; }

for db in clean crash; do
    "$pos" "$tmp/$db.db" "$policy" init
    "$pos" "$tmp/$db.db" "$policy" enroll M-1 2026-01-10
done
enrolled_state=$(q "$tmp/crash.db" "SELECT hex(state) FROM members WHERE id='M-1'")

# The clean run.
o1 "$tmp/clean.db" > "$tmp/clean-o1.out"
o2 "$tmp/clean.db" > "$tmp/clean-o2.out"

# The crash: the process dies after writing every row, before COMMIT.
set +e
POS_CRASH_BEFORE_COMMIT=1 o1 "$tmp/crash.db" > "$tmp/crash-o1.out" 2> "$tmp/crash-o1.err"
rc=$?
set -e
check "the crashed run exits 1" "$rc" 1
check "the crashed run printed no answer" "$(cat "$tmp/crash-o1.out")" ""
check "the crash left no ledger row" "$(q "$tmp/crash.db" "SELECT count(*) FROM ledger")" 0
check "the crash left no event row" "$(q "$tmp/crash.db" "SELECT count(*) FROM events")" 0
check "the crash left the member's state as enrolled" \
    "$(q "$tmp/crash.db" "SELECT hex(state) FROM members WHERE id='M-1'")" "$enrolled_state"

# The till retries O-1: it is applied now, once, with the clean run's answer.
o1 "$tmp/crash.db" > "$tmp/retry-o1.out"
check "the retry after the crash answers as the clean run" "$(cat "$tmp/retry-o1.out")" "$(cat "$tmp/clean-o1.out")"

# And retries once more after the commit: LOY_E_DUPLICATE, the stored answer, nothing added.
ledger_before=$(q "$tmp/crash.db" "SELECT count(*) FROM ledger")
state_before=$(q "$tmp/crash.db" "SELECT hex(state) FROM members WHERE id='M-1'")
set +e
o1 "$tmp/crash.db" > "$tmp/dup-o1.out" 2> "$tmp/dup-o1.err"
rc=$?
set -e
check "the retry after COMMIT exits 0" "$rc" 0
check "the retry after COMMIT is LOY_E_DUPLICATE" "$(grep -c 'O-1: LOY_E_DUPLICATE' "$tmp/dup-o1.err")" 1
check "the retry after COMMIT gets the first answer" "$(cat "$tmp/dup-o1.out")" "$(cat "$tmp/clean-o1.out")"
check "the retry after COMMIT adds no ledger row" "$(q "$tmp/crash.db" "SELECT count(*) FROM ledger")" "$ledger_before"
check "the retry after COMMIT leaves the state unchanged" \
    "$(q "$tmp/crash.db" "SELECT hex(state) FROM members WHERE id='M-1'")" "$state_before"

o2 "$tmp/crash.db" > "$tmp/crash-o2.out"
check "O-2 answers alike in both runs" "$(cat "$tmp/crash-o2.out")" "$(cat "$tmp/clean-o2.out")"

# The ledger: every points credit exactly once, with the hand-computed figures.
for db in clean crash; do
    check "$db: O-1's points rows" \
        "$(q "$tmp/$db.db" "SELECT group_concat(source || ':' || delta, ' ') FROM (SELECT * FROM ledger WHERE event_id='O-1' AND type='points' ORDER BY seq)")" \
        "order:1056 upgrade:100"
    check "$db: O-1's effects in order" \
        "$(q "$tmp/$db.db" "SELECT group_concat(type, ' ') FROM (SELECT type FROM ledger WHERE event_id='O-1' ORDER BY seq)")" \
        "points tier_changed gift points"
    check "$db: O-2's points rows" \
        "$(q "$tmp/$db.db" "SELECT group_concat(source || ':' || delta, ' ') FROM ledger WHERE event_id='O-2' AND type='points'")" \
        "order:100"
    check "$db: the points balance of the ledger" \
        "$(q "$tmp/$db.db" "SELECT sum(delta) FROM ledger WHERE member_id='M-1' AND type='points'")" 1256
    check "$db: two events recorded" "$(q "$tmp/$db.db" "SELECT group_concat(event_id, ' ') FROM events")" "O-1 O-2"
    check "$db: the member as the library sees it" "$("$pos" "$tmp/$db.db" "$policy" show M-1)" \
        "M-1 tier=silver since=2026-11-18 available=1256 pending=0"
done
check "the ledgers are identical" "$(q "$tmp/crash.db" "SELECT * FROM ledger ORDER BY event_id, seq")" \
    "$(q "$tmp/clean.db" "SELECT * FROM ledger ORDER BY event_id, seq")"
check "the member's state bytes are identical" \
    "$(q "$tmp/crash.db" "SELECT hex(state) FROM members WHERE id='M-1'")" \
    "$(q "$tmp/clean.db" "SELECT hex(state) FROM members WHERE id='M-1'")"

# A refused order changes nothing: O-3 is earlier than O-2 (LOY_E_OUT_OF_ORDER).
set +e
"$pos" "$tmp/crash.db" "$policy" order M-1 O-3 2026-11-19T09:00:00+08:00 CAKE-3,cakes,1000 > "$tmp/o3.out"
rc=$?
set -e
check "an out-of-order order exits 1" "$rc" 1
check "an out-of-order order is LOY_E_OUT_OF_ORDER" "$(grep -c '"LOY_E_OUT_OF_ORDER"' "$tmp/o3.out")" 1
check "an out-of-order order leaves the state" \
    "$(q "$tmp/crash.db" "SELECT hex(state) FROM members WHERE id='M-1'")" \
    "$(q "$tmp/clean.db" "SELECT hex(state) FROM members WHERE id='M-1'")"
check "an out-of-order order leaves no row" "$(q "$tmp/crash.db" "SELECT count(*) FROM events WHERE event_id='O-3'")" 0

echo "pos-test: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
