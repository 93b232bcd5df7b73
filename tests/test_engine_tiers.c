/*
 * Tiers and their metric (POLICY.md §3): qualifying spend, windows,
 * growth, returns lowering a month; upgrades that skip levels; reviews on
 * anniversaries and calendar years, with keep, min_hold_months skips,
 * catch-up of several due reviews, one_level and to_qualified, and the
 * Feb 29 anniversary. Figures are worked out by hand beside each check.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "support/engine_support.h"

/* Spend tiers on 12 rolling months, no points: effects are tier changes only. */
static const char *const SPEND_TIERS =
    "loyalty_policy: 1\n"
    "tiers:\n"
    "  qualify_on: spend\n"
    "  window: 12_months\n"
    "  exclude: {categories: [gift_card]}\n"
    "  review: anniversary\n"
    "  downgrade: %s\n"
    "  min_hold_months: %d\n"
    "  levels:\n"
    "    - {id: member}\n"
    "    - {id: silver, at: 100}\n"
    "    - {id: gold, at: 300, keep: 250}\n"
    "    - {id: platinum, at: 1000}\n";

#define UPGRADE(from, to) \
    "{\"type\": \"tier_changed\", \"from\": \"" from "\", \"to\": \"" to "\", \"reason\": \"upgrade\"}"
#define REVIEW(from, to, date)                                                            \
    "{\"type\": \"tier_changed\", \"from\": \"" from "\", \"to\": \"" to "\", \"reason\": " \
    "\"review\", \"review_date\": \"" date "\"}"

static void order(rig *t, const char *id, const char *at, int64_t amount)
{
    ev_order1(t, id, at, "shirts", amount);
}

static void test_upgrade_skips_levels_and_excludes(void **state)
{
    (void)state;
    loy_policy *p = load_fmt(SPEND_TIERS, "one_level", 0);
    rig t;
    rig_open(&t, p, "M-U", "2026-01-01");
    /* 500 of gift cards do not qualify: 200 reaches silver only. */
    ev(&t, LOY_EVENT_ORDER, "O-1", "2026-01-10T10:00:00Z");
    ev_line(&t, "GC", "gift_card", 50000);
    ev_line(&t, "S", "shirts", 20000);
    expect_effects(&t, "[" UPGRADE("member", "silver") "]");
    /* 200 + 900 = 1100: past gold straight to platinum, one effect. */
    order(&t, "O-2", "2026-01-11T10:00:00Z", 90000);
    expect_effects(&t, "[" UPGRADE("silver", "platinum") "]");
    char since[11];
    assert_int_equal(loy_member_tier_since(t.m, since), LOY_OK);
    assert_string_equal(since, "2026-01-11");
    /* Already at the top: nothing more. */
    order(&t, "O-3", "2026-01-12T10:00:00Z", 90000);
    expect_effects(&t, "[]");
    rig_close(&t);
}

static void test_review_keep_then_drops(void **state)
{
    (void)state;
    loy_policy *p = load_fmt(SPEND_TIERS, "one_level", 12);
    rig t;
    rig_open(&t, p, "M-K", "2026-01-01");
    order(&t, "O-1", "2026-03-15T10:00:00Z", 30000);
    expect_effects(&t, "[" UPGRADE("member", "gold") "]");
    order(&t, "O-2", "2026-04-10T10:00:00Z", 26000);
    expect_effects(&t, "[]");
    expect_tick(&t, "T-1", "2027-03-14T23:59:59Z", "[]");
    /* As of 2027-03-14 the window is 2026-04..2027-03: 260 >= keep 250. */
    expect_tick(&t, "T-2", "2027-03-15T00:00:00Z", "[]");
    assert_true(trace_has(&t, "review", "2027-03-15: metric 26000 keeps 'gold'"));
    /* The next anniversary: 2027-04..2028-03 is empty. */
    expect_tick(&t, "T-3", "2028-03-15T00:00:00Z", "[" REVIEW("gold", "silver", "2028-03-15") "]");
    char since[11];
    assert_int_equal(loy_member_tier_since(t.m, since), LOY_OK);
    assert_string_equal(since, "2028-03-15");
    /* tier_since moved: the next review is 2029-03-15, not before. */
    expect_tick(&t, "T-4", "2029-03-14T00:00:00Z", "[]");
    expect_tick(&t, "T-5", "2029-03-15T00:00:00Z", "[" REVIEW("silver", "member", "2029-03-15") "]");
    /* The entry tier is never reviewed. */
    expect_tick(&t, "T-6", "2035-01-01T00:00:00Z", "[]");
    rig_close(&t);
}

