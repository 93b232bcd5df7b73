/*
 * Hostile and extreme input: every amount and counter pushed past int64,
 * dates at the ends of the calendar, odd offsets, huge ids and orders,
 * policies built to exhaust the loader, text that is not UTF-8. Each case
 * asserts the exact code the spec gives (POLICY.md §1, §2, §11.5), a
 * message that says what went wrong, and — for a refused event — the
 * member's state bytes unchanged.
 *
 * Expected figures are worked out by hand from POLICY.md; the derivation
 * is next to each.
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

#include "support/engine_support.h"

#define MAX INT64_MAX

/* A policy whose text is apparel.yaml with one substitution (must match). */
static loy_policy *apparel_with(const char *from, const char *to)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/policies/apparel.yaml", LOY_SPEC_DIR);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    static char text[1 << 16];
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = '\0';
    char *at = strstr(text, from);
    assert_non_null(at);
    static char out[1 << 16];
    snprintf(out, sizeof out, "%.*s%s%s", (int)(at - text), text, to, at + strlen(from));
    return load_policy_text(out);
}

/* The code and message of a policy that must not load. */
static void expect_policy_error(const char *yaml, size_t len, const char *text)
{
    loy_policy *p = NULL;
    loy_diag *diag = NULL;
    assert_int_equal(loy_policy_load_buffer(&p, yaml, len, "bad.yaml", &diag), LOY_E_POLICY);
    assert_null(p);
    assert_true(loy_diag_count(diag) >= 1);
    bool found = false;
    for (size_t i = 0; i < loy_diag_count(diag); i++) {
        assert_true(loy_diag_line(diag, i) >= 1);
        if (strstr(loy_diag_message(diag, i), text))
            found = true;
    }
    if (!found)
        fail_msg("no diagnostic says \"%s\"; first: %u:%u: %s", text, loy_diag_line(diag, 0),
                 loy_diag_column(diag, 0), loy_diag_message(diag, 0));
    loy_diag_free(diag);
}

/* ---------------------------------------------------------- order amounts */

static void test_line_amounts_past_int64(void **s)
{
    (void)s;
    rig t;
    rig_open(&t, load_policy_file("apparel.yaml"), "M-1", "2026-01-01");
    /* Eligible spend MAX + 1 leaves int64. */
    ev(&t, LOY_EVENT_ORDER, "O-1", "2026-02-01T10:00:00+08:00");
    ev_line(&t, "A", "coats", MAX);
    ev_line(&t, "B", "coats", 1);
    expect_refused_same(&t, LOY_E_OVERFLOW, "int64");

    /* shipping is excluded from points only: eligible spend is 1, but the
     * qualifying spend (§3.1) is MAX + 1. */
    ev(&t, LOY_EVENT_ORDER, "O-2", "2026-02-01T10:00:00+08:00");
    ev_line(&t, "SHIP", "shipping", MAX);
    ev_line(&t, "B", "coats", 1);
    expect_refused_same(&t, LOY_E_OVERFLOW, "int64");

    /* Exactly MAX in one line is fine: floor(MAX / 100) points capped at
     * cap.per_order 20000; the qualifying spend reaches platinum. */
    ev(&t, LOY_EVENT_ORDER, "O-4", "2026-02-02T10:00:00+08:00");
    ev_line(&t, "A", "coats", MAX);
    assert_int_equal(apply(&t), LOY_OK);
    assert_string_equal(loy_member_tier(t.m), "platinum");
    assert_int_equal(loy_member_points_pending(t.m), 20000);

    /* The month now holds MAX of spend: one more minor unit overflows it. */
    ev(&t, LOY_EVENT_ORDER, "O-5", "2026-02-03T10:00:00+08:00");
    ev_line(&t, "A", "coats", 1);
    expect_refused_same(&t, LOY_E_OVERFLOW, "int64");
    rig_close(&t);

    /* gift_card lines count neither for points nor for tiers (both
     * excludes): MAX of gift cards beside 10.00 of coats is a 10.00 order.
     * The line amounts' grand total would leave int64, but no figure of
     * the spec is that total: eligible spend (§4.1) and qualifying spend
     * (§3.1) are 1000 each, so the order is accepted: 10 points, pending. */
    rig_open(&t, load_policy_file("apparel.yaml"), "M-2", "2026-01-01");
    ev(&t, LOY_EVENT_ORDER, "O-1", "2026-02-01T10:00:00+08:00");
    ev_line(&t, "GC", "gift_card", MAX);
    ev_line(&t, "B", "coats", 1000);
    assert_int_equal(apply(&t), LOY_OK);
    assert_int_equal(loy_member_points_pending(t.m), 10);
    assert_int_equal(metric_as_of(&t, "2026-02-01"), 1000);
    rig_close(&t);
}

