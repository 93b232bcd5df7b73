/*
 * A credit that makes a new lot writes it in place when it goes last and
 * the lots array has room (lib/engine/lots.c, loy_lots_credit), instead of
 * calling the general insert. The general insert is what a full array
 * takes (lot_insert_sorted: a grow, the place search, the memmove), so
 * this drives two members alike but for their room: one keeps the spare
 * capacity of its array, the other has it hidden before every credit.
 * Lots of every kind (pending or not, each last day, "never" too), debts,
 * and next_seq values behind the newest lot's seq (a state file may hold
 * those) must leave both members byte for byte alike, with the same
 * answers and refusals.
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

static void same_members(const loy_member *a, const loy_member *b, int round, int step)
{
    if (a->lot_count != b->lot_count || a->debt != b->debt || a->next_seq != b->next_seq)
        fail_msg("round %d, step %d: %zu lots, debt %lld, seq %u; the insert's %zu, %lld, %u", round,
                 step, a->lot_count, (long long)a->debt, (unsigned)a->next_seq, b->lot_count,
                 (long long)b->debt, (unsigned)b->next_seq);
    long i = first_lot_diff(a, b);
    if (i >= 0)
        fail_msg("round %d, step %d: lot %ld differs", round, step, i);
}

static void append_as_insert(void **state)
{
    (void)state;
    loy_policy *p = policy_after(12);
    loy_result *ra = NULL, *rb = NULL;
    assert_int_equal(loy_result_new(&ra, p), LOY_OK);
    assert_int_equal(loy_result_new(&rb, p), LOY_OK);
    const loy_day days[] = {LOY_DAY_NONE, loy_day_from_ymd(2026, 3, 31), loy_day_from_ymd(2026, 6, 30),
                            loy_day_from_ymd(2027, 6, 30), loy_day_from_ymd(2027, 2, 28)};
    rng r = {23};
    long appended = 0, made = 0;
    for (int round = 0; round < 20000; round++) {
        loy_member *a = NULL, *b = NULL;
        assert_int_equal(loy_member_new(&a, p, "M-1", "2024-01-01"), LOY_OK);
        assert_int_equal(loy_member_new(&b, p, "M-1", "2024-01-01"), LOY_OK);
        a->debt = b->debt = pick(&r, 4) == 0 ? pick(&r, 300) : 0;
        loy_ctx ca, cb;
        ctx_pair(&ca, &cb, p, a, b, ra, rb);
        ca.day = cb.day = loy_day_from_ymd(2026, 2, 10);
        for (int step = 0; step < 10; step++) {
            int64_t points = pick(&r, 8) == 0 ? (int64_t)pick(&r, 3) - 1 : pick(&r, 1000);
            loy_day last = days[pick(&r, 5)];
            if (pick(&r, 6) == 0 && a->lot_count > 0) {
                /* a seq behind the newest lot's: the new lot must not go after it */
                uint32_t seq = (uint32_t)pick(&r, (int)a->lot_count + 1);
                a->next_seq = b->next_seq = seq;
            }
            ca.code = cb.code = 0;
            bool ga, gb;
            if (pick(&r, 3) == 0) {
                char id[16];
                snprintf(id, sizeof id, "O-%d", step);
                loy_day until = loy_day_from_ymd(2026, 3, 1);
                ga = loy_lots_add_pending(&ca, points, last, until, id, strlen(id));
                gb = loy_lots_add_pending(&cb, points, last, until, id, strlen(id));
            } else {
                size_t before = a->lot_count;
                appended += a->lot_count < a->lot_cap;
                /* no room: the general insert */
                b->lot_cap = b->lot_count;
                ga = loy_lots_credit(&ca, points, last);
                gb = loy_lots_credit(&cb, points, last);
                made += a->lot_count > before;
            }
            if (ga != gb || ca.code != cb.code)
                fail_msg("round %d, step %d: %d (%d) against the insert's %d (%d)", round, step, ga,
                         ca.code, gb, cb.code);
            same_members(a, b, round, step);
        }
        loy_member_free(a);
        loy_member_free(b);
    }
    /* the in-place path was open, and credits made lots */
    assert_true(appended > 10000);
    assert_true(made > 10000);
    loy_result_free(ra);
    loy_result_free(rb);
    loy_policy_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(append_as_insert),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
