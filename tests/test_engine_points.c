/*
 * Points (POLICY.md §4): earning with rounding, scopes, multipliers and
 * their stacking, min_order and caps; pending points and their release;
 * expiry; returns with shortfall and debt; actions and their limits;
 * redemption and every refusal in its order. Every expected figure is
 * worked out by hand in the comment beside it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "support/engine_support.h"

#define HEAD                                      \
    "loyalty_policy: 1\n"                         \
    "currency: {code: CNY, minor_units: 2}\n"     \
    "tiers:\n"                                    \
    "  qualify_on: spend\n"                       \
    "  levels:\n"                                 \
    "    - {id: member}\n"

/* The delta of the order's `points` effect; 0 when the result has none. */
static int64_t order_delta(rig *t)
{
    int64_t delta = 0;
    int seen = 0;
    for (const loy_node *e = loy_node_first(root_get(t, "effects")); e; e = loy_node_next(e)) {
        const char *type = loy_node_str(loy_node_get(e, "type"), NULL);
        const char *source = loy_node_str(loy_node_get(e, "source"), NULL);
        if (type && strcmp(type, "points") == 0 && source && strcmp(source, "order") == 0) {
            delta = loy_node_int(loy_node_get(e, "delta"));
            seen++;
        }
    }
    assert_true(seen <= 1);
    if (seen)
        assert_true(delta > 0);
    return delta;
}

static int64_t apply_order(rig *t, const char *id, const char *at, int64_t a1, int64_t a2)
{
    ev(t, LOY_EVENT_ORDER, id, at);
    ev_line(t, "A", "x", a1);
    if (a2 >= 0)
        ev_line(t, "B", "y", a2);
    int rc = apply(t);
    if (rc != LOY_OK)
        fprintf(stderr, "%s refused: %s\n", id, loy_result_message(t->r));
    assert_int_equal(rc, LOY_OK);
    return order_delta(t);
}

/* ------------------------------------------------------------- rounding */

static void check_rounding(const char *rounding, const char *scope, const int64_t want[5])
{
    /* 1 point per 3.00: 4.50 is 1.5 points, 4.49 is 1.4967, 3.00 is 1, 1.00 is 1/3. */
    loy_policy *p = load_fmt(HEAD "points:\n  earn:\n    rate: {amount: 3, points: 1}\n"
                                  "    rounding: %s\n    rounding_scope: %s\n",
                             rounding, scope);
    rig t;
    rig_open(&t, p, "M-R", "2026-01-01");
    assert_int_equal(apply_order(&t, "O-1", "2026-01-02T10:00:00+08:00", 450, -1), want[0]);
    assert_int_equal(apply_order(&t, "O-2", "2026-01-02T10:01:00+08:00", 449, -1), want[1]);
    assert_int_equal(apply_order(&t, "O-3", "2026-01-02T10:02:00+08:00", 450, 450), want[2]);
    assert_int_equal(apply_order(&t, "O-4", "2026-01-02T10:03:00+08:00", 300, -1), want[3]);
    assert_int_equal(apply_order(&t, "O-5", "2026-01-02T10:04:00+08:00", 100, 100), want[4]);
    rig_close(&t);
}

static void test_rounding_floor(void **state)
{
    (void)state;
    /* 1.5 -> 1; 1.4967 -> 1; 4.50+4.50 = 3 exactly; 1; 2/3 -> 0 (no effect) */
    const int64_t order[5] = {1, 1, 3, 1, 0};
    check_rounding("floor", "order", order);
    /* per line: 1+1; 1/3 -> 0 each */
    const int64_t line[5] = {1, 1, 2, 1, 0};
    check_rounding("floor", "line", line);
}

static void test_rounding_nearest_half_up(void **state)
{
    (void)state;
    /* 1.5 is half-way: up to 2; 1.4967 -> 1; order 3; 1; 2/3 -> 1 */
    const int64_t order[5] = {2, 1, 3, 1, 1};
    check_rounding("nearest", "order", order);
    /* per line each 1.5 -> 2, so 4 where the order rounds to 3; 1/3 -> 0 each */
    const int64_t line[5] = {2, 1, 4, 1, 0};
    check_rounding("nearest", "line", line);
}

static void test_rounding_ceil(void **state)
{
    (void)state;
    const int64_t order[5] = {2, 2, 3, 1, 1};
    check_rounding("ceil", "order", order);
    /* per line 1/3 -> 1 each: 2 */
    const int64_t line[5] = {2, 2, 4, 1, 2};
    check_rounding("ceil", "line", line);
}

/* ---------------------------------------------------------- multipliers */

static const char *const STACK_POLICY =
    "loyalty_policy: 1\n"
    "tiers:\n"
    "  qualify_on: spend\n"
    "  levels:\n"
    "    - {id: member}\n"
    "    - {id: silver, at: 100}\n"
    "points:\n"
    "  earn:\n"
    "    rate: {amount: 1, points: 1}\n"
    "    multipliers:\n"
    "      - {id: tb, by_tier: {silver: 1.5}}\n"
    "      - {id: coats, when: {category: coats}, factor: 2}\n"
    "      - {id: big, when: {order_at_least: 500}, factor: 1.25}\n"
    "    stacking: %s\n";

static void run_stacking(const char *stacking, const char *second_effects)
{
    loy_policy *p = load_fmt(STACK_POLICY, stacking);
    rig t;
    rig_open(&t, p, "M-S", "2026-01-01");
    /* At the entry tier tb lists no factor; 150.00 is below order_at_least
     * 500: only coats applies, to the coat line: 100 x 2 + 50 = 250 under
     * every stacking. The order then lifts the member to silver. */
    ev(&t, LOY_EVENT_ORDER, "O-1", "2026-01-05T10:00:00+08:00");
    ev_line(&t, "C-1", "coats", 10000);
    ev_line(&t, "S-1", "shirts", 5000);
    expect_effects(&t, "[{\"type\": \"points\", \"delta\": 250, \"source\": \"order\", \"rules\": [\"coats\"]},"
                       " {\"type\": \"tier_changed\", \"from\": \"member\", \"to\": \"silver\", \"reason\": \"upgrade\"}]");
    ev(&t, LOY_EVENT_ORDER, "O-2", "2026-01-06T10:00:00+08:00");
    ev_line(&t, "C-2", "coats", 40000);
    ev_line(&t, "S-2", "shirts", 20000);
    expect_effects(&t, second_effects);
    rig_close(&t);
}

