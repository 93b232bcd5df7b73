/*
 * Conditions (POLICY.md §9) and their reasons (§11.4): every predicate on
 * both sides of its edge, the groups, the forms of every reason, and what a
 * member with no event (§8) sees. Each `when` is a benefit's of the policy
 * below; the context is built by hand, as step 3 would see it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "rules_support.h"

static const char *const COND_POLICY =
    "loyalty_policy: 1\n"
    "currency: {code: CNY, minor_units: 2}\n"
    "tiers:\n"
    "  qualify_on: spend\n"
    "  window: 3_months\n"
    "  levels:\n"
    "    - {id: member}\n"
    "    - {id: silver, at: 1000}\n"
    "    - {id: gold, at: 3000}\n"
    "points:\n"
    "  earn:\n"
    "    rate: {amount: 1, points: 1}\n"
    "    multipliers:\n"
    "      - {id: coats, when: {category: coats}, factor: 2}\n"
    "      - {id: skus, when: {sku: [X-1, X-2]}, factor: 2}\n"
    "gifts:\n"
    "  birthday:\n"
    "    window: {days_before: 3, days_after: 7}\n"
    "    feb29: mar1\n"
    "    by_tier: {member: {coupons: [B]}}\n"
    "paid:\n"
    "  plans:\n"
    "    - {id: annual, fee: 199, months: 12}\n"
    "    - {id: monthly, fee: 19, months: 1}\n"
    "lifecycle:\n"
    "  - {id: active, when: {orders_in_months: {months: 2, at_least: 2}}}\n"
    "  - {id: registered}\n"
    "benefits:\n"
    "  - {id: tier, kind: service, when: {tier: gold}}\n"
    "  - {id: tier-list, kind: service, when: {tier: [silver, gold]}}\n"
    "  - {id: tier-at-least, kind: service, when: {tier_at_least: silver}}\n"
    "  - {id: tier-below, kind: service, when: {tier_below: gold}}\n"
    "  - {id: points, kind: service, when: {points_at_least: 100}}\n"
    "  - {id: paid-active, kind: service, when: {paid: active}}\n"
    "  - {id: paid-none, kind: service, when: {paid: none}}\n"
    "  - {id: paid-annual, kind: service, when: {paid: annual}}\n"
    "  - {id: paid-list, kind: service, when: {paid: [monthly]}}\n"
    "  - {id: member-days, kind: service, when: {member_days_at_least: 30}}\n"
    "  - {id: orders, kind: service, when: {orders_at_least: 2}}\n"
    "  - {id: orders-in-months, kind: service, when: {orders_in_months: {months: 2, at_least: 2}}}\n"
    "  - {id: spend-window, kind: service, when: {spend_in_window_at_least: 100.50}}\n"
    "  - {id: days-since, kind: service, when: {days_since_last_order_at_least: 10}}\n"
    "  - {id: lifecycle, kind: service, when: {lifecycle: active}}\n"
    "  - {id: tags, kind: service, when: {tags: [vip, staff]}}\n"
    "  - {id: tag-one, kind: service, when: {tags: vip}}\n"
    "  - {id: weekday, kind: service, when: {weekday: [sat, sun]}}\n"
    "  - {id: day-of-month, kind: service, when: {day_of_month: [1, 31]}}\n"
    "  - {id: month, kind: service, when: {month: 12}}\n"
    "  - {id: date-between, kind: service, when: {date_between: [2026-11-01, 2026-11-11]}}\n"
    "  - {id: time-day, kind: service, when: {time_between: [\"14:00\", \"16:00\"]}}\n"
    "  - {id: time-night, kind: service, when: {time_between: [\"22:00\", \"02:00\"]}}\n"
    "  - {id: time-never, kind: service, when: {time_between: [\"09:00\", \"09:00\"]}}\n"
    "  - {id: bday-day, kind: service, when: {birthday: day}}\n"
    "  - {id: bday-month, kind: service, when: {birthday: month}}\n"
    "  - {id: bday-window, kind: service, when: {birthday: window}}\n"
    "  - {id: channel, kind: service, when: {channel: [pos, app]}}\n"
    "  - {id: store, kind: service, when: {store: SH-001}}\n"
    "  - {id: order, kind: service, when: {order_at_least: 100}}\n"
    "  - {id: all, kind: service, when: {all: [{tier_at_least: silver}, {tags: vip, points_at_least: 100}]}}\n"
    "  - {id: any, kind: service, when: {any: [{tier: gold}, {tags: [vip]}]}}\n"
    "  - {id: any-empty, kind: service, when: {any: []}}\n"
    "  - {id: not, kind: service, when: {not: {channel: [tmall]}}}\n"
    "  - {id: empty, kind: service, when: {}}\n"
    "  - {id: empty-list, kind: service, when: {tags: []}}\n"
    "  - id: mixed\n"
    "    kind: service\n"
    "    when:\n"
    "      tier_at_least: gold\n"
    "      any: [{month: [1]}, {weekday: mon}]\n"
    "      not: {tags: vip}\n"
    "      all: [{points_at_least: 5}]\n"
    "      orders_in_months: {months: 3, at_least: 1}\n"
    "      date_between: [2026-01-01, 2026-01-31]\n"
    "      time_between: [\"08:05\", \"09:00\"]\n";

static int setup(void **state)
{
    rig *t = calloc(1, sizeof *t);
    rig_open(t, load_policy_text(COND_POLICY), "M-1", "2026-01-10");
    loy_result_begin(t->r);
    *state = t;
    return 0;
}

static int teardown(void **state)
{
    rig_close(*state);
    free(*state);
    return 0;
}

/* The context step 3 of an event at `instant` sees. */
static loy_ctx ctx_at(rig *t, const char *instant)
{
    loy_ctx c;
    memset(&c, 0, sizeof c);
    c.p = t->p;
    c.m = t->m;
    c.r = t->r;
    assert_true(loy_parse_instant(instant, strlen(instant), &c.at));
    c.day = c.at.date;
    c.stage_at_start = t->m->stage;
    return c;
}