static void test_review_skipped_by_min_hold_never_comes_back(void **state)
{
    (void)state;
    loy_policy *p = load_fmt(SPEND_TIERS, "one_level", 18);
    rig t;
    rig_open(&t, p, "M-H", "2026-01-01");
    order(&t, "O-1", "2026-03-15T10:00:00Z", 30000);
    expect_effects(&t, "[" UPGRADE("member", "gold") "]");
    /* 2027-03-15 is before 2026-03-15 + 18 months = 2027-09-15: skipped,
     * although the metric (0) is far below keep. */
    expect_tick(&t, "T-1", "2027-03-15T00:00:00Z", "[]");
    assert_true(trace_has(&t, "review", "2027-03-15 skipped"));
    /* Past the hold, the skipped date does not come back. */
    expect_tick(&t, "T-2", "2027-12-01T00:00:00Z", "[]");
    expect_tick(&t, "T-3", "2028-03-15T00:00:00Z", "[" REVIEW("gold", "silver", "2028-03-15") "]");
    rig_close(&t);
}

static void test_reviews_catch_up_then_upgrade(void **state)
{
    (void)state;
    loy_policy *p = load_fmt(SPEND_TIERS, "one_level", 0);
    rig t;
    rig_open(&t, p, "M-C", "2026-01-01");
    order(&t, "O-1", "2026-01-10T10:00:00Z", 100000);
    expect_effects(&t, "[" UPGRADE("member", "platinum") "]");
    /* Three anniversaries are due at once; each drop moves tier_since, and
     * the next one counts from it. */
    expect_tick(&t, "T-1", "2029-02-01T00:00:00Z",
                "[" REVIEW("platinum", "gold", "2027-01-10") ", " REVIEW("gold", "silver", "2028-01-10")
                ", " REVIEW("silver", "member", "2029-01-10") "]");
    rig_close(&t);

    /* A review drop and an upgrade in one event. */
    p = load_fmt(SPEND_TIERS, "one_level", 0);
    rig_open(&t, p, "M-C", "2026-01-01");
    order(&t, "O-1", "2026-01-10T10:00:00Z", 100000);
    assert_int_equal(apply(&t), LOY_OK);
    order(&t, "O-2", "2027-01-20T10:00:00Z", 100000);
    expect_effects(&t, "[" REVIEW("platinum", "gold", "2027-01-10") ", " UPGRADE("gold", "platinum") "]");
    rig_close(&t);
}

static void test_review_to_qualified(void **state)
{
    (void)state;
    loy_policy *p = load_fmt(SPEND_TIERS, "to_qualified", 0);
    rig t;
    rig_open(&t, p, "M-Q", "2026-01-01");
    order(&t, "O-1", "2026-01-10T10:00:00Z", 100000);
    assert_int_equal(apply(&t), LOY_OK);
    order(&t, "O-2", "2026-06-01T10:00:00Z", 15000);
    expect_effects(&t, "[]");
    /* As of 2027-01-09 the window 2026-02..2027-01 holds 150: silver. */
    expect_tick(&t, "T-1", "2027-01-10T00:00:00Z", "[" REVIEW("platinum", "silver", "2027-01-10") "]");
    rig_close(&t);
}

static void test_review_calendar_year_with_hold(void **state)
{
    (void)state;
    loy_policy *p = load_policy_text("loyalty_policy: 1\n"
                                     "tiers:\n"
                                     "  qualify_on: spend\n"
                                     "  window: calendar_year\n"
                                     "  review: calendar_year\n"
                                     "  min_hold_months: 6\n"
                                     "  levels:\n"
                                     "    - {id: member}\n"
                                     "    - {id: silver, at: 100}\n"
                                     "    - {id: gold, at: 300}\n");
    rig t;
    rig_open(&t, p, "M-Y", "2026-01-01");
    order(&t, "O-1", "2026-09-01T10:00:00Z", 30000);
    expect_effects(&t, "[" UPGRADE("member", "gold") "]");
    /* 2027-01-01 is before 2026-09-01 + 6 months: skipped. */
    expect_tick(&t, "T-1", "2027-01-01T00:00:00Z", "[]");
    order(&t, "O-2", "2027-05-01T10:00:00Z", 10000);
    expect_effects(&t, "[]");
    /* As of 2027-12-31 the calendar year holds 100 < 300. */
    expect_tick(&t, "T-2", "2027-12-31T23:59:59Z", "[]");
    expect_tick(&t, "T-3", "2028-01-01T00:00:00Z", "[" REVIEW("gold", "silver", "2028-01-01") "]");
    /* The calendar_year window starts again on Jan 1: 2028 holds nothing. */
    assert_int_equal(metric_as_of(&t, "2028-01-01"), 0);
    assert_int_equal(metric_as_of(&t, "2027-12-31"), 10000);
    expect_tick(&t, "T-4", "2029-01-02T00:00:00Z", "[" REVIEW("silver", "member", "2029-01-01") "]");
    rig_close(&t);
}