static void test_stacking_multiply(void **state)
{
    (void)state;
    /* silver: coat 400 x 1.5 x 2 x 1.25 = 1500; shirt 200 x 1.5 x 1.25 = 375 */
    run_stacking("multiply", "[{\"type\": \"points\", \"delta\": 1875, \"source\": \"order\","
                             " \"rules\": [\"tb\", \"coats\", \"big\"]}]");
}

static void test_stacking_add(void **state)
{
    (void)state;
    /* coat 400 x (1 + .5 + 1 + .25) = 1100; shirt 200 x (1 + .5 + .25) = 350 */
    run_stacking("add", "[{\"type\": \"points\", \"delta\": 1450, \"source\": \"order\","
                        " \"rules\": [\"tb\", \"coats\", \"big\"]}]");
}

static void test_stacking_max(void **state)
{
    (void)state;
    /* coat 400 x max(1.5, 2, 1.25) = 800; shirt 200 x 1.5 = 300 */
    run_stacking("max", "[{\"type\": \"points\", \"delta\": 1100, \"source\": \"order\","
                        " \"rules\": [\"tb\", \"coats\", \"big\"]}]");
}

static void test_stacking_add_below_zero_and_max_losers(void **state)
{
    (void)state;
    loy_policy *p = load_policy_text(
        HEAD "points:\n  earn:\n    rate: {amount: 1, points: 1}\n"
             "    multipliers:\n"
             "      - {id: half, when: {category: x}, factor: 0.5}\n"
             "      - {id: quarter, when: {category: x}, factor: 0.25}\n"
             "    stacking: add\n");
    rig t;
    rig_open(&t, p, "M-A", "2026-01-01");
    /* line x: 1 + (0.5 - 1) + (0.25 - 1) = -0.25, counted as 0; line y: 100 */
    ev(&t, LOY_EVENT_ORDER, "O-1", "2026-01-05T10:00:00Z");
    ev_line(&t, "A", "x", 10000);
    ev_line(&t, "B", "y", 10000);
    expect_effects(&t, "[{\"type\": \"points\", \"delta\": 100, \"source\": \"order\", \"rules\": [\"half\", \"quarter\"]}]");
    /* Only the x line: 0 points, so no points effect at all. */
    ev_order1(&t, "O-2", "2026-01-05T11:00:00Z", "x", 10000);
    expect_effects(&t, "[]");
    rig_close(&t);

    p = load_policy_text(HEAD "points:\n  earn:\n    rate: {amount: 1, points: 1}\n"
                              "    multipliers:\n"
                              "      - {id: small, when: {category: coats}, factor: 1.1}\n"
                              "      - {id: large, when: {category: coats}, factor: 3}\n"
                              "    stacking: max\n");
    rig_open(&t, p, "M-X", "2026-01-01");
    /* 100 x max(1.1, 3) = 300; `small` applied too and is listed */
    ev_order1(&t, "O-1", "2026-01-05T10:00:00Z", "coats", 10000);
    expect_effects(&t, "[{\"type\": \"points\", \"delta\": 300, \"source\": \"order\", \"rules\": [\"small\", \"large\"]}]");
    rig_close(&t);
}

static void test_multiplier_sees_member_before_the_order(void **state)
{
    (void)state;
    loy_policy *p = load_policy_text(
        HEAD "points:\n  earn:\n    rate: {amount: 1, points: 1}\n"
             "    exclude: {categories: [gift_card]}\n"
             "    multipliers:\n"
             "      - {id: repeat, when: {orders_at_least: 1}, factor: 2}\n"
             "      - {id: cards, when: {category: gift_card}, factor: 5}\n");
    rig t;
    rig_open(&t, p, "M-B", "2026-01-01");
    /* The first order is not yet counted when its multipliers are decided;
     * the gift card line is not eligible, so `cards` never applies. */
    ev(&t, LOY_EVENT_ORDER, "O-1", "2026-01-05T10:00:00Z");
    ev_line(&t, "GC", "gift_card", 10000);
    ev_line(&t, "S", "shirts", 10000);
    expect_effects(&t, "[{\"type\": \"points\", \"delta\": 100, \"source\": \"order\", \"rules\": []}]");
    ev_order1(&t, "O-2", "2026-01-06T10:00:00Z", "shirts", 10000);
    expect_effects(&t, "[{\"type\": \"points\", \"delta\": 200, \"source\": \"order\", \"rules\": [\"repeat\"]}]");
    rig_close(&t);
}

static void test_many_multipliers_exact(void **state)
{
    (void)state;
    /* 1.0001^8 = 1.00080028005600700056002800080001 (binomial), so
     * 100,000,000.00 earns 100080028.0056... : the product's denominator
     * 10^32 is past 128 bits, and the result must still be exact. */
    static const char *const fmt =
        HEAD "points:\n  earn:\n    rate: {amount: 1, points: 1}\n    rounding: %s\n"
             "    multipliers:\n"
             "      - {id: m1, factor: 1.0001}\n      - {id: m2, factor: 1.0001}\n"
             "      - {id: m3, factor: 1.0001}\n      - {id: m4, factor: 1.0001}\n"
             "      - {id: m5, factor: 1.0001}\n      - {id: m6, factor: 1.0001}\n"
             "      - {id: m7, factor: 1.0001}\n      - {id: m8, factor: 1.0001}\n";
    const char *modes[3] = {"floor", "ceil", "nearest"};
    const int64_t want[3] = {100080028, 100080029, 100080028};
    for (int i = 0; i < 3; i++) {
        loy_policy *p = load_fmt(fmt, modes[i]);
        rig t;
        rig_open(&t, p, "M-E", "2026-01-01");
        assert_int_equal(apply_order(&t, "O-1", "2026-01-05T10:00:00Z", 10000000000LL, -1), want[i]);
        rig_close(&t);
    }
}