static const loy_cond *when_of(rig *t, const char *benefit)
{
    int i = loy_policy_benefit_index(t->p, benefit);
    assert_true(i >= 0);
    return t->p->benefits[i].when;
}

static bool holds(rig *t, loy_ctx *c, const char *benefit)
{
    return loy_cond_holds(c, when_of(t, benefit));
}

/* explain agrees with holds and gives exactly these reasons. */
static void expect_reasons(rig *t, loy_ctx *c, const char *benefit, const char *json)
{
    const loy_cond *w = when_of(t, benefit);
    loy_node *list = rn_list(c->r);
    bool h = loy_cond_explain(c, w, list);
    assert_int_equal(h, loy_cond_holds(c, w));
    assert_int_equal(h, strcmp(json, "[]") == 0);
    assert_node_json(list, json);
}

static void test_tier_predicates(void **state)
{
    rig *t = *state;
    loy_ctx c = ctx_at(t, "2026-03-01T10:00:00+08:00");
    expect_reasons(t, &c, "tier", "[{\"tier\": \"gold\"}]");
    expect_reasons(t, &c, "tier-list", "[{\"tier\": [\"silver\", \"gold\"]}]");
    expect_reasons(t, &c, "tier-at-least", "[{\"tier_at_least\": \"silver\"}]");
    expect_reasons(t, &c, "tier-below", "[]");
    t->m->tier = 1;
    assert_false(holds(t, &c, "tier"));
    assert_true(holds(t, &c, "tier-list"));
    assert_true(holds(t, &c, "tier-at-least"));
    assert_true(holds(t, &c, "tier-below"));
    t->m->tier = 2;
    assert_true(holds(t, &c, "tier"));
    assert_true(holds(t, &c, "tier-list"));
    expect_reasons(t, &c, "tier-below", "[{\"tier_below\": \"gold\"}]");
}

static void test_points_at_least(void **state)
{
    rig *t = *state;
    assert_int_equal(loy_member_import_lot(t->m, 99, "2027-01-31"), LOY_OK);
    loy_ctx c = ctx_at(t, "2026-03-01T10:00:00+08:00");
    expect_reasons(t, &c, "points", "[{\"points_at_least\": 100}]");
    assert_int_equal(loy_member_import_lot(t->m, 1, NULL), LOY_OK);
    expect_reasons(t, &c, "points", "[]");
}

