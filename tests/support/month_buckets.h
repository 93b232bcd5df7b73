/*
 * Random month buckets, and the updates orders make to them, for the
 * tests that hold a shortcut read of one month against loy_metric_sum
 * (test_month_spend.c, test_steps_fast.c). The generator's state is the
 * caller's, so each test keeps its own seed and stream.
 *
 * Include after "rules_support.h" (which brings the engine's header).
 */
#ifndef MONTH_BUCKETS_H
#define MONTH_BUCKETS_H

#include <stdint.h>

/* xorshift64*: reproducible on every machine */
static inline uint64_t xorshift64s(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 0x2545F4914F6CDD1Du;
}

/* 0, small, anything up to INT64_MAX, or at the edge: the sums' cases. */
static inline int64_t bucket_value(uint64_t *s)
{
    switch (xorshift64s(s) % 4) {
    case 0: return 0;
    case 1: return (int64_t)(xorshift64s(s) % 1000);
    case 2: return (int64_t)(xorshift64s(s) >> 1);
    default: return INT64_MAX - (int64_t)(xorshift64s(s) % 3);
    }
}

/* Buckets for a random subset of 2024-01..2026-12, in month order. */
static inline void fill_buckets(loy_member *m, uint64_t *s)
{
    m->month_count = 0;
    loy_month first = 2024 * 12;
    for (loy_month mo = first; mo < first + 36; mo++) {
        if (xorshift64s(s) % 3 == 0)
            continue;
        loy_month_bucket *b = loy_bucket(m, mo);
        assert_non_null(b);
        b->spend = bucket_value(s);
        b->orders = bucket_value(s);
        b->growth = bucket_value(s);
        b->points_earned = bucket_value(s);
    }
}

/* Metric updates as orders make them, at random: spend added to a month
 * of 2026 (before or after c's, or c's own), and an order's figures in
 * c's month. Each must be accepted. */
static inline void random_updates(loy_ctx *c, uint64_t *s)
{
    loy_day other = loy_day_from_ymd(2026, (int32_t)(xorshift64s(s) % 12) + 1, 3);
    if (xorshift64s(s) % 2)
        assert_true(loy_metric_add(c, other, LOY_METRIC_SPEND, (int64_t)(xorshift64s(s) % 100)));
    if (xorshift64s(s) % 2)
        assert_true(loy_metric_add_order(c, (int64_t)(xorshift64s(s) % 50), true, (int64_t)(xorshift64s(s) % 100),
                                         (int64_t)(xorshift64s(s) % 10)));
}

#endif