static void test_wire_numbers_past_int64(void **s)
{
    (void)s;
    loy_policy *p = load_policy_file("apparel.yaml");
    loy_member *m = NULL;
    loy_result *r = NULL;
    assert_int_equal(loy_member_new(&m, p, "M-1", "2026-01-01"), LOY_OK);
    assert_int_equal(loy_result_new(&r, p), LOY_OK);
    static const struct {
        const char *line;
        int code;
    } cases[] = {
        /* One past INT64_MAX: outside int64 (§1). */
        {"{\"type\": \"order\", \"id\": \"O-1\", \"at\": \"2026-02-01T10:00:00+08:00\", "
         "\"lines\": [{\"amount\": 9223372036854775808}]}",
         LOY_E_OVERFLOW},
        {"{\"type\": \"order\", \"id\": \"O-1\", \"at\": \"2026-02-01T10:00:00+08:00\", "
         "\"savings\": 99999999999999999999999999, \"lines\": []}",
         LOY_E_OVERFLOW},
        {"{\"type\": \"redeem\", \"id\": \"X-1\", \"at\": \"2026-02-01T10:00:00+08:00\", "
         "\"points\": 100, \"order_amount\": 18446744073709551616}",
         LOY_E_OVERFLOW},
        {"{\"type\": \"return\", \"id\": \"R-1\", \"at\": \"2026-02-01T10:00:00+08:00\", \"amount\": 1, "
         "\"original\": {\"id\": \"O\", \"at\": \"2026-01-01T10:00:00+08:00\", \"amount\": 10, "
         "\"points\": 9223372036854775808}}",
         LOY_E_OVERFLOW},
        /* Not integers, negative: invalid (§1). */
        {"{\"type\": \"order\", \"id\": \"O-1\", \"at\": \"2026-02-01T10:00:00+08:00\", "
         "\"lines\": [{\"amount\": 1e2}]}",
         LOY_E_INVALID_EVENT},
        {"{\"type\": \"order\", \"id\": \"O-1\", \"at\": \"2026-02-01T10:00:00+08:00\", "
         "\"lines\": [{\"amount\": -1}]}",
         LOY_E_INVALID_EVENT},
        {"{\"type\": \"redeem\", \"id\": \"X-1\", \"at\": \"2026-02-01T10:00:00+08:00\", "
         "\"points\": 100.0, \"order_amount\": 100}",
         LOY_E_INVALID_EVENT},
        /* A redemption of fewer than 1 point (§11.5). */
        {"{\"type\": \"redeem\", \"id\": \"X-1\", \"at\": \"2026-02-01T10:00:00+08:00\", "
         "\"points\": 0, \"order_amount\": 100}",
         LOY_E_INVALID_EVENT},
    };
    const void *data;
    size_t len;
    assert_int_equal(loy_member_to_bytes(m, &data, &len), LOY_OK);
    uint8_t *before = malloc(len);
    memcpy(before, data, len);
    size_t before_len = len;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int rc = loy_apply_json_line(p, m, cases[i].line, strlen(cases[i].line), r);
        if (rc != cases[i].code)
            fail_msg("case %zu: got %s (%s), want %s", i, loy_error_name(rc), loy_result_message(r),
                     loy_error_name(cases[i].code));
        const char *json = loy_result_json(r, NULL);
        assert_non_null(strstr(json, loy_error_name(cases[i].code)));
        assert_int_equal(loy_member_to_bytes(m, &data, &len), LOY_OK);
        assert_int_equal(len, before_len);
        assert_memory_equal(data, before, len);
    }
    free(before);
    loy_result_free(r);
    loy_member_free(m);
    loy_policy_free(p);
}

/* ------------------------------------------------------------- savings */

static void test_savings_running_total(void **s)
{
    (void)s;
    rig t;
    /* Without a running plan, savings are ignored (§7): even MAX. */
    rig_open(&t, load_policy_file("apparel.yaml"), "M-1", "2026-01-01");
    ev(&t, LOY_EVENT_ORDER, "O-1", "2026-02-01T10:00:00+08:00");
    ev_line(&t, "A", "tees", 10000);
    assert_int_equal(loy_event_set_savings(t.e, MAX), LOY_OK);
    assert_int_equal(apply(&t), LOY_OK);
    rig_close(&t);

    rig_open(&t, load_policy_file("grocery.yaml"), "M-2", "2026-01-01");
    ev(&t, LOY_EVENT_JOIN_PAID, "P-1", "2026-01-02T10:00:00+08:00");
    assert_int_equal(loy_event_set_plan(t.e, "annual"), LOY_OK);
    assert_int_equal(apply(&t), LOY_OK);
    ev(&t, LOY_EVENT_ORDER, "O-1", "2026-01-03T10:00:00+08:00");
    ev_line(&t, "A", "fruit", 1000);
    assert_int_equal(loy_event_set_savings(t.e, MAX), LOY_OK);
    assert_int_equal(apply(&t), LOY_OK);
    /* The plan's savings total is MAX: one more unit leaves int64. */
    ev(&t, LOY_EVENT_ORDER, "O-2", "2026-01-04T10:00:00+08:00");
    ev_line(&t, "A", "fruit", 1000);
    assert_int_equal(loy_event_set_savings(t.e, 1), LOY_OK);
    expect_refused_same(&t, LOY_E_OVERFLOW, "int64");
    /* A year later the plan ends: the refund is max(0, 19900 - MAX) = 0;
     * 365 days without an order make the member dormant (90 days). */
    ev(&t, LOY_EVENT_TICK, "T-1", "2027-01-03T00:00:00+08:00");
    expect_effects(&t, "[{\"type\": \"paid_ended\", \"plan\": \"annual\", \"until\": \"2027-01-01\", \"refund\": 0},"
                       " {\"type\": \"stage_changed\", \"from\": \"trying\", \"to\": \"dormant\"}]");
    rig_close(&t);
}

/* -------------------------------------------------------------- points */

static void test_points_past_int64(void **s)
{
    (void)s;
    rig t;
    /* 1000 points per 0.01: a MAX/1000 + 1 order earns more than MAX. */
    rig_open(&t,
             load_policy_text("loyalty_policy: 1\n"
                              "tiers: {qualify_on: orders, levels: [{id: member}]}\n"
                              "points:\n"
                              "  earn: {rate: {amount: 0.01, points: 1000}}\n"),
             "M-1", "2026-01-01");
    ev(&t, LOY_EVENT_ORDER, "O-1", "2026-02-01T10:00:00+08:00");
    ev_line(&t, "A", "x", MAX / 1000 + 1);
    expect_refused_same(&t, LOY_E_OVERFLOW, "int64");

    /* Two orders of MAX/2000 + 1 minor units: each earns 1000 × that =
     * MAX/2 + 1000 - 807 ... i.e. more than MAX/2, so the second credit
     * makes the balance leave int64. */
    ev(&t, LOY_EVENT_ORDER, "O-2", "2026-02-01T10:00:00+08:00");
    ev_line(&t, "A", "x", MAX / 2000 + 1);
    assert_int_equal(apply(&t), LOY_OK);
    assert_true(loy_member_points_available(t.m) > MAX / 2);
    ev(&t, LOY_EVENT_ORDER, "O-3", "2026-02-02T10:00:00+08:00");
    ev_line(&t, "A", "x", MAX / 2000 + 1);
    expect_refused_same(&t, LOY_E_OVERFLOW, "int64");
    rig_close(&t);
}

/* Available points at MAX: any further credit (action, reward points of an
 * upgrade gift) is refused with LOY_E_OVERFLOW, not wrapped or clamped. */