static void test_paid(void **state)
{
    rig *t = *state;
    loy_ctx c = ctx_at(t, "2026-03-01T10:00:00+08:00");
    expect_reasons(t, &c, "paid-active", "[{\"paid\": \"active\"}]");
    expect_reasons(t, &c, "paid-none", "[]");
    expect_reasons(t, &c, "paid-annual", "[{\"paid\": \"annual\"}]");
    expect_reasons(t, &c, "paid-list", "[{\"paid\": [\"monthly\"]}]");
    assert_int_equal(loy_member_import_paid(t->m, "annual", "2026-12-31"), LOY_OK);
    expect_reasons(t, &c, "paid-active", "[]");
    expect_reasons(t, &c, "paid-none", "[{\"paid\": \"none\"}]");
    expect_reasons(t, &c, "paid-annual", "[]");
    expect_reasons(t, &c, "paid-list", "[{\"paid\": [\"monthly\"]}]");
    /* Its last day still runs; after it the plan is over even before step 2
     * of an event has reported its end. */
    c = ctx_at(t, "2026-12-31T23:59:59+08:00");
    assert_true(holds(t, &c, "paid-active"));
    c = ctx_at(t, "2027-01-01T00:00:00+08:00");
    assert_false(holds(t, &c, "paid-active"));
    assert_true(holds(t, &c, "paid-none"));
}

/* orders_in_months stops summing once the threshold is reached
 * (loy_metric_reaches): months before and after the window still count
 * for nothing. */
static void test_orders_in_months_bounds(void **state)
{
    rig *t = *state;
    assert_int_equal(loy_member_import_month(t->m, LOY_METRIC_ORDERS, "2026-02", 3), LOY_OK);
    assert_int_equal(loy_member_import_month(t->m, LOY_METRIC_ORDERS, "2026-03", 5), LOY_OK);
    loy_ctx c = ctx_at(t, "2026-03-15T10:00:00+08:00");   /* Feb + Mar = 8, 2 reached in Feb */
    assert_true(holds(t, &c, "orders-in-months"));
    c = ctx_at(t, "2026-04-15T10:00:00+08:00");           /* Mar + Apr = 5 */
    assert_true(holds(t, &c, "orders-in-months"));
    c = ctx_at(t, "2026-02-15T10:00:00+08:00");           /* Jan + Feb = 3; March is later */
    assert_true(holds(t, &c, "orders-in-months"));
    c = ctx_at(t, "2026-01-15T10:00:00+08:00");           /* Dec + Jan = 0 */
    assert_false(holds(t, &c, "orders-in-months"));
    c = ctx_at(t, "2026-05-15T10:00:00+08:00");           /* Apr + May = 0 */
    assert_false(holds(t, &c, "orders-in-months"));
}

static void test_member_days(void **state)
{
    rig *t = *state;
    /* joined 2026-01-10 */
    loy_ctx c = ctx_at(t, "2026-02-08T23:59:59+08:00");   /* 29 days */
    expect_reasons(t, &c, "member-days", "[{\"member_days_at_least\": 30}]");
    c = ctx_at(t, "2026-02-09T00:00:00+08:00");            /* 30 days */
    expect_reasons(t, &c, "member-days", "[]");
    c = ctx_at(t, "2025-12-01T00:00:00+08:00");            /* before joining */
    assert_false(holds(t, &c, "member-days"));
}