/* The rules list comes from a bit mask up to 64 multipliers and from a flag
 * array past that; both must name the multipliers that applied, in policy
 * order, traced (the general path) or not (the fast one, up to 64). */
static void check_rules_listed(int count, bool traced)
{
    char buf[16384];
    int at = snprintf(buf, sizeof buf, "%s", HEAD "points:\n  earn:\n    rate: {amount: 1, points: 1}\n"
                                             "    stacking: add\n    multipliers:\n");
    char want[4096];
    int w = snprintf(want, sizeof want, "[{\"type\": \"points\", \"delta\": %d, \"source\": \"order\", \"rules\": [",
                     100 + 100 * ((count + 1) / 2));
    for (int j = 1; j <= count; j++) {
        /* odd ones hold on the 5th, even ones never on it */
        at += snprintf(buf + at, sizeof buf - (size_t)at, "      - {id: m%d, when: {day_of_month: [%d]}, factor: 2}\n",
                       j, j % 2 ? 5 : 6);
        if (j % 2)
            w += snprintf(want + w, sizeof want - (size_t)w, "%s\"m%d\"", j > 1 ? ", " : "", j);
    }
    snprintf(want + w, sizeof want - (size_t)w, "]}]");
    loy_policy *p = load_policy_text(buf);
    rig t;
    rig_open(&t, p, "M-R", "2026-01-01");
    if (!traced)
        loy_result_set_options(t.r, 0);
    ev_order1(&t, "O-1", "2026-01-05T10:00:00Z", "x", 10000);
    expect_effects(&t, want);
    rig_close(&t);
}

static void test_rules_listed_in_order(void **state)
{
    (void)state;
    const int counts[] = {1, 3, 63, 64, 65, 70};
    for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++) {
        check_rules_listed(counts[i], true);
        check_rules_listed(counts[i], false);
    }
}

static void test_earning_overflow(void **state)
{
    (void)state;
    /* 90,000,000,000,000,000.00 at 1000 points per 0.01: 9 x 10^21 points. */
    loy_policy *p = load_policy_text(HEAD "points:\n  earn:\n    rate: {amount: 0.01, points: 1000}\n");
    rig t;
    rig_open(&t, p, "M-O", "2026-01-01");
    ev_order1(&t, "O-1", "2026-01-05T10:00:00Z", "x", 9000000000000000000LL);
    expect_refused_same(&t, LOY_E_OVERFLOW, "order points overflow int64");
    /* The line sum itself leaving int64. */
    ev(&t, LOY_EVENT_ORDER, "O-2", "2026-01-05T10:00:00Z");
    ev_line(&t, "A", "x", INT64_MAX);
    ev_line(&t, "B", "x", 1);
    expect_refused_same(&t, LOY_E_OVERFLOW, "eligible spend overflows int64");
    rig_close(&t);

    /* The same order under a per-order cap: the exact figure is only an
     * intermediate, and the cap brings it back. */
    p = load_policy_text(HEAD "points:\n  earn:\n    rate: {amount: 0.01, points: 1000}\n"
                              "    cap: {per_order: 5000}\n");
    rig_open(&t, p, "M-O", "2026-01-01");
    assert_int_equal(apply_order(&t, "O-1", "2026-01-05T10:00:00Z", 9000000000000000000LL, -1), 5000);
    rig_close(&t);
}

/* An order's metric updates are made together (loy_metric_add_order): the
 * refusal is the first of points earned, growth, orders, spend, growth in
 * that order, and nothing moves. */
static void check_order_metric_refusal(const char *growth, loy_metric metric, int64_t value, const char *want)
{
    loy_policy *p = load_fmt(HEAD "points:\n  earn:\n    rate: {amount: 1, points: 1}\n"
                                  "growth:\n  per_spend: {amount: 1, growth: 1}\n  per_order: %s\n",
                             growth);
    rig t;
    rig_open(&t, p, "M-O", "2026-01-01");
    if (value > 0)
        assert_int_equal(loy_member_import_month(t.m, metric, "2026-01", value), LOY_OK);
    ev(&t, LOY_EVENT_ORDER, "O-1", "2026-01-02T10:00:00Z");
    ev_line(&t, "A", "x", 500);
    expect_refused_same(&t, LOY_E_OVERFLOW, want);
    rig_close(&t);
}

static void test_order_metric_refusals_in_order(void **state)
{
    (void)state;
    const char *big = "9223372036854775807", *monthly = "a monthly figure overflows int64";
    check_order_metric_refusal(big, LOY_METRIC_POINTS_EARNED, INT64_MAX, monthly);
    check_order_metric_refusal(big, LOY_METRIC_ORDERS, INT64_MAX, "growth overflows int64");
    check_order_metric_refusal(big, LOY_METRIC_SPEND, 0, "growth overflows int64");
    check_order_metric_refusal("1", LOY_METRIC_ORDERS, INT64_MAX, monthly);
    check_order_metric_refusal("1", LOY_METRIC_SPEND, INT64_MAX - 1, monthly);
    check_order_metric_refusal("1", LOY_METRIC_GROWTH, INT64_MAX - 1, monthly);
}

