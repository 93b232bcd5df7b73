/*
 * The credit expiry of the per-event date cache has a path of its own for
 * `expiry: {after_months: N}` (lib/engine/lots.c, loy_ctx_credit_expiry_fill):
 * the day before the first of the month after, by Neri-Schneider, instead
 * of loy_lot_expiry's calls. It must give what loy_lot_expiry gives, and
 * refuse where it refuses, for every month of years 0..9999 and expiries
 * from none to the largest a policy may write.
 *
 * loy_points_totals and loy_points_available sum in int64 when the state is the usual one (no lot
 * negative, the lots' sum within int64, no negative debt) and in 128 bits,
 * clamped, otherwise: both must give what the 128-bit sums alone give, for
 * lots and debts on either side of those bounds.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "loyalty.h"
#include "engine/engine.h"
#include "member.h"
#include "support/test_rng.h"
#include "support/lots_pair.h"

static void credit_expiry_as_lot_expiry(void **state)
{
    (void)state;
    static const long months[] = {0, 1, 2, 11, 12, 13, 24, 35, 120, 1199, 1200};
    long refused = 0, checked = 0;
    for (size_t k = 0; k < sizeof months / sizeof months[0]; k++) {
        loy_policy *p = policy_after(months[k]);
        loy_member *m = NULL;
        assert_int_equal(loy_member_new(&m, p, "M-1", "2024-01-01"), LOY_OK);
        for (loy_month mo = 0; mo <= 9999 * 12 + 11; mo++) {
            /* the first and last day of every month, and one between */
            loy_day first = loy_month_first_day(mo), last = loy_month_last_day(mo);
            const loy_day days[] = {first, first + (last - first) / 2, last};
            for (size_t d = 0; d < 3; d++) {
                loy_ctx c;
                memset(&c, 0, sizeof c);
                c.p = p;
                c.m = m;
                c.day = days[d];
                loy_day want = 0, have = 0;
                bool ok = loy_lot_expiry(p, days[d], &want);
                assert_int_equal(loy_ctx_credit_expiry(&c, &have), ok);
                if (ok)
                    assert_int_equal(have, want);
                else
                    refused++;
                /* the second read comes from the cache */
                have = 0;
                assert_int_equal(loy_ctx_credit_expiry(&c, &have), ok);
                if (ok)
                    assert_int_equal(have, want);
                checked++;
            }
        }
        loy_member_free(m);
        loy_policy_free(p);
    }
    /* the last months of 9999 pass 9999-12-31 for every expiry but 0 */
    assert_true(refused > 0);
    assert_true(checked == (long)(sizeof months / sizeof months[0]) * 120000 * 3);
}

static int64_t clamped(__int128 v)
{
    return v > INT64_MAX ? INT64_MAX : v < INT64_MIN ? INT64_MIN : (int64_t)v;
}

/*
 * The totals by their definition, written apart from lib/engine/lots.c
 * (whose wide path this once copied): available is the settled lots less
 * the debt, pending the lots still pending, each summed in 128 bits and
 * clamped to int64.
 */
static void totals_ref(const loy_member *m, int64_t *available, int64_t *pending)
{
    __int128 settled = 0, held = 0;
    for (size_t i = 0; i < m->lot_count; i++)
        *(m->lots[i].pending_until == LOY_DAY_NONE ? &settled : &held) += m->lots[i].points;
    *available = clamped(settled - m->debt);
    *pending = clamped(held);
}

/* loy_points_available is the available figure of the totals. */
static int64_t available_ref(const loy_member *m)
{
    int64_t available, pending;
    totals_ref(m, &available, &pending);
    return available;
}

/* Lots either side of the bounds, and negative ones down to INT64_MIN:
 * states the library never makes, where only the clamps can answer. */
static int64_t random_points(rng *r)
{
    switch (pick(r, 7)) {
    case 0: return INT64_MAX - pick(r, 3);
    case 1: return INT64_MAX / 2 + pick(r, 3) - 1;
    case 2: return -(int64_t)pick(r, 1000);
    case 3: return INT64_MIN + pick(r, 3);
    default: return pick(r, 100000);
    }
}

static int64_t random_debt(rng *r, bool odd)
{
    if (odd && pick(r, 3) == 0)
        return pick(r, 2) ? -(int64_t)pick(r, 1000) : INT64_MIN + pick(r, 3);
    return pick(r, 2) ? pick(r, 500) : 0;
}

static void points_sums_as_128_bit(void **state)
{
    (void)state;
    loy_policy *p = policy_after(12);
    loy_member *m = NULL;
    assert_int_equal(loy_member_new(&m, p, "M-1", "2024-01-01"), LOY_OK);
    loy_lot *lots = calloc(8, sizeof *lots);
    assert_non_null(lots);
    loy_lot *own = m->lots;
    size_t own_count = m->lot_count, own_cap = m->lot_cap;
    rng r = {7};
    long usual = 0;
    for (int k = 0; k < 200000; k++) {
        /* mostly states the library makes, some it never does */
        bool odd = pick(&r, 4) == 0;
        size_t n = (size_t)pick(&r, 9);
        for (size_t i = 0; i < n; i++) {
            lots[i].points = odd ? random_points(&r) : pick(&r, 50000);
            lots[i].pending_until = pick(&r, 3) == 0 ? loy_day_from_ymd(2026, 1, 1) : LOY_DAY_NONE;
        }
        m->lots = lots;
        m->lot_count = n;
        m->debt = random_debt(&r, odd);
        int64_t a = 0, pd = 0, ra = 0, rp = 0;
        loy_points_totals(m, &a, &pd);
        totals_ref(m, &ra, &rp);
        assert_int_equal(a, ra);
        assert_int_equal(pd, rp);
        assert_int_equal(loy_points_available(m), available_ref(m));
        usual += !odd;
    }
    m->lots = own;
    m->lot_count = own_count;
    m->lot_cap = own_cap;
    m->debt = 0;
    free(lots);
    assert_true(usual > 0);
    loy_member_free(m);
    loy_policy_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(credit_expiry_as_lot_expiry),
        cmocka_unit_test(points_sums_as_128_bit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