static void test_points_accumulation(void **s)
{
    (void)s;
    rig t;
    rig_open(&t, load_policy_file("apparel.yaml"), "M-1", "2026-01-01");
    assert_int_equal(loy_member_import_lot(t.m, MAX, NULL), LOY_OK);
    assert_int_equal(loy_member_points_available(t.m), MAX);

    ev_action(&t, "A-1", "2026-01-02T10:00:00+08:00", "signup");
    expect_refused_same(&t, LOY_E_OVERFLOW, "int64");

    /* Reaching silver gives a 200-point upgrade gift; the order itself earns
     * pending points (which are not available yet), the gift does not fit. */
    ev(&t, LOY_EVENT_ORDER, "O-1", "2026-01-03T10:00:00+08:00");
    ev_line(&t, "A", "gift_card", 5000);      /* no points, no qualifying spend */
    ev_line(&t, "B", "tees", 100000);         /* 1000.00: silver */
    expect_refused_same(&t, LOY_E_OVERFLOW, "int64");

    /* Redeeming first makes room: 100 points leave, then the signup fits. */
    ev_redeem(&t, "X-1", "2026-01-04T10:00:00+08:00", 100, 100000);
    assert_int_equal(apply(&t), LOY_OK);
    assert_int_equal(loy_member_points_available(t.m), MAX - 100);
    ev_action(&t, "A-2", "2026-01-05T10:00:00+08:00", "signup");
    assert_int_equal(apply(&t), LOY_OK);
    assert_int_equal(loy_member_points_available(t.m), MAX);
    rig_close(&t);

    /* Imported lots that sum past int64 are refused by the import. */
    rig_open(&t, load_policy_file("apparel.yaml"), "M-2", "2026-01-01");
    assert_int_equal(loy_member_import_lot(t.m, MAX, "2027-12-31"), LOY_OK);
    size_t len0;
    void *before = rs_state_copy(t.m, &len0);
    int rc = loy_member_import_lot(t.m, 1, NULL);
    assert_true(rc == LOY_E_OVERFLOW || rc == LOY_E_INVALID_MEMBER);
    assert_non_null(strstr(loy_member_error(t.m), "int64"));
    size_t len1;
    void *after = rs_state_copy(t.m, &len1);
    assert_int_equal(len0, len1);
    assert_memory_equal(before, after, len0);
    free(before);
    free(after);
    /* A lot of 0 points holds nothing: accepted and not kept (no lot of 0
     * points ever exists); a negative lot is refused. */
    assert_int_equal(loy_member_lot_count(t.m), 1);
    assert_int_equal(loy_member_import_lot(t.m, 0, NULL), LOY_OK);
    assert_int_equal(loy_member_lot_count(t.m), 1);
    assert_int_equal(loy_member_import_lot(t.m, -5, NULL), LOY_E_INVALID_MEMBER);
    assert_non_null(strstr(loy_member_error(t.m), "negative"));
    rig_close(&t);
}

/* ------------------------------------------------------------- redeem */

static void test_redeem_extremes(void **s)
{
    (void)s;
    rig t;
    rig_open(&t, load_policy_file("apparel.yaml"), "M-1", "2026-01-01");
    assert_int_equal(loy_member_import_lot(t.m, MAX, NULL), LOY_OK);
    /* P = 9223372036854775800 (a multiple of 100), A = MAX: value(P) =
     * floor(P × 100 / 100) = P; 0.3 × MAX = 2767011611056432742.1 < P. */
    ev_redeem(&t, "X-1", "2026-02-01T10:00:00+08:00", 9223372036854775800, MAX);
    expect_refused_same(&t, LOY_E_OVER_ORDER_SHARE, NULL);
    /* P = 2767011611056432700 (multiple of 100) ≤ 0.3 × MAX exactly. */
    ev_redeem(&t, "X-2", "2026-02-01T10:00:00+08:00", 2767011611056432700, MAX);
    expect_effects(&t, "[{\"type\": \"points\", \"delta\": -2767011611056432700, \"source\": \"redeem\", "
                       "\"value\": 2767011611056432700}]");
    assert_int_equal(loy_member_points_available(t.m), MAX - 2767011611056432700);
    /* More than available. */
    ev_redeem(&t, "X-3", "2026-02-01T10:00:00+08:00", MAX, MAX);
    expect_refused_same(&t, LOY_E_INSUFFICIENT_POINTS, NULL);
    rig_close(&t);

    /* 1 point buys 1.00: the value of MAX points leaves int64. */
    rig_open(&t, apparel_with("redeem: {rate: {points: 100, amount: 1}, min_points: 100, step: 100, max_order_share: 0.3}",
                              "redeem: {rate: {points: 1, amount: 1}}"),
             "M-2", "2026-01-01");
    assert_int_equal(loy_member_import_lot(t.m, MAX, NULL), LOY_OK);
    ev_redeem(&t, "X-1", "2026-02-01T10:00:00+08:00", MAX, MAX);
    expect_refused_same(&t, LOY_E_OVERFLOW, "int64");
    /* MAX/100 points are worth MAX/100 × 100 ≤ MAX: accepted. */
    ev_redeem(&t, "X-2", "2026-02-01T10:00:00+08:00", MAX / 100, MAX);
    assert_int_equal(apply(&t), LOY_OK);
    rig_close(&t);
}

/* ------------------------------------------------------------- returns */

