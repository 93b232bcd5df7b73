/*
 * Two shortcuts of the order step against the general roads they skip.
 *
 * loy_lots_add_order (lib/engine/lots.c) works out an order's last day
 * and pending_until and adds its pending lot in one call, with the date
 * cache's fill and the pending_until sum inline. The road it replaces is
 * loy_ctx_credit_expiry, loy_add_days and loy_lots_add_pending, one after
 * the other. For every expiry rule, pending_days from 1 to 3,650, days
 * across 0000..9999 and at both ends, lots and points up to the int64
 * edge, and a date cache empty, filled or holding another day, both must
 * answer, refuse and leave the member alike.
 *
 * loy_metric_add_order (lib/engine/metrics.c) makes a member's first
 * bucket inline when its months buffer has room, and skips the growth
 * adds when the growth is 0. The general road is loy_bucket, taken by a
 * member without a buffer. Figures near the int64 edge make every
 * refusal happen; both members must end byte for byte alike.
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
#include "date.h"
#include "engine/engine.h"
#include "member.h"
#include "support/test_rng.h"
#include "support/lots_pair.h"

static loy_policy *policy_of(const char *expiry, int pending_days)
{
    char y[640];
    snprintf(y, sizeof y,
             "loyalty_policy: 1\ncurrency: {code: CNY}\n"
             "tiers: {qualify_on: spend, levels: [{id: t0}]}\n"
             "points:\n  earn:\n    rate: {amount: 1, points: 1}\n  pending_days: %d\n  expiry: %s\n",
             pending_days, expiry);
    loy_policy *p = NULL;
    assert_int_equal(loy_policy_load_buffer(&p, y, strlen(y), "pending.yaml", NULL), LOY_OK);
    return p;
}

static int64_t random_points(rng *r)
{
    switch (pick(r, 6)) {
    case 0: return INT64_MAX - pick(r, 4);
    case 1: return INT64_MAX / 2 + pick(r, 5) - 2;
    case 2: return INT64_MAX / 3 + pick(r, 5) - 2;
    default: return 1 + pick(r, 100000);
    }
}

/* pending_until lands on 9999-12-31 or either side of it in one in six */
static loy_day random_day(rng *r, int pending_days)
{
    loy_day lo = loy_day_min(), hi = loy_day_max();
    switch (pick(r, 6)) {
    case 5: return hi - pending_days + pick(r, 3) - 1;
    case 0: return hi - pick(r, 4000);
    case 1: return lo + pick(r, 400);
    case 2: return loy_day_from_ymd(2026, 1 + pick(r, 12), 1 + pick(r, 28));
    default: return lo + (loy_day)(next(r) % (uint64_t)(hi - lo + 1));
    }
}

static void same_lots(const loy_member *a, const loy_member *b, const char *what)
{
    if (a->lot_count != b->lot_count || a->next_seq != b->next_seq)
        fail_msg("%s: %zu lots against the steps' %zu", what, a->lot_count, b->lot_count);
    long i = first_lot_diff(a, b);
    if (i >= 0)
        fail_msg("%s: lot %ld differs", what, i);
}