static void test_orders(void **state)
{
    rig *t = *state;
    assert_int_equal(loy_member_import_month(t->m, LOY_METRIC_ORDERS, "2026-01", 1), LOY_OK);
    assert_int_equal(loy_member_import_month(t->m, LOY_METRIC_ORDERS, "2026-03", 1), LOY_OK);
    assert_int_equal(loy_member_import_month(t->m, LOY_METRIC_ORDERS, "2026-04", 1), LOY_OK);
    loy_ctx c = ctx_at(t, "2026-04-15T10:00:00+08:00");
    /* lifetime orders: the sum of the months imported */
    expect_reasons(t, &c, "orders", "[]");
    /* orders_in_months 2: March + April */
    expect_reasons(t, &c, "orders-in-months", "[]");
    c = ctx_at(t, "2026-03-15T10:00:00+08:00");           /* Feb + Mar = 1 */
    expect_reasons(t, &c, "orders-in-months", "[{\"orders_in_months\": {\"months\": 2, \"at_least\": 2}}]");
    c = ctx_at(t, "2026-02-15T10:00:00+08:00");           /* Jan + Feb = 1 */
    assert_false(holds(t, &c, "orders-in-months"));
    c = ctx_at(t, "2026-05-01T00:00:00+08:00");           /* Apr + May = 1 */
    assert_false(holds(t, &c, "orders-in-months"));
}

static void test_orders_imported_count(void **state)
{
    rig *t = *state;
    assert_int_equal(loy_member_import_orders(t->m, 1), LOY_OK);
    loy_ctx c = ctx_at(t, "2026-04-15T10:00:00+08:00");
    expect_reasons(t, &c, "orders", "[{\"orders_at_least\": 2}]");
    t->m->orders = 2;
    expect_reasons(t, &c, "orders", "[]");
}

static void test_spend_in_window(void **state)
{
    rig *t = *state;
    assert_int_equal(loy_member_import_month(t->m, LOY_METRIC_SPEND, "2026-01", 10000), LOY_OK);
    assert_int_equal(loy_member_import_month(t->m, LOY_METRIC_SPEND, "2026-03", 50), LOY_OK);
    loy_ctx c = ctx_at(t, "2026-03-20T10:00:00+08:00");   /* Jan..Mar: 10050 */
    expect_reasons(t, &c, "spend-window", "[]");
    c = ctx_at(t, "2026-04-01T10:00:00+08:00");           /* Feb..Apr: 50 */
    expect_reasons(t, &c, "spend-window", "[{\"spend_in_window_at_least\": 10050}]");
}

static void test_days_since_last_order(void **state)
{
    rig *t = *state;
    /* no order: counted from joining (2026-01-10) */
    loy_ctx c = ctx_at(t, "2026-01-19T10:00:00+08:00");
    expect_reasons(t, &c, "days-since", "[{\"days_since_last_order_at_least\": 10}]");
    c = ctx_at(t, "2026-01-20T10:00:00+08:00");
    expect_reasons(t, &c, "days-since", "[]");
    assert_int_equal(loy_member_import_last_order(t->m, "2026-03-01"), LOY_OK);
    c = ctx_at(t, "2026-03-10T10:00:00+08:00");
    assert_false(holds(t, &c, "days-since"));
    c = ctx_at(t, "2026-03-11T10:00:00+08:00");
    assert_true(holds(t, &c, "days-since"));
}

static void test_lifecycle_predicate(void **state)
{
    rig *t = *state;
    loy_ctx c = ctx_at(t, "2026-03-01T10:00:00+08:00");
    c.stage_at_start = loy_policy_stage_index(t->p, "active");
    expect_reasons(t, &c, "lifecycle", "[]");
    /* the stage at the start of the event, not the member's stage now */
    t->m->stage = loy_policy_stage_index(t->p, "registered");
    assert_true(holds(t, &c, "lifecycle"));
    c.stage_at_start = loy_policy_stage_index(t->p, "registered");
    expect_reasons(t, &c, "lifecycle", "[{\"lifecycle\": \"active\"}]");
}

static void test_tags(void **state)
{
    rig *t = *state;
    loy_ctx c = ctx_at(t, "2026-03-01T10:00:00+08:00");
    expect_reasons(t, &c, "tags", "[{\"tags\": [\"vip\", \"staff\"]}]");
    expect_reasons(t, &c, "tag-one", "[{\"tags\": \"vip\"}]");
    expect_reasons(t, &c, "empty-list", "[{\"tags\": []}]");
    assert_int_equal(loy_member_add_tag(t->m, "staff"), LOY_OK);
    expect_reasons(t, &c, "tags", "[]");
    assert_false(holds(t, &c, "tag-one"));
    assert_false(holds(t, &c, "empty-list"));
}

