/*
 * Two state fixes and their bytes (docs/state.md):
 *  - cap.per_day counts every local date a later event can still reach
 *    (POLICY.md §4.1 step 5, §1 mixed offsets), kept in the optional
 *    ST_F_CAP_EARLIER section; version 1 bytes without it still read as a
 *    one-day count;
 *  - an imported `spend` entry `ID:ORDER-ID` of a `period: order` gift
 *    (§11.2) stops that order's event from getting the gift again, kept in
 *    the optional ST_F_SPEND_ORDERS section.
 * Expected points are worked out by hand: rate 1 point per 1.00, amounts
 * in minor units, so 80000 earns 800.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "state_support.h"

#define FLAG_CAP_EARLIER 0x20u
#define FLAG_SPEND_ORDERS 0x40u

static const char CAP_POLICY[] =
    "loyalty_policy: 1\n"
    "tiers: {qualify_on: spend, levels: [{id: member}]}\n"
    "points:\n"
    "  earn:\n"
    "    rate: {amount: 1, points: 1}\n"
    "    cap: {per_day: 1000}\n";

static const char SPEND_POLICY[] =
    "loyalty_policy: 1\n"
    "tiers: {qualify_on: spend, levels: [{id: member}]}\n"
    "points:\n"
    "  earn:\n"
    "    rate: {amount: 1, points: 1}\n"
    "gifts:\n"
    "  spend:\n"
    "    - {id: big, period: order, at_least: 500, reward: {points: 50}}\n";

/* The same gift id, now per calendar month: the order entries mean nothing to it. */
static const char SPEND_MONTH_POLICY[] =
    "loyalty_policy: 1\n"
    "tiers: {qualify_on: spend, levels: [{id: member}]}\n"
    "points:\n"
    "  earn:\n"
    "    rate: {amount: 1, points: 1}\n"
    "gifts:\n"
    "  spend:\n"
    "    - {id: big, period: calendar_month, at_least: 500, reward: {points: 50}}\n";

static void order(rig *t, const char *id, const char *at, int64_t amount)
{
    ev(t, LOY_EVENT_ORDER, id, at);
    ev_line(t, "A", "shirts", amount);
    int rc = apply(t);
    if (rc != LOY_OK)
        fprintf(stderr, "refused: %s: %s\n", loy_error_name(rc), loy_result_message(t->r));
    assert_int_equal(rc, LOY_OK);
}

/* The payload's flags varint: one byte while the flags are below 0x80. */
static unsigned flags_of(const blob *b)
{
    assert_true(b->len > 12);
    assert_true(b->data[12] < 0x80);
    return b->data[12];
}

/* The rig continues from the bytes, loaded into a new handle. */
static void continue_from(rig *t, const blob *b)
{
    loy_member *m = loaded(t->p, b);
    loy_member_free(t->m);
    t->m = m;
}

static void test_cap_days_round_trip(void **state)
{
    LOY_UNUSED(state);
    rig t;
    rig_open(&t, load_policy_text(CAP_POLICY), "M-CAP", "2026-01-01");

    order(&t, "O-1", "2026-03-02T01:00:00+08:00", 80000);       /* local 03-02: 800 */
    assert_int_equal(loy_member_points_available(t.m), 800);
    order(&t, "O-2", "2026-03-01T20:00:00-05:00", 80000);       /* UTC 03-02 01:00, local 03-01: 800 */
    assert_int_equal(loy_member_points_available(t.m), 1600);
    assert_int_equal(t.m->cap_day, day_of("2026-03-02"));
    assert_int_equal(t.m->day_points, 800);
    assert_int_equal(t.m->cap_earlier_count, 1);
    assert_int_equal(t.m->cap_earlier[0].day, day_of("2026-03-01"));
    assert_int_equal(t.m->cap_earlier[0].points, 800);

    blob b = state_of(t.m);
    assert_int_equal(flags_of(&b) & (FLAG_CAP_EARLIER | FLAG_SPEND_ORDERS), FLAG_CAP_EARLIER);
    assert_round_trip(t.p, &b);
    continue_from(&t, &b);

    /* UTC 03-02 03:00, local 03-01: both days still reachable; 1000 - 800 = 200 */
    order(&t, "O-3", "2026-03-01T22:00:00-05:00", 50000);
    assert_int_equal(loy_member_points_available(t.m), 1800);
    /* UTC 03-02 04:00, local 03-02: 200 more */
    order(&t, "O-4", "2026-03-02T12:00:00+08:00", 50000);
    assert_int_equal(loy_member_points_available(t.m), 2000);
    /* 03-04: no later event can reach 03-01 or 03-02 any more: one day left */
    order(&t, "O-5", "2026-03-04T12:00:00+08:00", 50000);
    assert_int_equal(loy_member_points_available(t.m), 2500);
    assert_int_equal(t.m->cap_earlier_count, 0);
    blob after = state_of(t.m);
    assert_int_equal(flags_of(&after) & FLAG_CAP_EARLIER, 0);
    assert_round_trip(t.p, &after);

    free(b.data);
    free(after.data);
    rig_close(&t);
}