static void test_min_order_on_eligible_spend(void **state)
{
    (void)state;
    loy_policy *p = load_policy_text(HEAD "points:\n  earn:\n    rate: {amount: 1, points: 1}\n"
                                          "    exclude: {categories: [gift_card]}\n"
                                          "    min_order: 10\n");
    rig t;
    rig_open(&t, p, "M-M", "2026-01-01");
    assert_int_equal(apply_order(&t, "O-1", "2026-01-05T10:00:00Z", 999, -1), 0);
    assert_true(trace_has(&t, "min_order", "below min_order"));
    assert_int_equal(apply_order(&t, "O-2", "2026-01-05T10:01:00Z", 1000, -1), 10);
    /* 50.00 of gift cards do not lift 5.00 of shirts over the minimum. */
    ev(&t, LOY_EVENT_ORDER, "O-3", "2026-01-05T10:02:00Z");
    ev_line(&t, "GC", "gift_card", 5000);
    ev_line(&t, "S", "shirts", 500);
    expect_effects(&t, "[]");
    rig_close(&t);
}

static void test_caps_per_order_and_per_day(void **state)
{
    (void)state;
    loy_policy *p = load_policy_text(HEAD "points:\n  earn:\n    rate: {amount: 1, points: 1}\n"
                                          "    cap: {per_order: 100, per_day: 150}\n");
    rig t;
    rig_open(&t, p, "M-C", "2026-01-01");
    /* 120 -> 100 (per order); then 80 with 50 left today; then nothing left */
    assert_int_equal(apply_order(&t, "O-1", "2026-01-05T10:00:00+08:00", 12000, -1), 100);
    assert_true(trace_has(&t, "cap.per_order", "more than"));
    assert_int_equal(apply_order(&t, "O-2", "2026-01-05T11:00:00+08:00", 8000, -1), 50);
    assert_true(trace_has(&t, "cap.per_day", "100 points today"));
    assert_int_equal(apply_order(&t, "O-3", "2026-01-05T12:00:00+08:00", 1000, -1), 0);
    /* A new local day starts from 0; 80 + 70 fills it exactly. */
    assert_int_equal(apply_order(&t, "O-4", "2026-01-06T09:00:00+08:00", 8000, -1), 80);
    assert_int_equal(apply_order(&t, "O-5", "2026-01-06T10:00:00+08:00", 7000, -1), 70);
    assert_int_equal(apply_order(&t, "O-6", "2026-01-06T10:30:00+08:00", 100, -1), 0);
    /* A return gives no room back. */
    ev_return(&t, "R-5", "2026-01-06T11:00:00+08:00", 7000, "O-5", "2026-01-06T10:00:00+08:00", 7000, 70);
    expect_effects(&t, "[{\"type\": \"points\", \"delta\": -70, \"source\": \"return\", \"order\": \"O-5\"}]");
    assert_int_equal(apply_order(&t, "O-7", "2026-01-06T12:00:00+08:00", 2000, -1), 0);
    /* Exactly the per-order cap is not cut. */
    assert_int_equal(apply_order(&t, "O-8", "2026-01-07T12:00:00+08:00", 10000, -1), 100);
    assert_true(trace_has(&t, "cap.per_order", "at most"));
    expect_member(&t, "{\"tier\": \"member\", \"points\": {\"available\": 330, \"pending\": 0}, \"stage\": null}");
    rig_close(&t);
}

/* -------------------------------------------------------- pending, expiry */

static void test_pending_release_on_pending_until(void **state)
{
    (void)state;
    loy_policy *p = load_policy_text(HEAD "points:\n  earn:\n    rate: {amount: 1, points: 1}\n"
                                          "  pending_days: 7\n  expiry: {after_months: 12}\n"
                                          "  redeem: {rate: {points: 1, amount: 0.01}}\n");
    rig t;
    rig_open(&t, p, "M-P", "2026-01-01");
    ev_order1(&t, "O-1", "2026-05-01T10:00:00+08:00", "x", 100000);
    expect_effects(&t, "[{\"type\": \"points\", \"delta\": 1000, \"source\": \"order\","
                       " \"pending_until\": \"2026-05-08\", \"expires\": \"2027-05-31\", \"rules\": []}]");
    ev_order1(&t, "O-2", "2026-05-01T11:00:00+08:00", "x", 20000);
    expect_effects(&t, "[{\"type\": \"points\", \"delta\": 200, \"source\": \"order\","
                       " \"pending_until\": \"2026-05-08\", \"expires\": \"2027-05-31\", \"rules\": []}]");
    /* Pending points cannot be spent. */
    ev_redeem(&t, "X-1", "2026-05-02T10:00:00+08:00", 1, 100);
    expect_refused_same(&t, LOY_E_INSUFFICIENT_POINTS, "1 points asked, 0 available");
    expect_tick(&t, "T-1", "2026-05-07T23:59:59+08:00", "[]");
    expect_member(&t, "{\"tier\": \"member\", \"points\": {\"available\": 0, \"pending\": 1200}, \"stage\": null}");
    /* Released in credit order at the first event dated on pending_until. */
    expect_tick(&t, "T-2", "2026-05-08T00:00:00+08:00",
                "[{\"type\": \"points_released\", \"points\": 1000, \"order\": \"O-1\"},"
                " {\"type\": \"points_released\", \"points\": 200, \"order\": \"O-2\"}]");
    expect_member(&t, "{\"tier\": \"member\", \"points\": {\"available\": 1200, \"pending\": 0}, \"stage\": null}");
    expect_lots(t.m, "1200@2027-05-31");
    rig_close(&t);
}

/* A new lot goes after the last one without a search when it sorts there
 * (lots.c); before other lots, or into a full array, it takes the general
 * road. Both keep the lots sorted by last day, then credit order. */