static void test_return_extremes(void **s)
{
    (void)s;
    rig t;
    rig_open(&t, load_policy_file("apparel.yaml"), "M-1", "2026-01-01");
    ev(&t, LOY_EVENT_ORDER, "O-1", "2026-02-01T10:00:00+08:00");
    ev_line(&t, "A", "tees", 100000);
    assert_int_equal(apply(&t), LOY_OK);        /* 1000 points pending, silver */
    /* floor(MAX × MAX / MAX) = MAX clawed back, computed exactly: the 1000
     * pending points of O-1 and the 200 of the upgrade gift are taken, the
     * rest is the shortfall. */
    ev_return(&t, "R-1", "2026-02-02T10:00:00+08:00", MAX, "O-1", "2026-02-01T10:00:00+08:00", MAX, MAX);
    expect_effects(&t, "[{\"type\": \"points\", \"delta\": -1200, \"source\": \"return\", \"order\": \"O-1\", "
                       "\"shortfall\": 9223372036854774607}]");
    assert_int_equal(loy_member_points_available(t.m), 0);
    assert_int_equal(loy_member_points_pending(t.m), 0);
    /* Refunded above the original: invalid (§4.2). */
    ev_return(&t, "R-2", "2026-02-02T10:00:00+08:00", MAX, "O-1", "2026-02-01T10:00:00+08:00", MAX - 1, 5);
    expect_refused_same(&t, LOY_E_INVALID_EVENT, NULL);
    /* Original later than the return: invalid. */
    ev_return(&t, "R-3", "2026-02-02T10:00:00+08:00", 1, "O-9", "2026-02-03T10:00:00+08:00", 10, 5);
    expect_refused_same(&t, LOY_E_INVALID_EVENT, NULL);
    /* Refunded lines summing past int64. */
    ev_return(&t, "R-4", "2026-02-02T10:00:00+08:00", 10, "O-1", "2026-02-01T10:00:00+08:00", 100000, 1000);
    assert_int_equal(loy_event_add_line(t.e, "A", "tees", MAX, 1), LOY_OK);
    assert_int_equal(loy_event_add_line(t.e, "B", "tees", MAX, 1), LOY_OK);
    expect_refused_same(&t, LOY_E_OVERFLOW, "int64");
    rig_close(&t);
}

/* ------------------------------------------------------ imported history */

static void test_imported_months_and_orders(void **s)
{
    (void)s;
    rig t;
    rig_open(&t, load_policy_file("apparel.yaml"), "M-1", "2026-01-01");
    assert_int_equal(loy_member_import_month(t.m, LOY_METRIC_SPEND, "2026-01", MAX), LOY_OK);
    /* The member is platinum-worthy; an order in the same month overflows
     * the month's spend. */
    ev(&t, LOY_EVENT_ORDER, "O-1", "2026-01-20T10:00:00+08:00");
    ev_line(&t, "A", "tees", 1);
    expect_refused_same(&t, LOY_E_OVERFLOW, "int64");
    rig_close(&t);

    /* Two imported months of MAX/2 + 1: the member's spend (lifetime and
     * any window over both months) would leave int64, so the second
     * import is refused as a running total leaving int64 (§11.5) — no
     * window sum can overflow later. */
    rig_open(&t, load_policy_file("apparel.yaml"), "M-2", "2026-01-01");
    assert_int_equal(loy_member_import_month(t.m, LOY_METRIC_SPEND, "2025-11", MAX / 2 + 1), LOY_OK);
    {
        size_t l0, l1;
        void *b0 = rs_state_copy(t.m, &l0);
        assert_int_equal(loy_member_import_month(t.m, LOY_METRIC_SPEND, "2025-12", MAX / 2 + 1), LOY_E_OVERFLOW);
        assert_non_null(strstr(loy_member_error(t.m), "int64"));
        void *b1 = rs_state_copy(t.m, &l1);
        assert_int_equal(l0, l1);
        assert_memory_equal(b0, b1, l0);
        free(b0);
        free(b1);
    }
    ev(&t, LOY_EVENT_TICK, "T-1", "2026-01-02T10:00:00+08:00");
    assert_int_equal(apply(&t), LOY_OK);
    assert_string_equal(loy_member_tier(t.m), "platinum");
    rig_close(&t);

    /* Lifetime orders at MAX: one more order leaves int64. */
    rig_open(&t, load_policy_file("apparel.yaml"), "M-3", "2026-01-01");
    assert_int_equal(loy_member_import_orders(t.m, MAX), LOY_OK);
    ev(&t, LOY_EVENT_ORDER, "O-1", "2026-01-20T10:00:00+08:00");
    ev_line(&t, "A", "tees", 100);
    expect_refused_same(&t, LOY_E_OVERFLOW, "int64");
    /* An action still works: it counts no order. */
    ev_action(&t, "A-1", "2026-01-21T10:00:00+08:00", "signup");
    assert_int_equal(apply(&t), LOY_OK);
    rig_close(&t);

    /* Negative imports are refused. */
    rig_open(&t, load_policy_file("apparel.yaml"), "M-4", "2026-01-01");
    assert_int_equal(loy_member_import_month(t.m, LOY_METRIC_SPEND, "2025-11", -1), LOY_E_INVALID_MEMBER);
    assert_int_equal(loy_member_import_orders(t.m, -1), LOY_E_INVALID_MEMBER);
    assert_int_equal(loy_member_import_month(t.m, LOY_METRIC_SPEND, "2025-13", 1), LOY_E_INVALID_MEMBER);
    rig_close(&t);
}

/* --------------------------------------------------------------- dates */