static void test_calendar_predicates(void **state)
{
    rig *t = *state;
    loy_ctx c = ctx_at(t, "2026-11-13T10:00:00+08:00");   /* Friday */
    expect_reasons(t, &c, "weekday", "[{\"weekday\": [\"sat\", \"sun\"]}]");
    c = ctx_at(t, "2026-11-14T10:00:00+08:00");           /* Saturday */
    assert_true(holds(t, &c, "weekday"));
    c = ctx_at(t, "2026-11-15T23:59:59+08:00");           /* Sunday */
    assert_true(holds(t, &c, "weekday"));

    c = ctx_at(t, "2026-02-28T10:00:00+08:00");
    expect_reasons(t, &c, "day-of-month", "[{\"day_of_month\": [1, 31]}]");
    c = ctx_at(t, "2026-01-31T10:00:00+08:00");
    assert_true(holds(t, &c, "day-of-month"));
    c = ctx_at(t, "2026-03-01T00:00:00+08:00");
    assert_true(holds(t, &c, "day-of-month"));

    c = ctx_at(t, "2026-11-30T23:59:59+08:00");
    expect_reasons(t, &c, "month", "[{\"month\": 12}]");
    c = ctx_at(t, "2026-12-01T00:00:00+08:00");
    assert_true(holds(t, &c, "month"));

    c = ctx_at(t, "2026-10-31T23:59:59+08:00");
    expect_reasons(t, &c, "date-between", "[{\"date_between\": [\"2026-11-01\", \"2026-11-11\"]}]");
    c = ctx_at(t, "2026-11-01T00:00:00+08:00");
    assert_true(holds(t, &c, "date-between"));
    c = ctx_at(t, "2026-11-11T23:59:59+08:00");
    assert_true(holds(t, &c, "date-between"));
    c = ctx_at(t, "2026-11-12T00:00:00+08:00");
    assert_false(holds(t, &c, "date-between"));
}