static void test_lot_insert_append_and_middle(void **state)
{
    (void)state;
    static const char *const policy = HEAD "points:\n  earn:\n    rate: {amount: 1, points: 1}\n"
                                           "  pending_days: 60\n  expiry: {after_months: 12}\n";
    rig t;
    /* appended: the first lot, then one of the same last day */
    rig_open(&t, load_policy_text(policy), "M-A", "2026-01-01");
    ev_order1(&t, "O-1", "2026-05-01T10:00:00+08:00", "x", 100000);
    assert_int_equal(apply(&t), LOY_OK);
    ev_order1(&t, "O-2", "2026-05-01T11:00:00+08:00", "x", 20000);
    assert_int_equal(apply(&t), LOY_OK);
    ev_order1(&t, "O-3", "2026-06-01T11:00:00+08:00", "x", 3000);
    assert_int_equal(apply(&t), LOY_OK);
    expect_lots(t.m, "1000@2027-05-31/2026-06-30 200@2027-05-31/2026-06-30 30@2027-06-30/2026-07-31");
    rig_close(&t);

    /* in the middle: before lots that expire later or never */
    rig_open(&t, load_policy_text(policy), "M-B", "2026-01-01");
    assert_int_equal(loy_member_import_lot(t.m, 100, NULL), LOY_OK);
    assert_int_equal(loy_member_import_lot(t.m, 40, "2027-12-31"), LOY_OK);
    ev_order1(&t, "O-1", "2026-05-01T10:00:00+08:00", "x", 100000);
    assert_int_equal(apply(&t), LOY_OK);
    ev_order1(&t, "O-2", "2026-05-01T11:00:00+08:00", "x", 20000);
    assert_int_equal(apply(&t), LOY_OK);
    expect_lots(t.m, "1000@2027-05-31/2026-06-30 200@2027-05-31/2026-06-30 40@2027-12-31 100@never");
    /* released in credit order into one available lot, still before the later ones */
    expect_tick(&t, "T-1", "2026-06-30T00:00:00+08:00",
                "[{\"type\": \"points_released\", \"points\": 1000, \"order\": \"O-1\"},"
                " {\"type\": \"points_released\", \"points\": 200, \"order\": \"O-2\"}]");
    expect_lots(t.m, "1200@2027-05-31 40@2027-12-31 100@never");
    expect_member(&t, "{\"tier\": \"member\", \"points\": {\"available\": 1340, \"pending\": 0}, \"stage\": null}");
    rig_close(&t);
}

static void test_expiry_last_day_and_day_after(void **state)
{
    (void)state;
    loy_policy *p = load_policy_text(HEAD "points:\n  earn:\n    rate: {amount: 1, points: 1}\n"
                                          "  expiry: {after_months: 1}\n");
    rig t;
    rig_open(&t, p, "M-X", "2026-01-01");
    /* Jan 31 + 1 month: the last day of February. */
    ev_order1(&t, "O-1", "2026-01-31T10:00:00+08:00", "x", 10000);
    expect_effects(&t, "[{\"type\": \"points\", \"delta\": 100, \"source\": \"order\", \"expires\": \"2026-02-28\", \"rules\": []}]");
    ev_order1(&t, "O-2", "2026-02-10T10:00:00+08:00", "x", 5000);
    expect_effects(&t, "[{\"type\": \"points\", \"delta\": 50, \"source\": \"order\", \"expires\": \"2026-03-31\", \"rules\": []}]");
    expect_tick(&t, "T-1", "2026-02-28T23:59:59+08:00", "[]");
    expect_tick(&t, "T-2", "2026-03-01T00:00:00+08:00",
                "[{\"type\": \"points\", \"delta\": -100, \"source\": \"expiry\", \"expires\": \"2026-02-28\"}]");
    expect_member(&t, "{\"tier\": \"member\", \"points\": {\"available\": 50, \"pending\": 0}, \"stage\": null}");
    /* Two last days passed at once: one effect each, in date order. */
    ev_order1(&t, "O-3", "2026-03-15T10:00:00+08:00", "x", 700);
    expect_effects(&t, "[{\"type\": \"points\", \"delta\": 7, \"source\": \"order\", \"expires\": \"2026-04-30\", \"rules\": []}]");
    expect_tick(&t, "T-3", "2026-05-02T00:00:00+08:00",
                "[{\"type\": \"points\", \"delta\": -50, \"source\": \"expiry\", \"expires\": \"2026-03-31\"},"
                " {\"type\": \"points\", \"delta\": -7, \"source\": \"expiry\", \"expires\": \"2026-04-30\"}]");
    expect_lots(t.m, "");
    rig_close(&t);
}

static void test_expiry_kinds_and_pending_expiring_unreleased(void **state)
{
    (void)state;
    /* after_months 0: the credit month's last day; a pending lot expires
     * even before its release. */
    loy_policy *p = load_policy_text(HEAD "points:\n  earn:\n    rate: {amount: 1, points: 1}\n"
                                          "  pending_days: 60\n  expiry: {after_months: 0}\n");
    rig t;
    rig_open(&t, p, "M-K", "2026-01-01");
    ev_order1(&t, "O-1", "2026-03-20T10:00:00Z", "x", 3000);
    expect_effects(&t, "[{\"type\": \"points\", \"delta\": 30, \"source\": \"order\","
                       " \"pending_until\": \"2026-05-19\", \"expires\": \"2026-03-31\", \"rules\": []}]");
    expect_tick(&t, "T-1", "2026-04-01T00:00:00Z",
                "[{\"type\": \"points\", \"delta\": -30, \"source\": \"expiry\", \"expires\": \"2026-03-31\"}]");
    expect_member(&t, "{\"tier\": \"member\", \"points\": {\"available\": 0, \"pending\": 0}, \"stage\": null}");
    expect_tick(&t, "T-2", "2026-05-19T00:00:00Z", "[]");
    rig_close(&t);

    /* end_of_year_plus 1: December 31 of the next year. */
    p = load_policy_text(HEAD "points:\n  earn:\n    rate: {amount: 1, points: 1}\n"
                              "  expiry: {end_of_year_plus: 1}\n");
    rig_open(&t, p, "M-K", "2026-01-01");
    ev_order1(&t, "O-1", "2026-06-01T10:00:00Z", "x", 1000);
    expect_effects(&t, "[{\"type\": \"points\", \"delta\": 10, \"source\": \"order\", \"expires\": \"2027-12-31\", \"rules\": []}]");
    expect_tick(&t, "T-1", "2027-12-31T23:00:00Z", "[]");
    expect_tick(&t, "T-2", "2028-01-01T00:00:00Z",
                "[{\"type\": \"points\", \"delta\": -10, \"source\": \"expiry\", \"expires\": \"2027-12-31\"}]");
    rig_close(&t);

    /* after_months 12 from Feb 29: the last day of Feb 2029. */
    p = load_policy_text(HEAD "points:\n  earn:\n    rate: {amount: 1, points: 1}\n"
                              "  expiry: {after_months: 12}\n");
    rig_open(&t, p, "M-K", "2028-01-01");
    ev_order1(&t, "O-1", "2028-02-29T10:00:00Z", "x", 1000);
    expect_effects(&t, "[{\"type\": \"points\", \"delta\": 10, \"source\": \"order\", \"expires\": \"2029-02-28\", \"rules\": []}]");
    rig_close(&t);
}