static void test_dates_at_the_ends(void **s)
{
    (void)s;
    rig t;
    rig_open(&t, load_policy_file("apparel.yaml"), "M-1", "2026-01-01");
    /* 9999-12-31 + expiry after 12 months passes 9999-12-31 (§1). */
    ev(&t, LOY_EVENT_ORDER, "O-1", "9999-12-31T10:00:00+08:00");
    ev_line(&t, "A", "tees", 100000);
    expect_refused_same(&t, LOY_E_OVERFLOW, "9999-12-31");
    /* An action on 9999-12-31 expires after 9999-12-31 as well. */
    ev_action(&t, "A-1", "9999-12-31T10:00:00+08:00", "signup");
    expect_refused_same(&t, LOY_E_OVERFLOW, "9999-12-31");
    /* A tick on the last day has nothing to date past it: accepted, even
     * with an offset that puts its UTC instant in year 10000. */
    ev(&t, LOY_EVENT_TICK, "T-1", "9999-12-31T23:59:59-12:00");
    assert_int_equal(apply(&t), LOY_OK);
    /* One day later is no date at all. */
    ev(&t, LOY_EVENT_TICK, "T-2", "10000-01-01T00:00:00+08:00");
    expect_refused_same(&t, LOY_E_INVALID_EVENT, NULL);
    rig_close(&t);

    /* A paid plan joined in 9999-06 would end in 10000. */
    rig_open(&t, load_policy_file("grocery.yaml"), "M-2", "2026-01-01");
    ev(&t, LOY_EVENT_JOIN_PAID, "P-1", "9999-06-01T10:00:00+08:00");
    assert_int_equal(loy_event_set_plan(t.e, "annual"), LOY_OK);
    expect_refused_same(&t, LOY_E_OVERFLOW, "9999-12-31");
    rig_close(&t);

    /* Year 0000 is a year (proleptic Gregorian, a leap year). */
    rig_open(&t, load_policy_file("minimal.yaml"), "M-3", "0000-01-01");
    assert_int_equal(loy_member_set_birthday(t.m, "0000-02-29"), LOY_OK);
    ev(&t, LOY_EVENT_ORDER, "O-1", "0000-02-29T10:00:00+08:00");
    ev_line(&t, "A", "x", 1000);
    expect_effects(&t, "[{\"type\": \"points\", \"delta\": 10, \"source\": \"order\", \"rules\": []}]");
    char since[11];
    assert_int_equal(loy_member_tier_since(t.m, since), LOY_OK);
    assert_string_equal(since, "0000-01-01");
    /* An offset that puts 0000-01-01's UTC instant in year -1 still orders. */
    ev(&t, LOY_EVENT_TICK, "T-1", "0000-03-01T00:00:00+14:00");
    assert_int_equal(apply(&t), LOY_OK);
    rig_close(&t);

    loy_policy *p = load_policy_file("minimal.yaml");
    loy_member *m = NULL;
    assert_int_equal(loy_member_create(&m, p), LOY_OK);
    assert_int_equal(loy_member_init(m, "M-4", "2026-02-29"), LOY_E_INVALID_MEMBER);
    assert_int_equal(loy_member_init(m, "M-4", "-001-01-01"), LOY_E_INVALID_MEMBER);
    assert_int_equal(loy_member_init(m, "M-4", "2026-1-01"), LOY_E_INVALID_MEMBER);
    assert_int_equal(loy_member_init(m, "M-4", "2026-01-01"), LOY_OK);
    assert_int_equal(loy_member_set_birthday(m, "1990-02-30"), LOY_E_INVALID_MEMBER);
    assert_non_null(strstr(loy_member_error(m), "1990-02-30"));
    loy_member_free(m);
    loy_policy_free(p);
}

static void test_instant_offsets(void **s)
{
    (void)s;
    rig t;
    rig_open(&t, load_policy_file("minimal.yaml"), "M-1", "2026-01-01");
    /* +14:00 and -12:00 are real offsets; 10:00+14:00 (20:00Z the day
     * before) precedes 10:00-12:00 (22:00Z). */
    ev(&t, LOY_EVENT_TICK, "T-1", "2026-03-01T10:00:00+14:00");
    assert_int_equal(apply(&t), LOY_OK);
    ev(&t, LOY_EVENT_TICK, "T-2", "2026-03-01T10:00:00-12:00");
    assert_int_equal(apply(&t), LOY_OK);
    /* +23:59 parses (±HH:MM); 2026-03-02T10:00+23:59 is 10:01Z on 03-01,
     * earlier than T-2's 22:00Z: out of order, not malformed. */
    ev(&t, LOY_EVENT_TICK, "T-3", "2026-03-02T10:00:00+23:59");
    expect_refused_same(&t, LOY_E_OUT_OF_ORDER, NULL);
    /* Hours run 00-23, minutes 00-59: +24:00 and +05:60 are malformed. */
    ev(&t, LOY_EVENT_TICK, "T-4", "2026-03-05T10:00:00+24:00");
    expect_refused_same(&t, LOY_E_INVALID_EVENT, "instant");
    ev(&t, LOY_EVENT_TICK, "T-5", "2026-03-05T10:00:00+05:60");
    expect_refused_same(&t, LOY_E_INVALID_EVENT, "instant");
    /* No offset, a leap second, a bad hour: malformed. */
    ev(&t, LOY_EVENT_TICK, "T-6", "2026-03-05T10:00:00");
    expect_refused_same(&t, LOY_E_INVALID_EVENT, "instant");
    ev(&t, LOY_EVENT_TICK, "T-7", "2026-03-05T23:59:60Z");
    expect_refused_same(&t, LOY_E_INVALID_EVENT, "instant");
    ev(&t, LOY_EVENT_TICK, "T-8", "2026-03-05T24:00:00Z");
    expect_refused_same(&t, LOY_E_INVALID_EVENT, "instant");
    ev(&t, LOY_EVENT_TICK, "T-9", "2026-03-05T10:00:00.Z");
    expect_refused_same(&t, LOY_E_INVALID_EVENT, "instant");

    /* A 12-digit fraction: digits past the sixth are ignored (§1), so
     * .123456999999 and .123456000001 are the same microsecond — a tie,
     * kept in arrival order — and .123455999999 is one earlier. */
    ev(&t, LOY_EVENT_TICK, "F-1", "2026-03-05T10:00:00.123456999999z");
    assert_int_equal(apply(&t), LOY_OK);
    ev(&t, LOY_EVENT_TICK, "F-2", "2026-03-05T10:00:00.123456000001Z");
    assert_int_equal(apply(&t), LOY_OK);
    ev(&t, LOY_EVENT_TICK, "F-3", "2026-03-05t10:00:00.123455999999+00:00");
    expect_refused_same(&t, LOY_E_OUT_OF_ORDER, NULL);
    /* A fraction of a hundred digits still parses. */
    char at[160];
    snprintf(at, sizeof at, "2026-03-05T10:00:01.%0100dZ", 0);
    ev(&t, LOY_EVENT_TICK, "F-4", at);
    assert_int_equal(apply(&t), LOY_OK);
    rig_close(&t);
}

/* ---------------------------------------------------------------- sizes */

static char *big_string(size_t n, char fill)
{
    char *s = malloc(n + 1);
    assert_non_null(s);
    memset(s, fill, n);
    s[n] = '\0';
    return s;
}