static void test_feb29_anniversaries(void **state)
{
    (void)state;
    loy_policy *p = load_fmt(SPEND_TIERS, "one_level", 0);
    rig t;
    rig_open(&t, p, "M-F", "2028-01-01");
    order(&t, "O-1", "2028-02-29T10:00:00Z", 10000);
    expect_effects(&t, "[" UPGRADE("member", "silver") "]");
    /* 2028-02-29 + 12 months = 2029-02-28 */
    expect_tick(&t, "T-1", "2029-02-27T23:59:59Z", "[]");
    expect_tick(&t, "T-2", "2029-02-28T00:00:00Z", "[" REVIEW("silver", "member", "2029-02-28") "]");
    rig_close(&t);

    /* Kept every year (lifetime window): anniversaries count from tier_since,
     * so they come back to Feb 29 in a leap year. */
    p = load_policy_text("loyalty_policy: 1\n"
                         "tiers:\n"
                         "  qualify_on: spend\n"
                         "  review: anniversary\n"
                         "  levels:\n"
                         "    - {id: member}\n"
                         "    - {id: silver, at: 100}\n");
    rig_open(&t, p, "M-F", "2028-01-01");
    order(&t, "O-1", "2028-02-29T10:00:00Z", 10000);
    expect_effects(&t, "[" UPGRADE("member", "silver") "]");
    expect_tick(&t, "T-1", "2032-03-01T00:00:00Z", "[]");
    assert_true(trace_has(&t, "review", "2029-02-28: metric"));
    assert_true(trace_has(&t, "review", "2030-02-28: metric"));
    assert_true(trace_has(&t, "review", "2031-02-28: metric"));
    assert_true(trace_has(&t, "review", "2032-02-29: metric"));
    assert_false(trace_has(&t, "review", "2032-02-28"));
    rig_close(&t);
}

/* ----------------------------------------------------------------- metrics */

static void test_windows(void **state)
{
    (void)state;
    loy_policy *p = load_policy_text("loyalty_policy: 1\n"
                                     "tiers:\n"
                                     "  qualify_on: spend\n"
                                     "  window: 3_months\n"
                                     "  levels: [{id: member}, {id: silver, at: 100000}]\n");
    rig t;
    rig_open(&t, p, "M-W", "2026-01-01");
    order(&t, "O-1", "2026-01-15T10:00:00Z", 10000);
    assert_int_equal(apply(&t), LOY_OK);
    order(&t, "O-2", "2026-02-15T10:00:00Z", 20000);
    assert_int_equal(apply(&t), LOY_OK);
    order(&t, "O-3", "2026-03-31T23:59:59Z", 30000);
    assert_int_equal(apply(&t), LOY_OK);
    order(&t, "O-4", "2026-04-01T00:00:00Z", 40000);
    assert_int_equal(apply(&t), LOY_OK);
    /* the 3 calendar months ending with the date's month */
    assert_int_equal(metric_as_of(&t, "2026-03-31"), 60000);
    assert_int_equal(metric_as_of(&t, "2026-04-30"), 90000);
    assert_int_equal(metric_as_of(&t, "2026-06-01"), 40000);
    assert_int_equal(metric_as_of(&t, "2026-07-01"), 0);
    rig_close(&t);

    /* lifetime orders include the imported count */
    p = load_policy_text("loyalty_policy: 1\n"
                         "tiers:\n"
                         "  qualify_on: orders\n"
                         "  levels: [{id: member}, {id: silver, at: 8}]\n");
    rig_open(&t, p, "M-L", "2020-01-01");
    assert_int_equal(loy_member_import_month(t.m, LOY_METRIC_ORDERS, "2025-01", 2), LOY_OK);
    assert_int_equal(loy_member_import_orders(t.m, 7), LOY_OK);
    assert_int_equal(metric_as_of(&t, "2026-01-01"), 7);
    order(&t, "O-1", "2026-01-15T10:00:00Z", 100);
    expect_effects(&t, "[" UPGRADE("member", "silver") "]");
    assert_int_equal(metric_as_of(&t, "2026-01-15"), 8);
    rig_close(&t);
}