/* ---------------------------------------------------------------- returns */

static const char *const RETURN_POLICY =
    HEAD "points:\n  earn:\n    rate: {amount: 1, points: 1}\n"
         "  actions:\n    signup: {points: 100, limit: once}\n    review: {points: 10}\n"
         "  pending_days: 7\n  negative_balance: %s\n";

static void returns_prelude(rig *t)
{
    ev_action(t, "A-1", "2026-05-01T09:00:00+08:00", "signup");
    expect_effects(t, "[{\"type\": \"points\", \"delta\": 100, \"source\": \"action\", \"kind\": \"signup\"}]");
    ev_order1(t, "O-1", "2026-05-02T10:00:00+08:00", "x", 100000);
    assert_int_equal(apply(t), LOY_OK);
    ev_order1(t, "O-2", "2026-05-03T12:00:00+08:00", "x", 20000);
    assert_int_equal(apply(t), LOY_OK);
    /* 1000 x 500/1000 = 500, all from O-1's own pending lot */
    ev_return(t, "R-1", "2026-05-03T13:00:00+08:00", 50000, "O-1", "2026-05-02T10:00:00+08:00", 100000, 1000);
    expect_effects(t, "[{\"type\": \"points\", \"delta\": -500, \"source\": \"return\", \"order\": \"O-1\"}]");
    expect_member(t, "{\"tier\": \"member\", \"points\": {\"available\": 100, \"pending\": 700}, \"stage\": null}");
}

static void test_return_larger_than_pending_shortfall(void **state)
{
    (void)state;
    loy_policy *p = load_fmt(RETURN_POLICY, "false");
    rig t;
    rig_open(&t, p, "M-T", "2026-01-01");
    returns_prelude(&t);
    /* 800: the 500 left pending on O-1, then the 100 available; O-2's
     * pending 200 is never touched; 200 cannot be taken. */
    ev_return(&t, "R-2", "2026-05-04T10:00:00+08:00", 80000, "O-1", "2026-05-02T10:00:00+08:00", 100000, 1000);
    expect_effects(&t, "[{\"type\": \"points\", \"delta\": -600, \"source\": \"return\", \"order\": \"O-1\", \"shortfall\": 200}]");
    expect_member(&t, "{\"tier\": \"member\", \"points\": {\"available\": 0, \"pending\": 200}, \"stage\": null}");
    /* Nothing left to take: the delta is 0 and all of it is shortfall. */
    ev_return(&t, "R-3", "2026-05-04T11:00:00+08:00", 10000, "O-1", "2026-05-02T10:00:00+08:00", 100000, 1000);
    expect_effects(&t, "[{\"type\": \"points\", \"delta\": 0, \"source\": \"return\", \"order\": \"O-1\", \"shortfall\": 100}]");
    /* An original order of amount 0 claws back nothing: no effect. */
    ev_return(&t, "R-4", "2026-05-04T12:00:00+08:00", 0, "O-9", "2026-05-01T12:00:00+08:00", 0, 50);
    expect_effects(&t, "[]");
    rig_close(&t);
}

static void test_return_debt_repaid_by_credits_and_releases(void **state)
{
    (void)state;
    loy_policy *p = load_fmt(RETURN_POLICY, "true");
    rig t;
    rig_open(&t, p, "M-D", "2026-01-01");
    returns_prelude(&t);
    ev_return(&t, "R-2", "2026-05-04T10:00:00+08:00", 80000, "O-1", "2026-05-02T10:00:00+08:00", 100000, 1000);
    expect_effects(&t, "[{\"type\": \"points\", \"delta\": -800, \"source\": \"return\", \"order\": \"O-1\"}]");
    expect_member(&t, "{\"tier\": \"member\", \"points\": {\"available\": -200, \"pending\": 200}, \"stage\": null}");
    /* A credit repays the debt first. */
    ev_action(&t, "A-2", "2026-05-05T10:00:00+08:00", "review");
    expect_effects(&t, "[{\"type\": \"points\", \"delta\": 10, \"source\": \"action\", \"kind\": \"review\"}]");
    expect_member(&t, "{\"tier\": \"member\", \"points\": {\"available\": -190, \"pending\": 200}, \"stage\": null}");
    expect_lots(t.m, "200@never/2026-05-10");
    /* A release too: 190 of O-2's 200 go to the debt. */
    expect_tick(&t, "T-1", "2026-05-10T00:00:00+08:00", "[{\"type\": \"points_released\", \"points\": 200, \"order\": \"O-2\"}]");
    expect_member(&t, "{\"tier\": \"member\", \"points\": {\"available\": 10, \"pending\": 0}, \"stage\": null}");
    expect_lots(t.m, "10@never");
    assert_int_equal(t.m->debt, 0);
    rig_close(&t);
}