static void pending_as_steps(void **state)
{
    (void)state;
    /* earn.c's and lots.c's bounds on a date */
    assert_int_equal(loy_day_min(), -719528);
    assert_int_equal(loy_day_max(), 2932896);
    static const char *const expiries[] = {"none", "{after_months: 0}", "{after_months: 12}",
                                           "{after_months: 1200}", "{end_of_year_plus: 0}",
                                           "{end_of_year_plus: 100}"};
    static const int pendings[] = {1, 7, 400, 3650};
    loy_result *ra = NULL, *rb = NULL;
    rng r = {7};
    long refused[4] = {0}, accepted = 0;
    for (size_t e = 0; e < sizeof expiries / sizeof *expiries; e++) {
        for (size_t q = 0; q < sizeof pendings / sizeof *pendings; q++) {
            loy_policy *p = policy_of(expiries[e], pendings[q]);
            assert_int_equal(loy_result_new(&ra, p), LOY_OK);
            assert_int_equal(loy_result_new(&rb, p), LOY_OK);
            for (int round = 0; round < 1500; round++) {
                loy_member *a = NULL, *b = NULL;
                assert_int_equal(loy_member_new(&a, p, "M-1", "2024-01-01"), LOY_OK);
                assert_int_equal(loy_member_new(&b, p, "M-1", "2024-01-01"), LOY_OK);
                int lots = pick(&r, 4);
                for (int i = 0; i < lots; i++) {
                    int64_t points = random_points(&r);
                    const char *last = pick(&r, 2) ? "2026-06-30" : NULL;
                    assert_int_equal(loy_member_import_lot(a, points, last),
                                     loy_member_import_lot(b, points, last));
                }
                loy_ctx ca, cb;
                ctx_pair(&ca, &cb, p, a, b, ra, rb);
                loy_event ev;
                memset(&ev, 0, sizeof ev);
                char id[24];
                int idlen = snprintf(id, sizeof id, "O-%d-%d", round, pick(&r, 1000000));
                ev.id.s = id;
                ev.id.len = (size_t)idlen;
                ca.ev = cb.ev = &ev;
                ca.day = cb.day = random_day(&r, pendings[q]);
                /* the date cache: empty, filled (with or without the last
                 * day), or holding another day */
                switch (pick(&r, 4)) {
                case 0:
                    break;
                case 1:
                    loy_ctx_dates(&ca);
                    break;
                case 2: {
                    loy_day d;
                    loy_ctx_dates(&ca);
                    (void)loy_ctx_credit_expiry(&ca, &d);
                    break;
                }
                default: {
                    loy_day d;
                    ca.day = ca.day == loy_day_max() ? ca.day - 1 : ca.day + 1;
                    (void)loy_ctx_credit_expiry(&ca, &d);
                    ca.day = cb.day;
                    break;
                }
                }
                int64_t points = random_points(&r);
                loy_day ea = 11, ua = 11, eb = LOY_DAY_NONE, ub = LOY_DAY_NONE;
                bool ga = loy_lots_add_order(&ca, points, &ea, &ua);
                int which = 0;
                bool gb = loy_ctx_credit_expiry(&cb, &eb);
                if (!gb) {
                    loy_refuse(&cb, LOY_E_OVERFLOW, "the points' last day passes 9999-12-31");
                    which = 1;
                } else if (!(gb = loy_add_days(cb.day, p->points.pending_days, &ub))) {
                    loy_refuse(&cb, LOY_E_OVERFLOW, "pending_until passes 9999-12-31");
                    which = 2;
                } else if (!(gb = loy_lots_add_pending(&cb, points, eb, ub, id, (size_t)idlen))) {
                    which = 3;
                }
                char what[96];
                snprintf(what, sizeof what, "expiry %s, pending %d, round %d", expiries[e], pendings[q],
                         round);
                if (ga != gb || ca.code != cb.code || strcmp(ga ? "" : ca.message, gb ? "" : cb.message) != 0)
                    fail_msg("%s: %d (%s) against the steps' %d (%s)", what, ga, ga ? "" : ca.message, gb,
                             gb ? "" : cb.message);
                if (ga && (ea != eb || ua != ub))
                    fail_msg("%s: last day %d, until %d against %d, %d", what, ea, ua, eb, ub);
                refused[which] += !gb;
                accepted += gb;
                same_lots(a, b, what);
                loy_member_free(a);
                loy_member_free(b);
            }
            loy_result_free(ra);
            loy_result_free(rb);
            loy_policy_free(p);
        }
    }
    /* every refusal happened, and most orders were taken */
    assert_true(refused[1] > 50);
    assert_true(refused[2] > 50);
    assert_true(refused[3] > 500);
    assert_true(accepted > 10000);
}