/* Three reachable local dates at once: 03-03 (+14:00), 03-02 (UTC) and
 * 03-01 (-13:00 and -23:30), all within two UTC hours. */
static void test_cap_three_days(void **state)
{
    LOY_UNUSED(state);
    rig t;
    rig_open(&t, load_policy_text(CAP_POLICY), "M-CAP3", "2026-01-01");
    order(&t, "O-1", "2026-03-03T01:00:00+14:00", 90000);       /* UTC 03-02 11:00: 900 on 03-03 */
    order(&t, "O-2", "2026-03-02T12:00:00+00:00", 90000);       /* UTC 03-02 12:00: 900 on 03-02 */
    order(&t, "O-3", "2026-03-01T23:30:00-13:00", 90000);       /* UTC 03-02 12:30: 900 on 03-01 */
    assert_int_equal(loy_member_points_available(t.m), 2700);
    assert_int_equal(t.m->cap_day, day_of("2026-03-03"));
    assert_int_equal(t.m->cap_earlier_count, 2);
    assert_int_equal(t.m->cap_earlier[0].day, day_of("2026-03-01"));
    assert_int_equal(t.m->cap_earlier[1].day, day_of("2026-03-02"));

    blob b = state_of(t.m);
    assert_int_equal(flags_of(&b) & FLAG_CAP_EARLIER, FLAG_CAP_EARLIER);
    assert_round_trip(t.p, &b);
    continue_from(&t, &b);
    /* each day has 100 left */
    order(&t, "O-4", "2026-03-02T13:00:00+00:00", 90000);       /* UTC 03-02 13:00 */
    order(&t, "O-5", "2026-03-01T14:00:00-23:30", 90000);       /* UTC 03-02 13:30 */
    order(&t, "O-6", "2026-03-03T04:00:00+14:00", 90000);       /* UTC 03-02 14:00 */
    assert_int_equal(loy_member_points_available(t.m), 3000);
    free(b.data);
    rig_close(&t);
}

/* Version 1 bytes written before the optional sections existed: a state
 * with one (cap_day, day_points) pair, built by hand. */
static craft v1_payload_with_cap_day(void)
{
    craft c = {.len = 0};
    cr_u(&c, 1);                          /* flags: fresh */
    cr_u(&c, 1);                          /* string table: one id */
    cr_str(&c, "member");
    cr_str(&c, "M-V1");                   /* member id */
    cr_s(&c, day_of("2026-01-01"));       /* joined */
    cr_u(&c, 0);                          /* birthday: none */
    cr_u(&c, 0);                          /* tags */
    cr_u(&c, 0);                          /* tier: string 0 */
    cr_s(&c, 0);                          /* tier_since = joined */
    cr_u(&c, 0);                          /* last review: none */
    cr_u(&c, 0);                          /* debt */
    cr_u(&c, 0);                          /* lots */
    cr_u(&c, 0);                          /* months */
    for (int i = 0; i < 4; i++)
        cr_s(&c, 0);                      /* lifetime totals */
    cr_u(&c, 0);                          /* orders */
    cr_u(&c, 0);                          /* last order: none */
    cr_u(&c, 0);                          /* action counters */
    cr_u(&c, 0);                          /* benefit counters */
    cr_u(&c, 0);                          /* upgrade gifts */
    cr_u(&c, 0);                          /* birthday gifts */
    cr_u(&c, 0);                          /* surprise gifts */
    cr_u(&c, 0);                          /* spend gifts */
    cr_u(&c, 9);                          /* cap day: 01-05 = joined + 4, zigzag 8, + 1 */
    cr_u(&c, 900);                        /* day's points */
    cr_u(&c, 0);                          /* recent ids */
    return c;
}

static void test_v1_bytes_one_day(void **state)
{
    LOY_UNUSED(state);
    rig t;
    rig_open(&t, load_policy_text(CAP_POLICY), "M-V1", "2026-01-01");
    craft c = v1_payload_with_cap_day();
    blob v1 = cr_seal(&c);
    assert_int_equal(v1.data[3], 1);      /* format version 1 */
    assert_int_equal(loy_member_load(t.m, v1.data, v1.len), LOY_OK);
    assert_int_equal(t.m->cap_day, day_of("2026-01-05"));
    assert_int_equal(t.m->day_points, 900);
    assert_int_equal(t.m->cap_earlier_count, 0);
    assert_int_equal(t.m->spend_order_count, 0);
    /* the same bytes come back: nothing new to write */
    assert_state_is(t.m, &v1);

    order(&t, "O-1", "2026-01-05T10:00:00+08:00", 50000);       /* 1000 - 900 = 100 */
    assert_int_equal(loy_member_points_available(t.m), 100);
    /* a later event at local 01-04 (UTC 01-05 05:00): a day of its own */
    order(&t, "O-2", "2026-01-04T19:00:00-10:00", 50000);
    assert_int_equal(loy_member_points_available(t.m), 600);
    order(&t, "O-3", "2026-01-05T14:00:00+08:00", 50000);       /* 01-05 is full */
    assert_int_equal(loy_member_points_available(t.m), 600);
    free(v1.data);
    rig_close(&t);
}