static void test_return_takes_soonest_expiring_first(void **state)
{
    (void)state;
    loy_policy *p = load_policy_text(HEAD "points:\n  earn:\n    rate: {amount: 1, points: 1}\n");
    rig t;
    rig_open(&t, p, "M-L", "2026-01-01");
    assert_int_equal(loy_member_import_lot(t.m, 50, NULL), LOY_OK);
    assert_int_equal(loy_member_import_lot(t.m, 30, "2026-12-31"), LOY_OK);
    assert_int_equal(loy_member_import_lot(t.m, 20, "2026-09-30"), LOY_OK);
    expect_lots(t.m, "20@2026-09-30 30@2026-12-31 50@never");
    /* 60 = 20 (Sep 30) + 30 (Dec 31) + 10 of the never-expiring lot */
    ev_return(&t, "R-1", "2026-06-01T10:00:00Z", 100, "O-0", "2026-05-01T10:00:00Z", 100, 60);
    expect_effects(&t, "[{\"type\": \"points\", \"delta\": -60, \"source\": \"return\", \"order\": \"O-0\"}]");
    expect_lots(t.m, "40@never");
    rig_close(&t);
}

/* ---------------------------------------------------------------- actions */

static const char *const ACTION_POLICY =
    HEAD "points:\n"
         "  actions:\n"
         "    signup: {points: 100, limit: once}\n"
         "    review: {points: 10, limit: {count: 2, per: week}}\n"
         "    share: {points: 5, limit: {count: 1, per: day}}\n"
         "    post: {points: 3, limit: {count: 2, per: month}}\n"
         "    vote: {points: 1, limit: {count: 1, per: year}}\n"
         "    like: {points: 0, limit: {count: 1, per: day}}\n"
         "    visit: {points: 2}\n";

static void expect_action(rig *t, const char *id, const char *at, const char *kind, int64_t delta)
{
    ev_action(t, id, at, kind);
    int rc = apply(t);
    assert_int_equal(rc, LOY_OK);
    const loy_node *effects = root_get(t, "effects");
    if (delta == 0) {
        assert_int_equal(loy_node_count(effects), 0);
        return;
    }
    assert_int_equal(loy_node_count(effects), 1);
    const loy_node *e = loy_node_at(effects, 0);
    assert_int_equal(loy_node_int(loy_node_get(e, "delta")), delta);
    assert_string_equal(loy_node_str(loy_node_get(e, "source"), NULL), "action");
    assert_string_equal(loy_node_str(loy_node_get(e, "kind"), NULL), kind);
}

static void test_action_limits(void **state)
{
    (void)state;
    loy_policy *p = load_policy_text(ACTION_POLICY);
    rig t;
    rig_open(&t, p, "M-A", "2026-01-01");
    expect_action(&t, "S-1", "2026-01-02T10:00:00Z", "signup", 100);
    expect_action(&t, "S-2", "2026-01-03T10:00:00Z", "signup", 0);
    expect_action(&t, "S-3", "2027-01-03T10:00:00Z", "signup", 0);
    /* month: two in January, the third refused, February counts anew */
    expect_action(&t, "P-1", "2027-01-30T10:00:00Z", "post", 3);
    expect_action(&t, "P-2", "2027-01-31T10:00:00Z", "post", 3);
    expect_action(&t, "P-3", "2027-01-31T23:59:59Z", "post", 0);
    expect_action(&t, "P-4", "2027-02-01T00:00:00Z", "post", 3);
    /* day: local calendar days */
    expect_action(&t, "H-1", "2027-02-02T00:00:00+08:00", "share", 5);
    expect_action(&t, "H-2", "2027-02-02T23:59:59+08:00", "share", 0);
    expect_action(&t, "H-3", "2027-02-03T00:00:00+08:00", "share", 5);
    /* week from Monday: 2027-03-07 is a Sunday, 03-08 a Monday */
    expect_action(&t, "W-1", "2027-03-07T10:00:00Z", "review", 10);
    expect_action(&t, "W-2", "2027-03-08T10:00:00Z", "review", 10);
    expect_action(&t, "W-3", "2027-03-09T10:00:00Z", "review", 10);
    expect_action(&t, "W-4", "2027-03-14T23:00:00Z", "review", 0);
    assert_true(trace_has(&t, "review", "limit 2 per week reached"));
    expect_action(&t, "W-5", "2027-03-15T00:00:00Z", "review", 10);
    /* year */
    expect_action(&t, "V-1", "2027-12-31T10:00:00Z", "vote", 1);
    expect_action(&t, "V-2", "2027-12-31T11:00:00Z", "vote", 0);
    expect_action(&t, "V-3", "2028-01-01T10:00:00Z", "vote", 1);
    /* a 0-point action still uses its limit, without an effect */
    expect_action(&t, "L-1", "2028-01-02T10:00:00Z", "like", 0);
    assert_true(trace_has(&t, "like", "use 1 of 1"));
    expect_action(&t, "L-2", "2028-01-02T11:00:00Z", "like", 0);
    assert_true(trace_has(&t, "like", "limit 1 per day reached"));
    /* no limit, and a kind not listed: accepted, nothing earned */
    expect_action(&t, "U-1", "2028-01-03T10:00:00Z", "visit", 2);
    expect_action(&t, "U-2", "2028-01-03T10:00:00Z", "visit", 2);
    expect_action(&t, "U-3", "2028-01-03T10:00:00Z", "dance", 0);
    /* 100 + 3x3 + 5x2 + 10x4 + 1x2 + 2x2 */
    assert_int_equal(loy_member_points_available(t.m), 165);
    rig_close(&t);
}

/* ------------------------------------------------------------- redemption */