static void same_months(const loy_member *a, const loy_member *b, const char *what)
{
    if (a->month_count != b->month_count || a->orders != b->orders ||
        memcmp(a->lifetime, b->lifetime, sizeof a->lifetime) != 0)
        fail_msg("%s: %zu months against loy_bucket's %zu, or a lifetime figure", what, a->month_count,
                 b->month_count);
    for (size_t i = 0; i < a->month_count; i++) {
        const loy_month_bucket *x = &a->months[i], *y = &b->months[i];
        if (x->month != y->month || x->spend != y->spend || x->orders != y->orders || x->growth != y->growth ||
            x->points_earned != y->points_earned)
            fail_msg("%s: month %zu differs", what, i);
    }
}

static int64_t random_figure(rng *r)
{
    switch (pick(r, 5)) {
    case 0: return INT64_MAX - pick(r, 3);
    case 1: return 0;
    default: return pick(r, 100000);
    }
}

static void first_bucket_as_loy_bucket(void **state)
{
    (void)state;
    loy_policy *p = policy_of("{after_months: 12}", 7);
    loy_result *ra = NULL, *rb = NULL;
    assert_int_equal(loy_result_new(&ra, p), LOY_OK);
    assert_int_equal(loy_result_new(&rb, p), LOY_OK);
    rng r = {23};
    long inline_made = 0, refused = 0;
    for (int round = 0; round < 40000; round++) {
        loy_member *a = NULL, *b = NULL;
        assert_int_equal(loy_member_new(&a, p, "M-1", "2024-01-01"), LOY_OK);
        assert_int_equal(loy_member_new(&b, p, "M-1", "2024-01-01"), LOY_OK);
        /* a: an empty buffer with room (the months a load kept, dropped);
         * b: no buffer, so loy_bucket makes the first */
        assert_int_equal(loy_member_import_month(a, LOY_METRIC_SPEND, "2025-01", 5), LOY_OK);
        a->month_count = 0;
        if (b->month_cap != 0 || b->month_count != 0)
            fail_msg("a new member has a months buffer: the test needs another road");
        for (int k = 0; k < 4; k++) {
            int64_t v = random_figure(&r);
            a->lifetime[k] = b->lifetime[k] = v;
        }
        a->orders = b->orders = random_figure(&r);
        loy_ctx ca, cb;
        ctx_pair(&ca, &cb, p, a, b, ra, rb);
        ca.day = cb.day = loy_day_from_ymd(2026, 1 + pick(&r, 12), 1 + pick(&r, 28));
        /* the shortcut wants the date cache filled, as the order step leaves it */
        loy_ctx_dates(&ca);
        if (pick(&r, 2))
            loy_ctx_dates(&cb);
        int64_t points = random_figure(&r), spend = random_figure(&r), growth = random_figure(&r);
        bool growth_ok = pick(&r, 8) != 0;
        inline_made += growth_ok;
        bool ga = loy_metric_add_order(&ca, points, growth_ok, spend, growth);
        bool gb = loy_metric_add_order(&cb, points, growth_ok, spend, growth);
        char what[48];
        snprintf(what, sizeof what, "round %d", round);
        if (ga != gb || ca.code != cb.code || strcmp(ga ? "" : ca.message, gb ? "" : cb.message) != 0)
            fail_msg("%s: %d (%s) against loy_bucket's %d (%s)", what, ga, ga ? "" : ca.message, gb,
                     gb ? "" : cb.message);
        if (ga && ca.dc_bucket != cb.dc_bucket)
            fail_msg("%s: bucket %zu against %zu", what, ca.dc_bucket, cb.dc_bucket);
        refused += !ga;
        same_months(a, b, what);
        loy_member_free(a);
        loy_member_free(b);
    }
    assert_true(inline_made > 30000);
    assert_true(refused > 5000);
    loy_result_free(ra);
    loy_result_free(rb);
    loy_policy_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(pending_as_steps),
        cmocka_unit_test(first_bucket_as_loy_bucket),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