/* An order in a month older than the newest bucket (here an imported
 * later month) gets its bucket inserted before it, not appended. */
static void test_order_bucket_before_newest(void **state)
{
    (void)state;
    loy_policy *p = load_policy_text("loyalty_policy: 1\n"
                                     "tiers:\n"
                                     "  qualify_on: orders\n"
                                     "  levels: [{id: regular}, {id: silver, at: 9}]\n");
    rig t;
    rig_open(&t, p, "M-B", "2026-01-01");
    assert_int_equal(loy_member_import_month(t.m, LOY_METRIC_ORDERS, "2026-01", 2), LOY_OK);
    assert_int_equal(loy_member_import_month(t.m, LOY_METRIC_ORDERS, "2026-04", 3), LOY_OK);
    order(&t, "O-1", "2026-02-10T10:00:00Z", 100);
    assert_int_equal(apply(&t), LOY_OK);
    assert_int_equal(month_figure(&t, LOY_METRIC_ORDERS, "2026-01"), 2);
    assert_int_equal(month_figure(&t, LOY_METRIC_ORDERS, "2026-02"), 1);
    assert_int_equal(month_figure(&t, LOY_METRIC_SPEND, "2026-02"), 100);
    assert_int_equal(month_figure(&t, LOY_METRIC_ORDERS, "2026-03"), 0);
    assert_int_equal(month_figure(&t, LOY_METRIC_ORDERS, "2026-04"), 3);
    rig_close(&t);
}

static void test_growth(void **state)
{
    (void)state;
    loy_policy *p = load_policy_text("loyalty_policy: 1\n"
                                     "tiers:\n"
                                     "  qualify_on: growth\n"
                                     "  levels: [{id: regular}, {id: silver, at: 40}]\n"
                                     "growth:\n"
                                     "  per_spend: {amount: 1, growth: 1}\n"
                                     "  per_order: 5\n"
                                     "  actions: {check_in: 1, review: 3}\n"
                                     "points:\n"
                                     "  actions:\n"
                                     "    check_in: {points: 1, limit: {count: 1, per: day}}\n");
    rig t;
    rig_open(&t, p, "M-G", "2026-01-01");
    /* floor(12.34 x 1 / 1) + 5 = 17 */
    order(&t, "O-1", "2026-01-05T10:00:00Z", 1234);
    assert_int_equal(apply(&t), LOY_OK);
    assert_int_equal(metric_as_of(&t, "2026-01-05"), 17);
    /* the second check-in of the day is over its limit: no growth */
    ev_action(&t, "A-1", "2026-01-05T11:00:00Z", "check_in");
    assert_int_equal(apply(&t), LOY_OK);
    ev_action(&t, "A-2", "2026-01-05T12:00:00Z", "check_in");
    assert_int_equal(apply(&t), LOY_OK);
    assert_int_equal(metric_as_of(&t, "2026-01-05"), 18);
    /* review is not under points.actions: counted without limit */
    ev_action(&t, "A-3", "2026-01-05T13:00:00Z", "review");
    assert_int_equal(apply(&t), LOY_OK);
    ev_action(&t, "A-4", "2026-01-05T14:00:00Z", "review");
    assert_int_equal(apply(&t), LOY_OK);
    ev_action(&t, "A-5", "2026-01-06T10:00:00Z", "check_in");
    assert_int_equal(apply(&t), LOY_OK);
    assert_int_equal(metric_as_of(&t, "2026-01-06"), 25);
    /* a return lowers the spend growth only: floor(12.34) = 12 */
    ev_return(&t, "R-1", "2026-01-07T10:00:00Z", 1234, "O-1", "2026-01-05T10:00:00Z", 1234, 0);
    assert_int_equal(apply(&t), LOY_OK);
    assert_int_equal(metric_as_of(&t, "2026-01-07"), 13);
    /* 13 + 30 + 5 = 48 >= 40 */
    order(&t, "O-2", "2026-01-08T10:00:00Z", 3000);
    expect_effects(&t, "[" UPGRADE("regular", "silver") "]");
    rig_close(&t);
}

