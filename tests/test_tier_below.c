/*
 * loy_tier_below_next (lib/engine/engine.h) lets the upgrade step skip the
 * window's sum when a lifetime total shows that no next tier is reached.
 * Checked against the general road, loy_tier_metric_today and the walk up
 * the levels, for generated bucket sets (gaps, year ends, figures near
 * INT64_MAX, lifetime totals above the months), every window kind and
 * qualifying metric, tiers and thresholds: wherever it says "below", the
 * general road must neither refuse (overflow) nor reach a higher level.
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

static const char *const QUALIFY[4] = {"spend", "orders", "points_earned", "growth"};
static const char *const WINDOW[4] = {"12_months", "3_months", "calendar_year", "lifetime"};

static loy_policy *load_policy(int q, int w)
{
    char y[1024];
    int n = snprintf(y, sizeof y,
                     "loyalty_policy: 1\ncurrency: {code: CNY}\n%s"
                     "tiers:\n  qualify_on: %s\n  window: %s\n  levels:\n"
                     "    - {id: t0}\n    - {id: t1, at: 10}\n    - {id: t2, at: 20}\n    - {id: t3, at: 30}\n"
                     "points:\n  earn:\n    rate: {amount: 1, points: 1}\n",
                     q == 3 ? "growth:\n  per_spend: {amount: 1, growth: 1}\n" : "", QUALIFY[q], WINDOW[w]);
    loy_policy *p = NULL;
    assert_int_equal(loy_policy_load_buffer(&p, y, (size_t)n, "tier.yaml", NULL), LOY_OK);
    return p;
}

static int64_t figure(rng *r)
{
    switch (pick(r, 5)) {
    case 0: return 0;
    case 1: return (int64_t)(next(r) % 1000);
    case 2: return INT64_MAX / 2 - (int64_t)(next(r) % 3);
    case 3: return INT64_MAX - (int64_t)(next(r) % 1000);
    default: return (int64_t)(next(r) >> (1 + pick(r, 40)));
    }
}

static void below_as_general(void **state)
{
    (void)state;
    rng r = {7};
    long shortcut = 0, summed = 0, refused = 0;
    for (int q = 0; q < 4; q++)
        for (int w = 0; w < 4; w++) {
            loy_policy *p = load_policy(q, w);
            loy_result *res = NULL;
            assert_int_equal(loy_result_new(&res, p), LOY_OK);
            for (int round = 0; round < 3000; round++) {
                loy_member *m = NULL;
                assert_int_equal(loy_member_new(&m, p, "M-1", "2020-01-01"), LOY_OK);
                /* imports keep each lifetime total at or above its months;
                 * one that would overflow is refused and leaves them */
                loy_month now = 2024 * 12 + pick(&r, 24);
                int months = pick(&r, 16);
                for (int i = 0; i < months; i++) {
                    loy_month mo = now - pick(&r, 30) + (pick(&r, 8) == 0 ? 2 : 0);
                    char month[16];
                    snprintf(month, sizeof month, "%04d-%02d", mo / 12, mo % 12 + 1);
                    (void)loy_member_import_month(m, (loy_metric)pick(&r, 4), month, figure(&r));
                }
                /* and above them by months no longer kept */
                for (int k = 0; k < 4; k++) {
                    int64_t extra = pick(&r, 2) ? 0 : figure(&r);
                    if (!loy_add(m->lifetime[k], extra, &m->lifetime[k]))
                        m->lifetime[k] = INT64_MAX;
                }
                if (!loy_add(m->orders, pick(&r, 2) ? 0 : figure(&r), &m->orders))
                    m->orders = INT64_MAX;
                m->tier = pick(&r, 4);
                for (int k = 1; k < 4; k++)   /* thresholds rising strictly, some near INT64_MAX */
                    p->tiers.levels[k].at = pick(&r, 3) == 0 ? INT64_MAX - 3 + k
                                            : pick(&r, 2) ? k * 10 : (int64_t)(next(&r) >> 3) / 4 * k;
                loy_ctx c;
                memset(&c, 0, sizeof c);
                c.p = p;
                c.m = m;
                c.r = res;
                c.day = loy_day_from_ymd(now / 12, now % 12 + 1, pick(&r, 28) + 1);
                bool below = loy_tier_below_next(p, m);
                int64_t metric = 0;
                bool ok = loy_tier_metric_today(&c, &metric);
                int32_t target = m->tier;
                while (ok && (uint32_t)target + 1 < p->tiers.count && p->tiers.levels[target + 1].at <= metric)
                    target++;
                if (below && (!ok || target != m->tier))
                    fail_msg("%s/%s round %d: below, but the general road %s (metric %lld, tier %d -> %d)",
                             QUALIFY[q], WINDOW[w], round, ok ? "upgrades" : "refuses", (long long)metric,
                             m->tier, target);
                shortcut += below;
                summed += !below;
                refused += !ok;
                loy_member_free(m);
            }
            loy_result_free(res);
            loy_policy_free(p);
        }
    /* both roads were taken */
    assert_true(shortcut > 5000 && summed > 5000);
    (void)refused;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(below_as_general),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