static void test_redemption_checks_in_order(void **state)
{
    (void)state;
    loy_policy *p = load_policy_text(
        HEAD "points:\n"
             "  redeem: {rate: {points: 100, amount: 1}, min_points: 200, step: 50, max_order_share: 0.3}\n");
    rig t;
    rig_open(&t, p, "M-X", "2026-01-01");
    assert_int_equal(loy_member_import_lot(t.m, 1000, "2026-12-31"), LOY_OK);
    /* Too many points is reported first, whatever else fails. */
    ev_redeem(&t, "X-1", "2026-02-01T10:00:00Z", 1001, 0);
    expect_refused_same(&t, LOY_E_INSUFFICIENT_POINTS, "1001 points asked, 1000 available");
    /* 120 is below the minimum and no multiple of 50: the minimum comes first. */
    ev_redeem(&t, "X-1", "2026-02-01T10:00:00Z", 120, 0);
    expect_refused_same(&t, LOY_E_BELOW_MIN_POINTS, NULL);
    ev_redeem(&t, "X-1", "2026-02-01T10:00:00Z", 225, 0);
    expect_refused_same(&t, LOY_E_NOT_STEP_MULTIPLE, NULL);
    /* the trace of a refusal shows the checks passed and the one failed */
    assert_true(trace_has(&t, "redeem.min_points", "225 points asked, min_points 200"));
    assert_true(trace_has(&t, "redeem.step", "225 points asked, step 50"));
    assert_false(trace_has(&t, "redeem.max_order_share", ""));
    /* 300 points are worth 3.00; 0.3 x 9.99 = 2.997 < 3.00 */
    ev_redeem(&t, "X-1", "2026-02-01T10:00:00Z", 300, 999);
    expect_refused_same(&t, LOY_E_OVER_ORDER_SHARE, NULL);
    /* 0.3 x 10.00 = 3.00 exactly: allowed. The refused id can be used again. */
    ev_redeem(&t, "X-1", "2026-02-01T10:00:00Z", 300, 1000);
    expect_effects(&t, "[{\"type\": \"points\", \"delta\": -300, \"source\": \"redeem\", \"value\": 300}]");
    expect_member(&t, "{\"tier\": \"member\", \"points\": {\"available\": 700, \"pending\": 0}, \"stage\": null}");
    rig_close(&t);

    /* Without points.redeem. */
    p = load_policy_text(HEAD "points:\n  earn:\n    rate: {amount: 1, points: 1}\n");
    rig_open(&t, p, "M-X", "2026-01-01");
    assert_int_equal(loy_member_import_lot(t.m, 1000, NULL), LOY_OK);
    ev_redeem(&t, "X-1", "2026-02-01T10:00:00Z", 100, 100000);
    expect_refused_same(&t, LOY_E_REDEEM_DISABLED, NULL);
    rig_close(&t);
}

static void test_redemption_value_and_lot_order(void **state)
{
    (void)state;
    /* 3 points buy 1.00: 10 points are worth floor(1000/3) = 333 */
    loy_policy *p = load_policy_text(HEAD "points:\n  redeem: {rate: {points: 3, amount: 1}}\n");
    rig t;
    rig_open(&t, p, "M-V", "2026-01-01");
    assert_int_equal(loy_member_import_lot(t.m, 100, "2026-12-31"), LOY_OK);
    assert_int_equal(loy_member_import_lot(t.m, 100, NULL), LOY_OK);
    assert_int_equal(loy_member_import_lot(t.m, 100, "2026-06-30"), LOY_OK);
    ev_redeem(&t, "X-1", "2026-02-01T10:00:00Z", 10, 333);
    expect_effects(&t, "[{\"type\": \"points\", \"delta\": -10, \"source\": \"redeem\", \"value\": 333}]");
    expect_lots(t.m, "90@2026-06-30 100@2026-12-31 100@never");
    ev_redeem(&t, "X-2", "2026-02-01T10:00:00Z", 140, 100000);
    assert_int_equal(apply(&t), LOY_OK);
    expect_lots(t.m, "50@2026-12-31 100@never");
    /* A redemption of less than one point is an invalid event. */
    ev_redeem(&t, "X-3", "2026-02-01T10:00:00Z", 0, 100000);
    expect_refused_same(&t, LOY_E_INVALID_EVENT, "'points' must be >= 1");
    rig_close(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rounding_floor),
        cmocka_unit_test(test_rounding_nearest_half_up),
        cmocka_unit_test(test_rounding_ceil),
        cmocka_unit_test(test_stacking_multiply),
        cmocka_unit_test(test_stacking_add),
        cmocka_unit_test(test_stacking_max),
        cmocka_unit_test(test_stacking_add_below_zero_and_max_losers),
        cmocka_unit_test(test_multiplier_sees_member_before_the_order),
        cmocka_unit_test(test_many_multipliers_exact),
        cmocka_unit_test(test_rules_listed_in_order),
        cmocka_unit_test(test_earning_overflow),
        cmocka_unit_test(test_order_metric_refusals_in_order),
        cmocka_unit_test(test_min_order_on_eligible_spend),
        cmocka_unit_test(test_caps_per_order_and_per_day),
        cmocka_unit_test(test_pending_release_on_pending_until),
        cmocka_unit_test(test_lot_insert_append_and_middle),
        cmocka_unit_test(test_expiry_last_day_and_day_after),
        cmocka_unit_test(test_expiry_kinds_and_pending_expiring_unreleased),
        cmocka_unit_test(test_return_larger_than_pending_shortfall),
        cmocka_unit_test(test_return_debt_repaid_by_credits_and_releases),
        cmocka_unit_test(test_return_takes_soonest_expiring_first),
        cmocka_unit_test(test_action_limits),
        cmocka_unit_test(test_redemption_checks_in_order),
        cmocka_unit_test(test_redemption_value_and_lot_order),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
