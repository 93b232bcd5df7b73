/*
 * The credit expiry of the per-event date cache has a path of its own for
 * `expiry: {after_months: N}` (lib/engine/lots.c, loy_ctx_credit_expiry_fill):
 * the day before the first of the month after, by Neri-Schneider, instead
 * of loy_lot_expiry's calls. It must give what loy_lot_expiry gives, and
 * refuse where it refuses, for every month of years 0..9999 and expiries
 * from none to the largest a policy may write.
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

static loy_policy *policy_after(long months)
{
    char y[512];
    snprintf(y, sizeof y,
             "loyalty_policy: 1\ncurrency: {code: CNY}\n"
             "tiers: {qualify_on: spend, levels: [{id: t0}]}\n"
             "points:\n  earn:\n    rate: {amount: 1, points: 1}\n  expiry: {after_months: %ld}\n",
             months);
    loy_policy *p = NULL;
    assert_int_equal(loy_policy_load_buffer(&p, y, strlen(y), "expiry.yaml", NULL), LOY_OK);
    return p;
}

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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(credit_expiry_as_lot_expiry),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
