/*
 * loy_month_spend_now (lib/engine/engine.h), the monthly spend gift's
 * inline read of this month's spend, against loy_metric_sum over that one
 * month: for members with random buckets, in every state the remembered
 * bucket place and the date cache can be in, and through the metric
 * updates an order makes, before and after the remembered bucket.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "rules_support.h"
#include "support/month_buckets.h"
#include "support/one_tier.h"

static const char policy_yaml[] =
    ONE_TIER_POLICY("Spend");

static uint64_t rng_state = 0x2545F4914F6CDD1Du;

static uint64_t rnd(void) { return xorshift64s(&rng_state); }

static void spend_now_is_the_months_sum(void **state)
{
    (void)state;
    loy_policy *p = load_policy_text(policy_yaml);
    loy_member *m = NULL;
    assert_int_equal(loy_member_new(&m, p, "M-1", "2020-01-01"), LOY_OK);
    loy_ctx c = ctx_on(p, m);
    long fast = 0;
    for (int round = 0; round < 300; round++) {
        fill_buckets(m, &rng_state);
        for (loy_month mo = 2023 * 12 + 10; mo < 2027 * 12 + 2; mo++) {
            c.day = loy_day_from_ymd(mo / 12, mo % 12 + 1, (int32_t)(rnd() % 28) + 1);
            c.dc_bucket = (size_t)(rnd() % (m->month_count + 3));
            switch (rnd() % 4) {
            case 0: c.dc_key = 0; break;
            case 1: loy_ctx_dates(&c); break;
            case 2: c.dc_key = loy_dc_key(c.day - 40); c.dc_month = loy_month_of(c.day - 40); break;
            default: {
                /* the place the order step leaves: the inline read's case */
                loy_ctx_dates(&c);
                for (size_t i = 0; i < m->month_count; i++)
                    if (m->months[i].month == mo)
                        c.dc_bucket = i;
                break;
            }
            }
            if (loy_ctx_dates_ready(&c) && c.dc_bucket < m->month_count &&
                m->months[c.dc_bucket].month == c.dc_month)
                fast++;
            int64_t want = -1;
            assert_true(loy_metric_sum(m, LOY_METRIC_SPEND, mo, mo, &want));
            int64_t got = loy_month_spend_now(&c);
            if (got != want)
                fail_msg("round %d, month %d: %lld, the sum says %lld", round, (int)mo,
                         (long long)got, (long long)want);
        }
    }
    /* both roads were taken, many times */
    assert_true(fast > 1000);
    loy_member_free(m);
    loy_policy_free(p);
}

static void spend_now_after_updates(void **state)
{
    (void)state;
    loy_policy *p = load_policy_text(policy_yaml);
    loy_member *m = NULL;
    assert_int_equal(loy_member_new(&m, p, "M-1", "2020-01-01"), LOY_OK);
    loy_ctx c = ctx_on(p, m);
    c.day = loy_day_from_ymd(2026, 6, 15);
    for (int i = 0; i < 400; i++) {
        random_updates(&c, &rng_state);
        int64_t want = -1;
        loy_month june = loy_month_of(c.day);
        assert_true(loy_metric_sum(m, LOY_METRIC_SPEND, june, june, &want));
        assert_int_equal(loy_month_spend_now(&c), want);
    }
    loy_member_free(m);
    loy_policy_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(spend_now_is_the_months_sum),
        cmocka_unit_test(spend_now_after_updates),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