static void test_returns_lower_the_original_month(void **state)
{
    (void)state;
    loy_policy *p = load_policy_text("loyalty_policy: 1\n"
                                     "tiers:\n"
                                     "  qualify_on: spend\n"
                                     "  window: 12_months\n"
                                     "  exclude: {categories: [gift_card]}\n"
                                     "  levels: [{id: member}, {id: silver, at: 100000}]\n"
                                     "points:\n"
                                     "  earn:\n"
                                     "    rate: {amount: 1, points: 1}\n");
    rig t;
    rig_open(&t, p, "M-R", "2025-01-01");
    assert_int_equal(loy_member_import_month(t.m, LOY_METRIC_SPEND, "2025-12", 10000), LOY_OK);
    /* qualifying 400 (the gift card does not qualify); points on all 500 */
    ev(&t, LOY_EVENT_ORDER, "O-1", "2026-01-10T10:00:00Z");
    ev_line(&t, "C", "coats", 40000);
    ev_line(&t, "GC", "gift_card", 10000);
    assert_int_equal(apply(&t), LOY_OK);
    assert_int_equal(month_figure(&t, LOY_METRIC_SPEND, "2026-01"), 40000);
    assert_int_equal(month_figure(&t, LOY_METRIC_POINTS_EARNED, "2026-01"), 500);
    /* Refund 200 whose lines qualify for 100 only: spend -100;
     * clawback floor(500 x 200/500) = 200 off points_earned. */
    ev_return(&t, "R-1", "2026-02-05T10:00:00Z", 20000, "O-1", "2026-01-10T10:00:00Z", 50000, 500);
    ev_line(&t, "GC", "gift_card", 10000);
    ev_line(&t, "C", "coats", 10000);
    assert_int_equal(apply(&t), LOY_OK);
    assert_int_equal(month_figure(&t, LOY_METRIC_SPEND, "2026-01"), 30000);
    assert_int_equal(month_figure(&t, LOY_METRIC_POINTS_EARNED, "2026-01"), 300);
    /* Without lines the whole refund is qualifying. */
    ev_return(&t, "R-2", "2026-02-06T10:00:00Z", 5000, "O-1", "2026-01-10T10:00:00Z", 50000, 500);
    assert_int_equal(apply(&t), LOY_OK);
    assert_int_equal(month_figure(&t, LOY_METRIC_SPEND, "2026-01"), 25000);
    assert_int_equal(month_figure(&t, LOY_METRIC_POINTS_EARNED, "2026-01"), 250);
    /* The order count stays. */
    assert_int_equal(month_figure(&t, LOY_METRIC_ORDERS, "2026-01"), 1);
    /* A month never goes below 0: 300 refunded against the imported 100. */
    ev_return(&t, "R-3", "2026-02-07T10:00:00Z", 30000, "O-0", "2025-12-20T10:00:00Z", 30000, 0);
    assert_int_equal(apply(&t), LOY_OK);
    assert_int_equal(month_figure(&t, LOY_METRIC_SPEND, "2025-12"), 0);
    assert_int_equal(metric_as_of(&t, "2026-02-07"), 25000);
    /* The tier does not move on a return. */
    expect_member(&t, "{\"tier\": \"member\", \"points\": {\"available\": 250, \"pending\": 0}, \"stage\": null}");
    rig_close(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_upgrade_skips_levels_and_excludes),
        cmocka_unit_test(test_review_keep_then_drops),
        cmocka_unit_test(test_review_skipped_by_min_hold_never_comes_back),
        cmocka_unit_test(test_reviews_catch_up_then_upgrade),
        cmocka_unit_test(test_review_to_qualified),
        cmocka_unit_test(test_review_calendar_year_with_hold),
        cmocka_unit_test(test_feb29_anniversaries),
        cmocka_unit_test(test_windows),
        cmocka_unit_test(test_order_bucket_before_newest),
        cmocka_unit_test(test_growth),
        cmocka_unit_test(test_returns_lower_the_original_month),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