static void test_spend_order_entry_round_trip(void **state)
{
    LOY_UNUSED(state);
    rig t;
    rig_open(&t, load_policy_text(SPEND_POLICY), "M-SGO", "2025-01-01");
    assert_int_equal(loy_member_import_gift(t.m, "spend", "big:O-7"), LOY_OK);
    assert_int_equal(loy_member_import_gift(t.m, "spend", "big:O-7"), LOY_OK);    /* counts once */
    assert_int_equal(loy_member_import_gift(t.m, "spend", "big:O-3"), LOY_OK);
    assert_int_equal(t.m->spend_order_count, 2);
    assert_int_equal(loy_member_import_gift(t.m, "spend", "big:"), LOY_E_INVALID_MEMBER);
    assert_int_equal(t.m->spend_order_count, 2);

    blob b = state_of(t.m);
    assert_int_equal(flags_of(&b) & (FLAG_CAP_EARLIER | FLAG_SPEND_ORDERS), FLAG_SPEND_ORDERS);
    assert_true(bytes_contain(&b, "big"));
    assert_false(bytes_contain(&b, "O-7"));    /* kept as a hash */
    assert_round_trip(t.p, &b);
    continue_from(&t, &b);
    assert_int_equal(t.m->spend_order_count, 2);

    order(&t, "O-7", "2026-03-01T10:00:00+08:00", 60000);       /* 600, no gift: given before */
    assert_int_equal(loy_member_points_available(t.m), 600);
    order(&t, "O-8", "2026-03-02T10:00:00+08:00", 60000);       /* 600 + the gift's 50 */
    assert_int_equal(loy_member_points_available(t.m), 1250);

    /* under a policy whose `big` is per month the entries stand (§10.2),
     * matching no month, and match orders again once it is back */
    loy_policy *monthly = load_policy_text(SPEND_MONTH_POLICY);
    loy_member *m = loaded(monthly, &b);
    assert_int_equal(m->spend_order_count, 2);
    blob again = state_of(m);
    assert_int_equal(flags_of(&again) & FLAG_SPEND_ORDERS, FLAG_SPEND_ORDERS);
    loy_member_free(m);
    loy_policy_free(monthly);
    m = loaded(t.p, &again);
    assert_int_equal(m->spend_order_count, 2);
    free(again.data);
    loy_member_free(m);

    free(b.data);
    rig_close(&t);
}

static void test_bad_sections_refused(void **state)
{
    LOY_UNUSED(state);
    loy_policy *p = load_policy_text(CAP_POLICY);
    loy_member *m = NULL;
    assert_int_equal(loy_member_create(&m, p), LOY_OK);

    /* the cap section flagged without a cap day */
    craft c = v1_payload_with_cap_day();
    c.buf[0] = 1 | FLAG_CAP_EARLIER;
    c.len -= 3;                           /* drop cap day (1), points (2 bytes: 900) */
    c.len -= 1;                           /* and the recent-id count */
    cr_u(&c, 0);                          /* cap day: none */
    cr_u(&c, 0);
    cr_u(&c, 1);                          /* one earlier day */
    cr_u(&c, 0);
    cr_u(&c, 5);
    cr_u(&c, 0);                          /* recent ids */
    blob b = cr_seal(&c);
    assert_int_equal(loy_member_load(m, b.data, b.len), LOY_E_STATE_CHECKSUM);
    free(b.data);

    /* an empty cap section */
    c = v1_payload_with_cap_day();
    c.buf[0] = 1 | FLAG_CAP_EARLIER;
    c.len -= 1;
    cr_u(&c, 0);                          /* zero earlier days */
    cr_u(&c, 0);
    b = cr_seal(&c);
    assert_int_equal(loy_member_load(m, b.data, b.len), LOY_E_STATE_CHECKSUM);
    free(b.data);

    /* a good one: 01-04 (one day back, gap 0) with 70 points */
    c = v1_payload_with_cap_day();
    c.buf[0] = 1 | FLAG_CAP_EARLIER;
    c.len -= 1;
    cr_u(&c, 1);
    cr_u(&c, 0);
    cr_u(&c, 70);
    cr_u(&c, 0);
    b = cr_seal(&c);
    assert_int_equal(loy_member_load(m, b.data, b.len), LOY_OK);
    assert_int_equal(m->cap_earlier_count, 1);
    assert_int_equal(m->cap_earlier[0].day, day_of("2026-01-04"));
    assert_int_equal(m->cap_earlier[0].points, 70);
    assert_state_is(m, &b);
    free(b.data);

    /* an empty order spend gift section */
    c = v1_payload_with_cap_day();
    c.buf[0] = 1 | FLAG_SPEND_ORDERS;
    c.len -= 1;
    cr_u(&c, 0);
    cr_u(&c, 0);
    b = cr_seal(&c);
    assert_int_equal(loy_member_load(m, b.data, b.len), LOY_E_STATE_CHECKSUM);
    free(b.data);

    loy_member_free(m);
    loy_policy_free(p);
}

