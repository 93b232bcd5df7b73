/*
 * The order's bookkeeping has inline roads for its usual case
 * (lib/engine/metrics.c, lib/engine/lots.c); each must leave the member
 * as the general road does, and refuse where and as it refuses:
 *
 * - loy_metric_add_order finds this month's bucket as the newest, or
 *   appends it, without bucket_of_day; checked against the code before
 *   (order_ref below, with loy_bucket), for random buckets, figures near
 *   INT64_MAX and every state the date cache can be in.
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

static loy_policy *load_policy(void)
{
    static const char y[] = "loyalty_policy: 1\ncurrency: {code: CNY}\n"
                            "tiers: {qualify_on: spend, levels: [{id: t0}]}\n"
                            "points:\n  earn:\n    rate: {amount: 1, points: 1}\n";
    loy_policy *p = NULL;
    assert_int_equal(loy_policy_load_buffer(&p, y, sizeof y - 1, "order.yaml", NULL), LOY_OK);
    return p;
}

static int64_t figure(rng *r)
{
    switch (pick(r, 4)) {
    case 0: return 0;
    case 1: return (int64_t)(next(r) % 1000);
    case 2: return INT64_MAX - (int64_t)(next(r) % 3);
    default: return (int64_t)(next(r) >> 1);
    }
}

/* The figures an order adds fit in int64. Sums in 128 bits, where they
 * cannot overflow, rather than the library's checked adds. */
static bool fits(__int128 v) { return v >= INT64_MIN && v <= INT64_MAX; }

/*
 * loy_metric_add_order as the general road: the bucket from loy_bucket,
 * found where the code before the inline roads found it (before the
 * growth check when there are points, so an out-of-memory comes first).
 * Written apart from lib/engine/metrics.c: every new figure summed in 128
 * bits, all checked in the library's order of refusals, then all stored
 * (an add of 0 stores what was there).
 */
static bool order_ref(loy_ctx *c, int64_t points, bool growth_ok, int64_t spend, int64_t growth)
{
    static const char overflow[] = "a monthly figure overflows int64";
    loy_member *m = c->m;
    loy_month_bucket *b = NULL;
    if (points != 0 && !(b = loy_bucket(m, loy_month_of(c->day))))
        return loy_refuse(c, LOY_E_NOMEM, "out of memory");
    int64_t *life = m->lifetime;
    const __int128 points_month = (__int128)(b ? b->points_earned : 0) + points,
                   points_life = (__int128)life[LOY_METRIC_POINTS_EARNED] + points;
    if (!fits(points_month) || !fits(points_life))
        return loy_refuse(c, LOY_E_OVERFLOW, overflow);
    if (!growth_ok)
        return loy_refuse(c, LOY_E_OVERFLOW, "growth overflows int64");
    if (!b && !(b = loy_bucket(m, loy_month_of(c->day))))
        return loy_refuse(c, LOY_E_NOMEM, "out of memory");
    /* orders, then spend, then growth: the refusal is the same message */
    const __int128 sums[] = {
        (__int128)b->orders + 1, (__int128)life[LOY_METRIC_ORDERS] + 1, (__int128)m->orders + 1,
        (__int128)b->spend + spend, (__int128)life[LOY_METRIC_SPEND] + spend,
        (__int128)b->growth + growth, (__int128)life[LOY_METRIC_GROWTH] + growth,
    };
    for (size_t i = 0; i < sizeof sums / sizeof sums[0]; i++)
        if (!fits(sums[i]))
            return loy_refuse(c, LOY_E_OVERFLOW, overflow);
    if (points != 0) {
        b->points_earned = (int64_t)points_month;
        life[LOY_METRIC_POINTS_EARNED] = (int64_t)points_life;
    }
    b->orders = (int64_t)sums[0];
    life[LOY_METRIC_ORDERS] = (int64_t)sums[1];
    m->orders = (int64_t)sums[2];
    b->spend = (int64_t)sums[3];
    life[LOY_METRIC_SPEND] = (int64_t)sums[4];
    b->growth = (int64_t)sums[5];
    life[LOY_METRIC_GROWTH] = (int64_t)sums[6];
    return true;
}