static void test_time_between(void **state)
{
    rig *t = *state;
    static const struct { const char *at; bool day, night; } cases[] = {
        {"2026-03-01T13:59:59+08:00", false, false},
        {"2026-03-01T14:00:00+08:00", true, false},
        {"2026-03-01T15:59:59.999+08:00", true, false},
        {"2026-03-01T16:00:00+08:00", false, false},
        {"2026-03-01T21:59:59+08:00", false, false},
        {"2026-03-01T22:00:00+08:00", false, true},
        {"2026-03-01T23:59:59+08:00", false, true},
        {"2026-03-02T00:00:00+08:00", false, true},
        {"2026-03-02T01:59:59+08:00", false, true},
        {"2026-03-02T02:00:00+08:00", false, false},
        {"2026-03-02T12:00:00+08:00", false, false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        loy_ctx c = ctx_at(t, cases[i].at);
        assert_int_equal(holds(t, &c, "time-day"), cases[i].day);
        assert_int_equal(holds(t, &c, "time-night"), cases[i].night);
    }
    loy_ctx c = ctx_at(t, "2026-03-01T09:00:00+08:00");
    expect_reasons(t, &c, "time-never", "[{\"time_between\": [\"09:00\", \"09:00\"]}]");
    c = ctx_at(t, "2026-03-01T03:00:00+08:00");
    expect_reasons(t, &c, "time-night", "[{\"time_between\": [\"22:00\", \"02:00\"]}]");
    /* the local time as written, whatever the offset */
    c = ctx_at(t, "2026-03-01T14:30:00-05:00");
    assert_true(holds(t, &c, "time-day"));
}

static void test_birthday_feb29_mar1(void **state)
{
    rig *t = *state;
    assert_int_equal(loy_member_set_birthday(t->m, "2000-02-29"), LOY_OK);
    /* 2026 has no Feb 29: with feb29: mar1 the birthday is March 1 */
    loy_ctx c = ctx_at(t, "2026-03-01T10:00:00+08:00");
    assert_true(holds(t, &c, "bday-day"));
    assert_true(holds(t, &c, "bday-month"));
    c = ctx_at(t, "2026-02-28T10:00:00+08:00");
    expect_reasons(t, &c, "bday-day", "[{\"birthday\": \"day\"}]");
    expect_reasons(t, &c, "bday-month", "[{\"birthday\": \"month\"}]");
    c = ctx_at(t, "2026-03-31T10:00:00+08:00");
    assert_true(holds(t, &c, "bday-month"));
    /* window: 3 days before to 7 after March 1 */
    c = ctx_at(t, "2026-02-25T10:00:00+08:00");
    expect_reasons(t, &c, "bday-window", "[{\"birthday\": \"window\"}]");
    c = ctx_at(t, "2026-02-26T10:00:00+08:00");
    assert_true(holds(t, &c, "bday-window"));
    c = ctx_at(t, "2026-03-08T10:00:00+08:00");
    assert_true(holds(t, &c, "bday-window"));
    c = ctx_at(t, "2026-03-09T10:00:00+08:00");
    assert_false(holds(t, &c, "bday-window"));
    /* 2028 has a Feb 29 */
    c = ctx_at(t, "2028-02-29T10:00:00+08:00");
    assert_true(holds(t, &c, "bday-day"));
    assert_true(holds(t, &c, "bday-month"));
    c = ctx_at(t, "2028-03-01T10:00:00+08:00");
    assert_false(holds(t, &c, "bday-day"));
    assert_false(holds(t, &c, "bday-month"));
    c = ctx_at(t, "2028-03-07T10:00:00+08:00");            /* Feb 29 + 7 */
    assert_true(holds(t, &c, "bday-window"));
    c = ctx_at(t, "2028-03-08T10:00:00+08:00");
    assert_false(holds(t, &c, "bday-window"));
    assert_int_equal(loy_birthday_in_year(t->p, t->m->birthday, 2026), loy_day_from_ymd(2026, 3, 1));
    assert_int_equal(loy_birthday_in_year(t->p, t->m->birthday, 2028), loy_day_from_ymd(2028, 2, 29));
}

static void test_birthday_window_crosses_year_end(void **state)
{
    rig *t = *state;
    assert_int_equal(loy_member_set_birthday(t->m, "1990-01-02"), LOY_OK);
    int32_t year = 0;
    loy_ctx c = ctx_at(t, "2026-12-29T10:00:00+08:00");
    assert_false(holds(t, &c, "bday-window"));
    assert_false(loy_birthday_occurrence(t->p, t->m->birthday, c.day, &year));
    c = ctx_at(t, "2026-12-30T10:00:00+08:00");
    assert_true(holds(t, &c, "bday-window"));
    assert_true(loy_birthday_occurrence(t->p, t->m->birthday, c.day, &year));
    assert_int_equal(year, 2027);
    c = ctx_at(t, "2027-01-09T10:00:00+08:00");
    assert_true(loy_birthday_occurrence(t->p, t->m->birthday, c.day, &year));
    assert_int_equal(year, 2027);
    c = ctx_at(t, "2027-01-10T10:00:00+08:00");
    assert_false(holds(t, &c, "bday-window"));

    /* a late-December birthday's window reaches into January */
    t->m->birthday = loy_day_from_ymd(1990, 12, 28);
    c = ctx_at(t, "2027-01-04T10:00:00+08:00");
    assert_true(loy_birthday_occurrence(t->p, t->m->birthday, c.day, &year));
    assert_int_equal(year, 2026);
    c = ctx_at(t, "2027-01-05T10:00:00+08:00");
    assert_false(holds(t, &c, "bday-window"));
    c = ctx_at(t, "2027-12-25T10:00:00+08:00");
    assert_true(loy_birthday_occurrence(t->p, t->m->birthday, c.day, &year));
    assert_int_equal(year, 2027);
}

static void test_birthday_default_feb28(void **state)
{
    LOY_UNUSED(state);
    /* no gifts.birthday: a Feb 29 birthday falls on Feb 28 and the window
     * is the birthday month */
    loy_policy *p = load_policy_file("minimal.yaml");
    loy_day b = loy_day_from_ymd(2004, 2, 29);
    int32_t year = 0;
    assert_int_equal(loy_birthday_in_year(p, b, 2027), loy_day_from_ymd(2027, 2, 28));
    assert_int_equal(loy_birthday_in_year(p, b, 2028), loy_day_from_ymd(2028, 2, 29));
    assert_true(loy_birthday_occurrence(p, b, loy_day_from_ymd(2027, 2, 1), &year));
    assert_int_equal(year, 2027);
    assert_false(loy_birthday_occurrence(p, b, loy_day_from_ymd(2027, 3, 1), &year));
    loy_policy_free(p);
}

static void test_no_birthday_never_holds(void **state)
{
    rig *t = *state;
    loy_ctx c = ctx_at(t, "2026-01-02T10:00:00+08:00");
    assert_false(holds(t, &c, "bday-day"));
    assert_false(holds(t, &c, "bday-month"));
    assert_false(holds(t, &c, "bday-window"));
}

static void test_channel_store(void **state)
{
    rig *t = *state;
    loy_ctx c = ctx_at(t, "2026-03-01T10:00:00+08:00");
    expect_reasons(t, &c, "channel", "[{\"channel\": [\"pos\", \"app\"]}]");
    expect_reasons(t, &c, "store", "[{\"store\": \"SH-001\"}]");
    c.channel = "web";
    c.store = "SH-002";
    assert_false(holds(t, &c, "channel"));
    assert_false(holds(t, &c, "store"));
    c.channel = "app";
    c.store = "SH-001";
    assert_true(holds(t, &c, "channel"));
    assert_true(holds(t, &c, "store"));
}

static void test_order_at_least(void **state)
{
    rig *t = *state;
    loy_ctx c = ctx_at(t, "2026-03-01T10:00:00+08:00");
    c.order_spend = 50000;                       /* not an order: never */
    expect_reasons(t, &c, "order", "[{\"order_at_least\": 10000}]");
    c.is_order = true;
    c.order_spend = 9999;
    assert_false(holds(t, &c, "order"));
    c.order_spend = 10000;
    assert_true(holds(t, &c, "order"));
}

static void test_line_predicates(void **state)
{
    rig *t = *state;
    const loy_cond *coats = t->p->points.multipliers[0].when;
    const loy_cond *skus = t->p->points.multipliers[1].when;
    loy_ctx c = ctx_at(t, "2026-03-01T10:00:00+08:00");
    c.is_order = true;
    assert_false(loy_cond_holds(&c, coats));   /* no line */
    loy_line line;
    memset(&line, 0, sizeof line);
    line.category.s = (char *)"coats";
    line.category.len = 5;
    line.category.set = true;
    c.line = &line;
    assert_true(loy_cond_holds(&c, coats));
    assert_false(loy_cond_holds(&c, skus));
    line.sku.s = (char *)"X-2";
    line.sku.len = 3;
    line.sku.set = true;
    line.category.set = false;
    assert_false(loy_cond_holds(&c, coats));
    assert_true(loy_cond_holds(&c, skus));
}

static void test_groups(void **state)
{
    rig *t = *state;
    loy_ctx c = ctx_at(t, "2026-03-01T10:00:00+08:00");
    c.channel = "tmall";
    /* a failed all: its failed maps' reasons in place */
    expect_reasons(t, &c, "all",
                   "[{\"tier_at_least\": \"silver\"}, {\"tags\": \"vip\"}, {\"points_at_least\": 100}]");
    /* a failed any: the whole list as written */
    expect_reasons(t, &c, "any", "[{\"any\": [{\"tier\": \"gold\"}, {\"tags\": [\"vip\"]}]}]");
    expect_reasons(t, &c, "any-empty", "[{\"any\": []}]");
    /* a failed not: its map */
    expect_reasons(t, &c, "not", "[{\"not\": {\"channel\": [\"tmall\"]}}]");
    expect_reasons(t, &c, "empty", "[]");
    c.channel = NULL;
    expect_reasons(t, &c, "not", "[]");
    assert_int_equal(loy_member_add_tag(t->m, "vip"), LOY_OK);
    expect_reasons(t, &c, "any", "[]");
    expect_reasons(t, &c, "all", "[{\"tier_at_least\": \"silver\"}, {\"points_at_least\": 100}]");
    t->m->tier = 1;
    assert_int_equal(loy_member_import_lot(t->m, 100, NULL), LOY_OK);
    expect_reasons(t, &c, "all", "[]");
}

static void test_reasons_follow_policy_order(void **state)
{
    rig *t = *state;
    assert_int_equal(loy_member_add_tag(t->m, "vip"), LOY_OK);
    /* Tuesday, February: everything in `mixed` fails */
    loy_ctx c = ctx_at(t, "2026-02-10T10:00:00+08:00");
    expect_reasons(t, &c, "mixed",
                   "[{\"tier_at_least\": \"gold\"},"
                   " {\"any\": [{\"month\": [1]}, {\"weekday\": \"mon\"}]},"
                   " {\"not\": {\"tags\": \"vip\"}},"
                   " {\"points_at_least\": 5},"
                   " {\"orders_in_months\": {\"months\": 3, \"at_least\": 1}},"
                   " {\"date_between\": [\"2026-01-01\", \"2026-01-31\"]},"
                   " {\"time_between\": [\"08:05\", \"09:00\"]}]");
}

static void test_no_event_holds_nothing_of_an_event(void **state)
{
    rig *t = *state;
    assert_int_equal(loy_member_set_birthday(t->m, "1990-11-01"), LOY_OK);
    assert_int_equal(loy_member_add_tag(t->m, "vip"), LOY_OK);
    assert_int_equal(loy_member_import_orders(t->m, 2), LOY_OK);
    /* a Sunday, the 1st, 15:00, on the birthday, in the date range */
    loy_ctx c = ctx_at(t, "2026-11-01T15:00:00+08:00");
    c.channel = "pos";
    c.store = "SH-001";
    c.stage_at_start = loy_policy_stage_index(t->p, "active");
    c.is_order = true;
    c.order_spend = 100000;
    static const char *const event_bound[] = {
        "channel", "store", "weekday", "day-of-month", "date-between", "time-day",
        "bday-day", "bday-month", "bday-window", "lifecycle", "order"};
    for (size_t i = 0; i < sizeof event_bound / sizeof event_bound[0]; i++)
        assert_true(holds(t, &c, event_bound[i]));
    c.no_event = true;
    for (size_t i = 0; i < sizeof event_bound / sizeof event_bound[0]; i++)
        assert_false(holds(t, &c, event_bound[i]));
    /* `not` of such a predicate therefore holds */
    c.channel = "tmall";
    assert_true(holds(t, &c, "not"));
    /* the member's own figures still count */
    assert_true(holds(t, &c, "tags"));
    assert_true(holds(t, &c, "orders"));
    assert_true(holds(t, &c, "member-days"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_tier_predicates, setup, teardown),
        cmocka_unit_test_setup_teardown(test_points_at_least, setup, teardown),
        cmocka_unit_test_setup_teardown(test_paid, setup, teardown),
        cmocka_unit_test_setup_teardown(test_member_days, setup, teardown),
        cmocka_unit_test_setup_teardown(test_orders, setup, teardown),
        cmocka_unit_test_setup_teardown(test_orders_imported_count, setup, teardown),
        cmocka_unit_test_setup_teardown(test_spend_in_window, setup, teardown),
        cmocka_unit_test_setup_teardown(test_days_since_last_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lifecycle_predicate, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tags, setup, teardown),
        cmocka_unit_test_setup_teardown(test_calendar_predicates, setup, teardown),
        cmocka_unit_test_setup_teardown(test_time_between, setup, teardown),
        cmocka_unit_test_setup_teardown(test_birthday_feb29_mar1, setup, teardown),
        cmocka_unit_test_setup_teardown(test_birthday_window_crosses_year_end, setup, teardown),
        cmocka_unit_test(test_birthday_default_feb28),
        cmocka_unit_test_setup_teardown(test_no_birthday_never_holds, setup, teardown),
        cmocka_unit_test_setup_teardown(test_channel_store, setup, teardown),
        cmocka_unit_test_setup_teardown(test_order_at_least, setup, teardown),
        cmocka_unit_test_setup_teardown(test_line_predicates, setup, teardown),
        cmocka_unit_test_setup_teardown(test_groups, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reasons_follow_policy_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_event_holds_nothing_of_an_event, setup, teardown),
        cmocka_unit_test_setup_teardown(test_orders_in_months_bounds, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
