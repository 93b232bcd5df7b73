/*
 * The undo journal saves only part of a member (lib/member.h): the fields
 * from tag_count up to recent_count, and the arrays the steps rewrite in
 * place (EVENT_ARRAYS). It leaves out the gift marks, which the engine
 * only appends to (APPEND_ARRAYS: their counts in the saved fields undo an
 * append), and the fields no step writes. This test sets that shortcut
 * against the general path, a member freshly loaded from the bytes before
 * each event:
 *
 *   - out of memory at every allocation of an order that marks both the
 *     crab-season surprise (its year) and the monthly-credit spend gift
 *     (its month) on an apparel platinum member: the spend mark's array
 *     failing to grow after the surprise mark was appended, the answer
 *     failing after both, from empty arrays and from arrays that hold
 *     earlier marks, and the same handles taking the event again;
 *   - orders in early November on platinum members near INT64_MAX, some
 *     accepted (and marking), some refused for overflow, on one handle.
 *
 * After a refusal the member's bytes are the bytes before it; after an
 * accepted event, the fresh member's; and the next event answers alike.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loyalty.h"
#include "support/fault_alloc.h"
#include "support/state_bytes.h"
#include "support/test_rng.h"
#include "support/undo_support.h"

static fault_alloc fa = {.countdown = -1};

/* A platinum member with `lots` points lasting to 2027 and a few gift
 * marks of earlier periods already given (so that an append lands after
 * entries that must stay). */
static bytes platinum_member(int64_t lots, int marks)
{
    loy_policy *p = load_policy(&fa, "apparel");
    loy_member *m = NULL;
    assert_int_equal(loy_member_new(&m, p, "M-PARTS", "2024-01-01"), LOY_OK);
    assert_int_equal(loy_member_import_lot(m, lots, "2027-12-31"), LOY_OK);
    assert_int_equal(loy_member_import_tier(m, "platinum", "2026-01-01"), LOY_OK);
    static const char *const spend[] = {"monthly-credit:2026-08", "monthly-credit:2026-09",
                                        "monthly-credit:2026-10"};
    for (int i = 0; i < marks && i < 3; i++)
        assert_int_equal(loy_member_import_gift(m, "spend", spend[i]), LOY_OK);
    if (marks > 3)
        assert_int_equal(loy_member_import_gift(m, "surprise", "crab-season:2025"), LOY_OK);
    bytes b = state_of(m);
    loy_member_free(m);
    loy_policy_free(p);
    return b;
}

static void build_order(loy_event *e, const char *id, int day, int64_t amount)
{
    char at[40];
    snprintf(at, sizeof at, "2026-11-%02dT12:00:00+08:00", day);
    loy_event_reset(e, LOY_EVENT_ORDER, id, at);
    loy_event_add_line(e, "TEE-1", "tees", amount, 1);
}

/* One event on a long-lived handle against a fresh member loaded from the
 * same bytes; returns the code. */
static int apply_both(const loy_policy *p, loy_member *m, loy_result *r, loy_event *e)
{
    bytes before = state_of(m);
    loy_member *fresh = loaded(p, &before);
    loy_result *fr = NULL;
    assert_int_equal(loy_result_new(&fr, p), LOY_OK);
    loy_result_set_options(fr, LOY_RESULT_TRACE);
    int rc = loy_apply(p, m, e, r);
    assert_int_equal(rc, loy_apply(p, fresh, e, fr));
    assert_same_json(r, fr);
    if (rc != LOY_OK)
        assert_state(m, &before);
    bytes want = state_of(fresh);
    assert_state(m, &want);
    free(want.data);
    free(before.data);
    loy_result_free(fr);
    loy_member_free(fresh);
    return rc;
}

/* Did the answer mark a gift? */
static bool marked(loy_result *r)
{
    const char *json = loy_result_json(r, NULL);
    return json && (strstr(json, "\"crab-season\"") || strstr(json, "\"monthly-credit\""));
}

static void test_refusals_between_marks(void **s)
{
    (void)s;
    loy_policy *p = load_policy(&fa, "apparel");
    rng g = {7};
    int refused = 0, marks = 0;
    for (int round = 0; round < 400; round++) {
        /* headroom around what the order and the gifts credit */
        int64_t headroom = 1 + pick(&g, 3000);
        bytes start = platinum_member(INT64_MAX - headroom, pick(&g, 5));
        loy_result *r;
        loy_event *e;
        loy_member *m = loaded_traced(p, &start, &r, &e);
        for (int i = 0; i < 4; i++) {
            char id[32];
            snprintf(id, sizeof id, "O-%d-%d", round, i);
            build_order(e, id, 1 + i * 3 + pick(&g, 3), 100 + pick(&g, 400000));
            int rc = apply_both(p, m, r, e);
            if (rc != LOY_OK)
                refused++;
            else if (marked(r))
                marks++;
        }
        loy_event_free(e);
        loy_result_free(r);
        loy_member_free(m);
        free(start.data);
    }
    /* both kinds happened, on handles that had seen the other */
    assert_true(refused >= 20);
    assert_true(marks >= 20);
    loy_policy_free(p);
    assert_int_equal(fa.live, 0);
}

static void build_nomem_order(loy_event *e)
{
    build_order(e, "O-NOMEM", 3, 500000);
}

/* Out of memory at every allocation of an order that marks both gifts
 * (arrays grown from empty and from full), then the same handles take the
 * event again and answer as an undisturbed member does. */
static void test_nomem_after_a_mark(void **s)
{
    (void)s;
    loy_policy *p = load_policy(&fa, "apparel");
    for (int marks = 0; marks <= 4; marks++) {
        bytes start = platinum_member(1000, marks);
        /* undisturbed, the order marks both gifts */
        loy_member *m = loaded(p, &start);
        loy_result *r = NULL;
        loy_event *e = NULL;
        assert_int_equal(loy_result_new(&r, p), LOY_OK);
        assert_int_equal(loy_event_new(&e, p), LOY_OK);
        build_nomem_order(e);
        assert_int_equal(loy_apply(p, m, e, r), LOY_OK);
        char *want = json_of(r);
        assert_non_null(strstr(want, "crab-season"));
        assert_non_null(strstr(want, "monthly-credit"));
        free(want);
        loy_event_free(e);
        loy_result_free(r);
        loy_member_free(m);
        nomem_sweep(&fa, p, &start, build_nomem_order, 3);
        free(start.data);
    }
    loy_policy_free(p);
    assert_int_equal(fa.live, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_refusals_between_marks),
        cmocka_unit_test(test_nomem_after_a_mark),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
