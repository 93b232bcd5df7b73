/*
 * A credit, or a pending lot, whose points fit within the ctx's bound on
 * the lots' sum (loy_ctx.lots_bound, lib/engine/lots.c) skips the walk
 * that sums every lot for the int64 test. The two paths must agree: for
 * random lots, debts and credits near and past the int64 edge, one ctx
 * keeps its bound over a run of credits and pending lots (and points
 * taken between them), the other forgets it before each call and always
 * walks. Both members must end byte for byte alike after each call, and
 * each call must answer and refuse alike.
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

/* Points either side of the edges the sums meet. */
static int64_t random_points(rng *r)
{
    switch (pick(r, 6)) {
    case 0: return INT64_MAX - pick(r, 4);
    case 1: return INT64_MAX / 2 + pick(r, 5) - 2;
    case 2: return INT64_MAX / 3 + pick(r, 5) - 2;
    case 3: return pick(r, 8) - 1;     /* 0 and -1 credit nothing */
    default: return pick(r, 100000);
    }
}

static void same_members(const loy_member *a, const loy_member *b, int round, int step)
{
    if (a->lot_count != b->lot_count || a->debt != b->debt || a->next_seq != b->next_seq)
        fail_msg("round %d, step %d: %zu lots, debt %lld; the walk's %zu, %lld", round, step,
                 a->lot_count, (long long)a->debt, b->lot_count, (long long)b->debt);
    long i = first_lot_diff(a, b);
    if (i >= 0)
        fail_msg("round %d, step %d: lot %ld differs", round, step, i);
}

static void bound_as_walk(void **state)
{
    (void)state;
    loy_policy *p = policy_after(12);
    loy_result *ra = NULL, *rb = NULL;
    assert_int_equal(loy_result_new(&ra, p), LOY_OK);
    assert_int_equal(loy_result_new(&rb, p), LOY_OK);
    static const char *const lasts[] = {NULL, "2026-03-31", "2026-06-30", "2027-06-30"};
    const loy_day days[] = {LOY_DAY_NONE, loy_day_from_ymd(2026, 3, 31), loy_day_from_ymd(2026, 6, 30),
                            loy_day_from_ymd(2027, 6, 30)};
    rng r = {11};
    long bounded = 0, refused = 0;
    for (int round = 0; round < 20000; round++) {
        loy_member *a = NULL, *b = NULL;
        assert_int_equal(loy_member_new(&a, p, "M-1", "2024-01-01"), LOY_OK);
        assert_int_equal(loy_member_new(&b, p, "M-1", "2024-01-01"), LOY_OK);
        int lots = pick(&r, 5);
        for (int i = 0; i < lots; i++) {
            int64_t points = random_points(&r);
            const char *last = lasts[pick(&r, 4)];
            assert_int_equal(loy_member_import_lot(a, points, last), loy_member_import_lot(b, points, last));
        }
        a->debt = b->debt = pick(&r, 3) == 0 ? pick(&r, 1000) : 0;
        loy_ctx ca, cb;
        ctx_pair(&ca, &cb, p, a, b, ra, rb);
        ca.day = cb.day = loy_day_from_ymd(2026, 2, 10);
        same_members(a, b, round, -1);
        for (int step = 0; step < 8; step++) {
            int64_t points = random_points(&r);
            loy_day last = days[pick(&r, 4)];
            cb.lots_bound = 0;
            bounded += ca.lots_bound != 0;
            ca.code = cb.code = 0;
            bool ga, gb;
            switch (pick(&r, 5)) {
            case 0: {
                char id[16];
                snprintf(id, sizeof id, "O-%d", step);
                loy_day until = loy_day_from_ymd(2026, 3, 1);
                ga = loy_lots_add_pending(&ca, points, last, until, id, strlen(id));
                gb = loy_lots_add_pending(&cb, points, last, until, id, strlen(id));
                break;
            }
            case 1: {
                /* points taken between credits lower the sum under the bound */
                int64_t take = pick(&r, 2) ? pick(&r, 1000) : INT64_MAX / 2;
                ga = gb = true;
                assert_int_equal(loy_lots_take(a, take), loy_lots_take(b, take));
                break;
            }
            default:
                ga = loy_lots_credit(&ca, points, last);
                gb = loy_lots_credit(&cb, points, last);
                break;
            }
            if (ga != gb || ca.code != cb.code ||
                strcmp(ga ? "" : ca.message, gb ? "" : cb.message) != 0)
                fail_msg("round %d, step %d: %d (%d) against the walk's %d (%d)", round, step, ga,
                         ca.code, gb, cb.code);
            refused += !ga;
            same_members(a, b, round, step);
        }
        loy_member_free(a);
        loy_member_free(b);
    }
    /* both paths were taken, and both refused */
    assert_true(bounded > 10000);
    assert_true(refused > 1000);
    loy_result_free(ra);
    loy_result_free(rb);
    loy_policy_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(bound_as_walk),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
