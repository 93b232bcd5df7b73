/*
 * Shortcuts of the engine's steps 4-6 against the general roads they skip:
 * loy_metric_this_month (a month's figure read where the order step left
 * its bucket, lib/engine/metrics.c) against loy_metric_sum over that one
 * month, for members with random buckets and every state the remembered
 * bucket place and the date cache can be in.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "rules_support.h"

static const char policy_yaml[] =
    "loyalty_policy: 1\n"
    "program: Steps\n"
    "currency: {code: CNY}\n"
    "tiers:\n"
    "  qualify_on: spend\n"
    "  levels:\n"
    "    - {id: member}\n"
    "points:\n"
    "  earn:\n"
    "    rate: {amount: 1, points: 1}\n";

static uint64_t rng_state = 0x9E3779B97F4A7C15u;

static uint64_t rnd(void)
{
    /* xorshift64*: reproducible on every machine */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545F4914F6CDD1Du;
}

static int64_t rnd_value(void)
{
    switch (rnd() % 4) {
    case 0: return 0;
    case 1: return (int64_t)(rnd() % 1000);
    case 2: return (int64_t)(rnd() >> 1);          /* up to INT64_MAX */
    default: return INT64_MAX - (int64_t)(rnd() % 3);
    }
}

/* Buckets for a random subset of 2024-01..2026-12, in month order. */
static void fill_buckets(loy_member *m)
{
    m->month_count = 0;
    loy_month first = 2024 * 12;
    for (loy_month mo = first; mo < first + 36; mo++) {
        if (rnd() % 3 == 0)
            continue;
        loy_month_bucket *b = loy_bucket(m, mo);
        assert_non_null(b);
        b->spend = rnd_value();
        b->orders = rnd_value();
        b->growth = rnd_value();
        b->points_earned = rnd_value();
    }
}

static void this_month_is_the_months_sum(void **state)
{
    (void)state;
    loy_policy *p = load_policy_text(policy_yaml);
    loy_member *m = NULL;
    assert_int_equal(loy_member_new(&m, p, "M-1", "2020-01-01"), LOY_OK);
    loy_ctx c;
    memset(&c, 0, sizeof c);
    c.p = p;
    c.m = m;
    for (int round = 0; round < 300; round++) {
        fill_buckets(m);
        /* Months before, among and after the buckets. */
        for (loy_month mo = 2023 * 12 + 10; mo < 2027 * 12 + 2; mo++) {
            c.day = loy_day_from_ymd(mo / 12, mo % 12 + 1, (int32_t)(rnd() % 28) + 1);
            /* The cache filled or not, for this day or an older one, and
             * the remembered place right, stale or out of range. */
            switch (rnd() % 3) {
            case 0: c.dc_valid = false; break;
            case 1: loy_ctx_dates(&c); break;
            default: c.dc_day = c.day - 40; c.dc_valid = true; c.dc_month = loy_month_of(c.dc_day); break;
            }
            c.dc_bucket = (size_t)(rnd() % (m->month_count + 3));
            for (int metric = 0; metric < 4; metric++) {
                int64_t want = -1;
                assert_true(loy_metric_sum(m, metric, mo, mo, &want));
                int64_t got = loy_metric_this_month(&c, metric);
                if (got != want)
                    fail_msg("round %d, month %d, metric %d: %lld, the sum says %lld", round,
                             (int)mo, metric, (long long)got, (long long)want);
            }
        }
    }
    loy_member_free(m);
    loy_policy_free(p);
}

/* Through an order's metric updates, as the spend gift reads it after the
 * order step: buckets appear before and after the remembered one. */
static void this_month_after_updates(void **state)
{
    (void)state;
    loy_policy *p = load_policy_text(policy_yaml);
    loy_member *m = NULL;
    assert_int_equal(loy_member_new(&m, p, "M-1", "2020-01-01"), LOY_OK);
    loy_ctx c;
    memset(&c, 0, sizeof c);
    c.p = p;
    c.m = m;
    c.day = loy_day_from_ymd(2026, 6, 15);
    for (int i = 0; i < 200; i++) {
        loy_day other = loy_day_from_ymd(2026, (int32_t)(rnd() % 12) + 1, 3);
        if (rnd() % 2)
            assert_true(loy_metric_add(&c, other, LOY_METRIC_SPEND, (int64_t)(rnd() % 100)));
        if (rnd() % 2)
            assert_true(loy_metric_add_order(&c, (int64_t)(rnd() % 50), true, (int64_t)(rnd() % 100),
                                             (int64_t)(rnd() % 10)));
        for (int metric = 0; metric < 4; metric++) {
            int64_t want = -1;
            loy_month june = loy_month_of(c.day);
            assert_true(loy_metric_sum(m, metric, june, june, &want));
            assert_int_equal(loy_metric_this_month(&c, metric), want);
        }
    }
    loy_member_free(m);
    loy_policy_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(this_month_is_the_months_sum),
        cmocka_unit_test(this_month_after_updates),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