/* ----------------------------------------------------- out of memory */

static void import_order_entry(rig *t)
{
    assert_int_equal(loy_member_import_gift(t->m, "spend", "big:O-7"), LOY_OK);
}

static void build_order_o7(rig *t)
{
    ev(t, LOY_EVENT_ORDER, "O-7", "2026-03-01T10:00:00+08:00");
    ev_line(t, "A", "shirts", 60000);
}

static void two_days_counted(rig *t)
{
    order(t, "O-1", "2026-03-02T01:00:00+08:00", 80000);
    order(t, "O-2", "2026-03-01T20:00:00-05:00", 80000);
}

static void build_order_o3(rig *t)
{
    ev(t, LOY_EVENT_ORDER, "O-3", "2026-03-01T22:00:00-05:00");
    ev_line(t, "A", "shirts", 50000);
}

static void test_nomem_leaves_state(void **state)
{
    LOY_UNUSED(state);
    nomem_sweep(SPEND_POLICY, import_order_entry, build_order_o7);

    /* counting an earlier local date allocates nothing once the handle is warm */
    rs_failing_alloc fa = {-1, 0};
    loy_allocator alloc = {rs_fail_malloc, rs_fail_realloc, rs_fail_free, &fa};
    {
        loy_policy *cp = NULL;
        assert_int_equal(loy_policy_load_buffer_ex(&cp, CAP_POLICY, strlen(CAP_POLICY), "cap.yaml", NULL, &alloc),
                         LOY_OK);
        rig t;
        rig_open(&t, cp, "M-WARM", "2026-01-01");
        two_days_counted(&t);
        build_order_o3(&t);
        fa.countdown = 0;
        assert_int_equal(apply(&t), LOY_OK);
        fa.countdown = -1;
        assert_int_equal(fa.failures, 0);
        assert_int_equal(loy_member_points_available(t.m), 1800);
        rig_close(&t);
    }

    /* an import and a load of the order entries, every allocation failing in turn */
    loy_policy *p = NULL;
    assert_int_equal(loy_policy_load_buffer_ex(&p, SPEND_POLICY, strlen(SPEND_POLICY), "nomem.yaml", NULL, &alloc),
                     LOY_OK);
    loy_member *src = NULL;
    assert_int_equal(loy_member_new(&src, p, "M-OOM", "2025-01-01"), LOY_OK);
    bool done = false;
    for (long k = 0; k < 1000 && !done; k++) {
        blob before = state_of(src);
        fa.countdown = k;
        int rc = loy_member_import_gift(src, "spend", "big:O-9");
        fa.countdown = -1;
        if (rc == LOY_OK)
            done = true;
        else {
            assert_int_equal(rc, LOY_E_NOMEM);
            assert_state_is(src, &before);
        }
        free(before.data);
    }
    assert_true(done);
    blob b = state_of(src);
    done = false;
    long failures = 0;
    for (long k = 0; k < 1000 && !done; k++) {
        loy_member *m = NULL;
        assert_int_equal(loy_member_new(&m, p, "BYSTANDER", "2020-02-02"), LOY_OK);
        blob before = state_of(m);
        fa.countdown = k;
        int rc = loy_member_load(m, b.data, b.len);
        fa.countdown = -1;
        if (rc == LOY_OK) {
            assert_state_is(m, &b);
            done = true;
        } else {
            assert_int_equal(rc, LOY_E_NOMEM);
            assert_state_is(m, &before);
            failures++;
        }
        free(before.data);
        loy_member_free(m);
    }
    assert_true(done);
    assert_true(failures > 0);
    free(b.data);
    loy_member_free(src);
    loy_policy_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cap_days_round_trip),
        cmocka_unit_test(test_cap_three_days),
        cmocka_unit_test(test_v1_bytes_one_day),
        cmocka_unit_test(test_spend_order_entry_round_trip),
        cmocka_unit_test(test_bad_sections_refused),
        cmocka_unit_test(test_nomem_leaves_state),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