/* Buckets for a random subset of 2024-01..2025-12 and lifetime totals,
 * the same for the same stream. */
static void fill_months(loy_member *m, rng *r)
{
    m->month_count = 0;
    for (loy_month mo = 2024 * 12; mo < 2026 * 12; mo++) {
        if (pick(r, 3) == 0)
            continue;
        loy_month_bucket *b = loy_bucket(m, mo);
        assert_non_null(b);
        b->spend = figure(r);
        b->orders = figure(r);
        b->growth = figure(r);
        b->points_earned = figure(r);
    }
    for (int k = 0; k < 4; k++)
        m->lifetime[k] = figure(r);
    m->orders = figure(r);
}

static void same_months(const loy_member *a, const loy_member *b, int round)
{
    if (a->month_count != b->month_count)
        fail_msg("round %d: %zu buckets, the general road %zu", round, (size_t)a->month_count,
                 (size_t)b->month_count);
    for (size_t i = 0; i < a->month_count; i++)
        if (memcmp(&a->months[i], &b->months[i], sizeof a->months[i]) != 0)
            fail_msg("round %d: bucket %zu differs", round, i);
    assert_memory_equal(a->lifetime, b->lifetime, sizeof a->lifetime);
    assert_int_equal(a->orders, b->orders);
}

static void add_order_as_general(void **state)
{
    (void)state;
    loy_policy *p = load_policy();
    loy_result *res = NULL;
    assert_int_equal(loy_result_new(&res, p), LOY_OK);
    loy_member *fast = NULL, *slow = NULL;
    assert_int_equal(loy_member_new(&fast, p, "M-1", "2020-01-01"), LOY_OK);
    assert_int_equal(loy_member_new(&slow, p, "M-1", "2020-01-01"), LOY_OK);
    rng r = {42};
    long refused = 0, appended = 0;
    for (int round = 0; round < 20000; round++) {
        rng twin = r;
        fill_months(fast, &r);
        fill_months(slow, &twin);
        size_t before = fast->month_count;
        loy_month newest = before ? fast->months[before - 1].month : 2024 * 12;
        /* this month as the newest bucket, the one after, or any other */
        loy_month mo = newest + pick(&r, 3) - (pick(&r, 3) == 0 ? 30 : 0);
        int64_t points = pick(&r, 3) == 0 ? 0 : figure(&r);
        bool growth_ok = pick(&r, 8) != 0;
        int64_t spend = figure(&r), growth = pick(&r, 2) ? 0 : figure(&r);
        loy_ctx a, b;
        memset(&a, 0, sizeof a);
        a.p = p;
        a.r = res;
        a.day = loy_day_from_ymd(mo / 12, mo % 12 + 1, pick(&r, 28) + 1);
        b = a;
        a.m = fast;
        b.m = slow;
        /* the cache empty, filled, or for another day */
        switch (pick(&r, 3)) {
        case 0: break;
        case 1: loy_ctx_dates(&a); break;
        default: a.dc_key = loy_dc_key(a.day - 40); a.dc_month = loy_month_of(a.day - 40); break;
        }
        a.dc_bucket = (size_t)pick(&r, (int)before + 3);
        bool got = loy_metric_add_order(&a, points, growth_ok, spend, growth);
        bool want = order_ref(&b, points, growth_ok, spend, growth);
        if (got != want || a.code != b.code || strcmp(got ? "" : a.message, want ? "" : b.message) != 0)
            fail_msg("round %d: %d %d '%s', the general road %d %d '%s'", round, got, a.code,
                     got ? "" : a.message, want, b.code, want ? "" : b.message);
        same_months(fast, slow, round);
        /* the place it leaves is this month's bucket's */
        if (got && (a.dc_bucket >= fast->month_count || fast->months[a.dc_bucket].month != mo))
            fail_msg("round %d: left bucket %zu", round, a.dc_bucket);
        refused += !got;
        appended += fast->month_count > before;
    }
    /* both roads and both answers were taken */
    assert_true(refused > 1000 && appended > 1000);
    loy_member_free(fast);
    loy_member_free(slow);
    loy_result_free(res);
    loy_policy_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(add_order_as_general),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