static void test_megabyte_ids(void **s)
{
    (void)s;
    const size_t MB = 1u << 20;
    char *id = big_string(MB, 'i');
    char *kind = big_string(MB, 'k');
    char *tag = big_string(MB, 't');
    rig t;
    rig_open(&t, load_policy_file("apparel.yaml"), "M-1", "2026-01-01");
    loy_member_free(t.m);
    t.m = NULL;
    /* A 1 MB member id and tag: accepted, stored, round-tripped. */
    assert_int_equal(loy_member_new(&t.m, t.p, id, "2026-01-01"), LOY_OK);
    assert_int_equal(loy_member_add_tag(t.m, tag), LOY_OK);
    assert_int_equal(strlen(loy_member_id(t.m)), MB);

    /* A 1 MB event id, channel and line sku: accepted; the same id again
     * is a duplicate (§10). */
    ev(&t, LOY_EVENT_ORDER, id, "2026-01-02T10:00:00+08:00");
    assert_int_equal(loy_event_set_channel(t.e, kind), LOY_OK);
    ev_line(&t, tag, "tees", 10000);
    assert_int_equal(apply(&t), LOY_OK);
    ev_action(&t, id, "2026-01-03T10:00:00+08:00", "signup");
    expect_refused_same(&t, LOY_E_DUPLICATE, NULL);
    /* A 1 MB action kind the policy does not list: accepted, earns nothing. */
    ev_action(&t, "A-2", "2026-01-03T10:00:00+08:00", kind);
    expect_effects(&t, "[]");

    size_t len;
    void *bytes = rs_state_copy(t.m, &len);
    assert_true(len > 2 * MB);
    loy_member *copy = NULL;
    assert_int_equal(loy_member_create(&copy, t.p), LOY_OK);
    assert_int_equal(loy_member_load(copy, bytes, len), LOY_OK);
    assert_string_equal(loy_member_id(copy), id);
    loy_member_free(copy);
    free(bytes);
    rig_close(&t);

    /* The same through the wire: a 1 MB id in a JSON line. */
    loy_policy *p = load_policy_file("apparel.yaml");
    loy_member *m = NULL;
    loy_result *r = NULL;
    assert_int_equal(loy_member_new(&m, p, "M-2", "2026-01-01"), LOY_OK);
    assert_int_equal(loy_result_new(&r, p), LOY_OK);
    size_t cap = MB + 256;
    char *line = malloc(cap);
    assert_non_null(line);
    int n = snprintf(line, cap, "{\"type\": \"action\", \"id\": \"%s\", \"at\": \"2026-01-02T10:00:00+08:00\", "
                                "\"kind\": \"signup\"}", id);
    assert_int_equal(loy_apply_json_line(p, m, line, (size_t)n, r), LOY_OK);
    size_t jlen;
    const char *json = loy_result_json(r, &jlen);
    assert_true(jlen > MB);
    assert_non_null(strstr(json, "\"delta\": 100"));
    assert_int_equal(loy_apply_json_line(p, m, line, (size_t)n, r), LOY_E_DUPLICATE);
    free(line);
    loy_result_free(r);
    loy_member_free(m);
    loy_policy_free(p);
    free(id);
    free(kind);
    free(tag);
}

static void test_ten_thousand_lines(void **s)
{
    (void)s;
    rig t;
    rig_open(&t, load_policy_file("minimal.yaml"), "M-1", "2026-01-01");
    ev(&t, LOY_EVENT_ORDER, "O-1", "2026-01-02T10:00:00+08:00");
    char sku[16];
    for (int i = 0; i < 10000; i++) {
        snprintf(sku, sizeof sku, "S-%d", i);
        ev_line(&t, sku, "x", 199);           /* 1.99 each */
    }
    /* 10,000 × 1.99 = 19,900.00: floor → 19900 points; spend ≥ 500 → vip. */
    expect_effects(&t, "[{\"type\": \"points\", \"delta\": 19900, \"source\": \"order\", \"rules\": []},"
                       " {\"type\": \"tier_changed\", \"from\": \"member\", \"to\": \"vip\", \"reason\": \"upgrade\"}]");
    rig_close(&t);

    /* The same order as one JSON line of 10,000 lines under apparel. */
    loy_policy *p = load_policy_file("apparel.yaml");
    loy_member *m = NULL;
    loy_result *r = NULL;
    assert_int_equal(loy_member_new(&m, p, "M-2", "2026-01-01"), LOY_OK);
    assert_int_equal(loy_result_new(&r, p), LOY_OK);
    sbuf_t b = {0};
    sb_puts(&b, "{\"type\": \"order\", \"id\": \"O-1\", \"at\": \"2026-01-02T10:00:00+08:00\", \"lines\": [");
    for (int i = 0; i < 10000; i++)
        sb_puts(&b, i ? ", {\"sku\": \"S\", \"category\": \"tees\", \"amount\": 1}"
                      : "{\"sku\": \"S\", \"category\": \"tees\", \"amount\": 1}");
    sb_puts(&b, "]}");
    assert_int_equal(loy_apply_json_line(p, m, b.s, b.len, r), LOY_OK);
    /* 10,000 × 0.01 = 100.00 → 100 points, pending 7 days. */
    assert_int_equal(loy_member_points_pending(m), 100);
    free(b.s);
    loy_result_free(r);
    loy_member_free(m);
    loy_policy_free(p);
}

/* ------------------------------------------------------------ policies */

static void test_policy_deep_nesting(void **s)
{
    (void)s;
    /* A `when` 70 levels deep in `not`s: past the 64-level bound
     * (docs/policy-limits.md). */
    sbuf_t b = {0};
    sb_puts(&b, "loyalty_policy: 1\n"
                "tiers: {qualify_on: spend, levels: [{id: member}]}\n"
                "benefits:\n"
                "  - id: deep\n"
                "    kind: gift\n"
                "    when: ");
    for (int i = 0; i < 70; i++)
        sb_puts(&b, "{not: ");
    sb_puts(&b, "{tier: member}");
    for (int i = 0; i < 70; i++)
        sb_puts(&b, "}");
    sb_puts(&b, "\n");
    expect_policy_error(b.s, b.len, "deeper than 64 levels");
    free(b.s);

    /* 100,000 nested flow lists: refused by the bound, no stack overflow. */
    b = (sbuf_t){0};
    sb_puts(&b, "loyalty_policy: 1\nx: ");
    for (int i = 0; i < 100000; i++)
        sb_puts(&b, "[");
    for (int i = 0; i < 100000; i++)
        sb_puts(&b, "]");
    sb_puts(&b, "\n");
    expect_policy_error(b.s, b.len, "deeper than 64 levels");
    free(b.s);

    /* 30 levels of `all`/`not` are fine and evaluate. */
    b = (sbuf_t){0};
    sb_puts(&b, "loyalty_policy: 1\n"
                "tiers: {qualify_on: spend, levels: [{id: member}]}\n"
                "benefits:\n"
                "  - id: deep\n"
                "    kind: gift\n"
                "    when: ");
    for (int i = 0; i < 14; i++)
        sb_puts(&b, "{not: ");
    sb_puts(&b, "{tier: member}");
    for (int i = 0; i < 14; i++)
        sb_puts(&b, "}");
    sb_puts(&b, "\n");
    rig t;
    rig_open(&t, load_policy_text(b.s), "M-1", "2026-01-01");
    /* 14 negations of a true predicate: true. */
    assert_int_equal(query(&t, "2026-01-02T10:00:00Z", NULL, NULL), LOY_OK);
    assert_true(loy_node_bool(loy_node_get(benefit_entry(&t, "deep"), "open")));
    rig_close(&t);
    free(b.s);
}

static void test_policy_aliases(void **s)
{
    (void)s;
    /* Anchors and aliases are allowed (§2): one reward written once. */
    rig t;
    rig_open(&t,
             load_policy_text("loyalty_policy: 1\n"
                              "tiers:\n"
                              "  qualify_on: spend\n"
                              "  levels: [{id: member}, {id: silver, at: 10}, {id: gold, at: 20}]\n"
                              "gifts:\n"
                              "  upgrade:\n"
                              "    by_tier: {silver: &r {points: 7}, gold: *r}\n"),
             "M-1", "2026-01-01");
    ev(&t, LOY_EVENT_ORDER, "O-1", "2026-01-02T10:00:00+08:00");
    ev_line(&t, "A", "x", 2000);
    expect_effects(&t, "[{\"type\": \"tier_changed\", \"from\": \"member\", \"to\": \"gold\", \"reason\": \"upgrade\"},"
                       " {\"type\": \"gift\", \"gift\": \"upgrade\", \"tier\": \"silver\", \"reward\": {\"points\": 7}},"
                       " {\"type\": \"points\", \"delta\": 7, \"source\": \"upgrade\"},"
                       " {\"type\": \"gift\", \"gift\": \"upgrade\", \"tier\": \"gold\", \"reward\": {\"points\": 7}},"
                       " {\"type\": \"points\", \"delta\": 7, \"source\": \"upgrade\"}]");
    rig_close(&t);

    /* Billion laughs: ten lists of ten aliases to the list before, nine
     * deep, is 10^9 nodes once expanded — refused by the node bound. */
    sbuf_t b = {0};
    sb_puts(&b, "loyalty_policy: 1\n"
                "a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    char line[256];
    for (int i = 1; i <= 9; i++) {
        snprintf(line, sizeof line,
                 "a%d: &a%d [*a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d]\n", i, i, i - 1, i - 1,
                 i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1);
        sb_puts(&b, line);
    }
    sb_puts(&b, "tiers: {qualify_on: spend, levels: [{id: member}]}\n");
    expect_policy_error(b.s, b.len, "1000000 nodes");
    free(b.s);

    /* An alias to an anchor not yet defined, a merge key. */
    static const char undefined[] = "loyalty_policy: 1\ntiers: *nope\n";
    expect_policy_error(undefined, sizeof undefined - 1, "nope");
    static const char merge[] = "loyalty_policy: 1\n"
                                "base: &b {qualify_on: spend}\n"
                                "tiers: {<<: *b, levels: [{id: member}]}\n";
    expect_policy_error(merge, sizeof merge - 1, "merge keys");
}

static void test_policy_size_bound(void **s)
{
    (void)s;
    /* One byte past 4 MiB is refused before parsing. */
    size_t n = ((size_t)4 << 20) + 1;
    char *big = malloc(n);
    assert_non_null(big);
    memset(big, '#', n);
    memcpy(big, "loyalty_policy: 1\n", 18);
    big[18] = '#';
    expect_policy_error(big, n, "4194304");
    free(big);
}

/* ------------------------------------------------------------- UTF-8 */

static void test_invalid_utf8(void **s)
{
    (void)s;
    /* In a policy: libyaml's reader refuses it, positioned. */
    static const char bad_program[] = "loyalty_policy: 1\nprogram: \"Acme \xff\xfe\"\n"
                                      "tiers: {qualify_on: spend, levels: [{id: member}]}\n";
    loy_policy *p = NULL;
    loy_diag *diag = NULL;
    assert_int_equal(loy_policy_load_buffer(&p, bad_program, sizeof bad_program - 1, "bad.yaml", &diag), LOY_E_POLICY);
    assert_int_equal(loy_diag_count(diag), 1);
    assert_int_equal(loy_diag_line(diag, 0), 2);
    /* libyaml's words: "invalid Unicode character" (or "...UTF-8..."). */
    assert_non_null(strstr(loy_diag_message(diag, 0), "invalid"));
    loy_diag_free(diag);
    /* An overlong encoding of '/' (C0 AF) and a surrogate (ED A0 80). */
    static const char overlong[] = "loyalty_policy: 1\nprogram: \"\xc0\xaf\"\n"
                                   "tiers: {qualify_on: spend, levels: [{id: member}]}\n";
    expect_policy_error(overlong, sizeof overlong - 1, "invalid");
    static const char surrogate[] = "loyalty_policy: 1\nprogram: \"\xed\xa0\x80\"\n"
                                    "tiers: {qualify_on: spend, levels: [{id: member}]}\n";
    expect_policy_error(surrogate, sizeof surrogate - 1, "invalid");

    /* In a JSON line: malformed JSON (strings must be UTF-8), state untouched. */
    p = load_policy_file("apparel.yaml");
    loy_member *m = NULL;
    loy_result *r = NULL;
    assert_int_equal(loy_member_new(&m, p, "M-1", "2026-01-01"), LOY_OK);
    assert_int_equal(loy_result_new(&r, p), LOY_OK);
    size_t len0;
    void *before = rs_state_copy(m, &len0);
    static const char line[] = "{\"type\": \"action\", \"id\": \"A-\xff\", \"at\": \"2026-01-02T10:00:00+08:00\", "
                               "\"kind\": \"signup\"}";
    assert_int_equal(loy_apply_json_line(p, m, line, sizeof line - 1, r), LOY_E_JSON);
    assert_non_null(strstr(loy_result_message(r), "UTF-8"));
    static const char lone[] = "{\"type\": \"action\", \"id\": \"A-\\ud800\", \"at\": \"2026-01-02T10:00:00+08:00\", "
                               "\"kind\": \"signup\"}";
    assert_int_equal(loy_apply_json_line(p, m, lone, sizeof lone - 1, r), LOY_E_JSON);
    static const char member_line[] = "{\"member\": {\"id\": \"M-\xe4\xb8\", \"joined\": \"2026-01-01\"}}";
    assert_int_equal(loy_member_init_json(m, member_line, sizeof member_line - 1, r), LOY_E_JSON);
    /* The answer is still valid UTF-8 JSON. */
    size_t jlen;
    const char *json = loy_result_json(r, &jlen);
    assert_non_null(json);
    size_t len1;
    void *after = rs_state_copy(m, &len1);
    assert_int_equal(len0, len1);
    assert_memory_equal(before, after, len0);
    free(after);

    /* Through the setters: an id that is not UTF-8 is refused by apply (an
     * id must be text: it is echoed in JSON and hashed as UTF-8 bytes). */
    loy_event *e = NULL;
    assert_int_equal(loy_event_new(&e, p), LOY_OK);
    assert_int_equal(loy_event_reset(e, LOY_EVENT_ACTION, "A-\xff", "2026-01-02T10:00:00+08:00"), LOY_OK);
    assert_int_equal(loy_event_set_kind(e, "signup"), LOY_OK);
    assert_int_equal(loy_apply(p, m, e, r), LOY_E_INVALID_EVENT);
    /* The engine's words: "action: 'id' must be a non-empty string" (a
     * string being valid UTF-8 text, as everywhere in the API). */
    assert_non_null(strstr(loy_result_message(r), "'id'"));
    assert_non_null(strstr(loy_result_message(r), "string"));
    json = loy_result_json(r, &jlen);
    assert_non_null(json);
    after = rs_state_copy(m, &len1);
    assert_int_equal(len0, len1);
    assert_memory_equal(before, after, len0);
    free(after);
    free(before);
    /* A member id or tag that is not UTF-8 is refused at the door. */
    loy_member *m2 = NULL;
    assert_int_equal(loy_member_create(&m2, p), LOY_OK);
    assert_int_equal(loy_member_init(m2, "M-\xc3", "2026-01-01"), LOY_E_INVALID_MEMBER);
    assert_int_equal(loy_member_init(m2, "M-2", "2026-01-01"), LOY_OK);
    assert_int_equal(loy_member_add_tag(m2, "\x80vip"), LOY_E_INVALID_MEMBER);
    loy_member_free(m2);
    loy_event_free(e);
    loy_result_free(r);
    loy_member_free(m);
    loy_policy_free(p);
}

/* A member line refused half-way through its import (the shape is fine,
 * a value is not) leaves the handle as it was: the import runs on a
 * scratch handle (lib/wire/member_json.c). */
static void test_refused_member_line_changes_nothing(void **s)
{
    (void)s;
    loy_policy *p = load_policy_file("apparel.yaml");
    loy_member *m = NULL;
    loy_result *r = NULL;
    assert_int_equal(loy_member_new(&m, p, "M-KEEP", "2025-01-01"), LOY_OK);
    assert_int_equal(loy_member_add_tag(m, "employee"), LOY_OK);
    assert_int_equal(loy_result_new(&r, p), LOY_OK);
    size_t len0;
    void *before = rs_state_copy(m, &len0);
    static const struct {
        const char *line;
        int code;
    } cases[] = {
        {"{\"member\": {\"id\": \"M-NEW\", \"joined\": \"2026-01-01\", \"tags\": [\"a\"], \"tier\": \"diamond\"}}",
         LOY_E_UNKNOWN_TIER},
        {"{\"member\": {\"id\": \"M-NEW\", \"joined\": \"2026-01-01\", \"points\": [{\"points\": 5}], "
         "\"paid\": {\"plan\": \"annual\", \"until\": \"2027-01-01\"}}}",
         LOY_E_UNKNOWN_PLAN},
        {"{\"member\": {\"id\": \"M-NEW\", \"joined\": \"2026-01-01\", "
         "\"points\": [{\"points\": 9223372036854775807}, {\"points\": 1}]}}",
         LOY_E_OVERFLOW},
        {"{\"member\": {\"id\": \"M-NEW\", \"joined\": \"2026-02-30\"}}", LOY_E_INVALID_MEMBER},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int rc = loy_member_init_json(m, cases[i].line, strlen(cases[i].line), r);
        if (rc != cases[i].code)
            fail_msg("case %zu: got %s (%s)", i, loy_error_name(rc), loy_result_message(r));
        assert_non_null(strstr(loy_result_json(r, NULL), "\"event\": null"));
        size_t len1;
        void *after = rs_state_copy(m, &len1);
        assert_int_equal(len0, len1);
        assert_memory_equal(before, after, len0);
        free(after);
        assert_string_equal(loy_member_id(m), "M-KEEP");
    }
    free(before);
    loy_result_free(r);
    loy_member_free(m);
    loy_policy_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_line_amounts_past_int64),
        cmocka_unit_test(test_wire_numbers_past_int64),
        cmocka_unit_test(test_savings_running_total),
        cmocka_unit_test(test_points_past_int64),
        cmocka_unit_test(test_points_accumulation),
        cmocka_unit_test(test_redeem_extremes),
        cmocka_unit_test(test_return_extremes),
        cmocka_unit_test(test_imported_months_and_orders),
        cmocka_unit_test(test_dates_at_the_ends),
        cmocka_unit_test(test_instant_offsets),
        cmocka_unit_test(test_megabyte_ids),
        cmocka_unit_test(test_ten_thousand_lines),
        cmocka_unit_test(test_policy_deep_nesting),
        cmocka_unit_test(test_policy_aliases),
        cmocka_unit_test(test_policy_size_bound),
        cmocka_unit_test(test_invalid_utf8),
        cmocka_unit_test(test_refused_member_line_changes_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
