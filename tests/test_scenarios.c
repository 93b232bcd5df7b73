/*
 * A year and more of one member under each reference policy: signup, first
 * order, upgrades, birthday, returns, benefits, plans, expiry and review.
 * Every effect is asserted by value; each figure is derived by hand from
 * POLICY.md in the comment beside it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "rules_support.h"

static void action(rig *t, const char *id, const char *at, const char *kind)
{
    ev(t, LOY_EVENT_ACTION, id, at);
    assert_int_equal(loy_event_set_kind(t->e, kind), LOY_OK);
}

static void channel(rig *t, const char *ch)
{
    assert_int_equal(loy_event_set_channel(t->e, ch), LOY_OK);
}

static void use(rig *t, const char *id, const char *at, const char *benefit)
{
    ev(t, LOY_EVENT_USE_BENEFIT, id, at);
    assert_int_equal(loy_event_set_benefit(t->e, benefit), LOY_OK);
}

/* ------------------------------------------------------------------ apparel */

static void test_apparel_year(void **state)
{
    LOY_UNUSED(state);
    rig t;
    /* XXH3-64("M-0063:new-fabric-trial") mod 10000 = 197 < 500 (5%): sampled */
    rig_open(&t, load_policy_file("apparel.yaml"), "M-0063", "2026-01-05");
    assert_int_equal(loy_member_set_birthday(t.m, "1991-04-12"), LOY_OK);
    assert_string_equal(loy_member_stage(t.m), "registered");

    /* signup: 100 points, last day of 2026-01 + 12 months */
    action(&t, "A-1", "2026-01-05T10:00:00+08:00", "signup");
    expect_effects(&t, "[{\"type\": \"points\", \"delta\": 100, \"source\": \"action\", \"kind\": \"signup\","
                       " \"expires\": \"2027-01-31\"}]");

    /* first order: 450.00 eligible (shipping excluded from points) = 450
     * points, pending 7 days; qualifying 460.00 < silver's 1000 */
    ev(&t, LOY_EVENT_ORDER, "O-1", "2026-01-20T14:00:00+08:00");
    channel(&t, "app");
    ev_line(&t, "SHIRT-1", "shirts", 45000);
    ev_line(&t, "SF", "shipping", 1000);
    expect_effects(&t,
        "[{\"type\": \"points\", \"delta\": 450, \"source\": \"order\", \"pending_until\": \"2026-01-27\","
        "  \"expires\": \"2027-01-31\", \"rules\": []},"
        " {\"type\": \"stage_changed\", \"from\": \"registered\", \"to\": \"first\"}]");
    expect_member(&t, "{\"tier\": \"member\", \"points\": {\"available\": 100, \"pending\": 450}, \"stage\": \"first\"}");

    /* member day (8th): 800.00 of coats x 2 = 1600; qualifying 800.00 (gift
     * card excluded): 460 + 800 = 1260 >= 1000: silver and its 200 points;
     * March and silver: the 5% linen trial, drawn 197 */
    ev(&t, LOY_EVENT_ORDER, "O-2", "2026-03-08T11:00:00+08:00");
    channel(&t, "pos");
    assert_int_equal(loy_event_set_store(t.e, "SH-001"), LOY_OK);
    ev_line(&t, "COAT-1", "coats", 80000);
    ev_line(&t, "GC", "gift_card", 20000);
    expect_effects(&t,
        "[{\"type\": \"points_released\", \"points\": 450, \"order\": \"O-1\"},"
        " {\"type\": \"points\", \"delta\": 1600, \"source\": \"order\", \"pending_until\": \"2026-03-15\","
        "  \"expires\": \"2027-03-31\", \"rules\": [\"member_day\"]},"
        " {\"type\": \"tier_changed\", \"from\": \"member\", \"to\": \"silver\", \"reason\": \"upgrade\"},"
        " {\"type\": \"gift\", \"gift\": \"upgrade\", \"tier\": \"silver\", \"reward\": {\"points\": 200}},"
        " {\"type\": \"points\", \"delta\": 200, \"source\": \"upgrade\", \"expires\": \"2027-03-31\"},"
        " {\"type\": \"gift\", \"gift\": \"surprise\", \"id\": \"new-fabric-trial\","
        "  \"reward\": {\"coupons\": [\"TRIAL-LINEN\"]}},"
        " {\"type\": \"stage_changed\", \"from\": \"first\", \"to\": \"repeat\"}]");

    assert_int_equal(query(&t, "2026-03-09T10:00:00+08:00", "pos", NULL), LOY_OK);
    assert_node_json(root_get(&t, "benefits"),
        "[{\"id\": \"member-price\", \"kind\": \"purchase\", \"open\": true, \"value\": 0.95},"
        " {\"id\": \"free-shipping\", \"kind\": \"service\", \"open\": false, \"reasons\": [{\"tier_at_least\": \"gold\"}]},"
        " {\"id\": \"alteration\", \"kind\": \"service\", \"open\": false, \"reasons\": [{\"tier_at_least\": \"gold\"}]},"
        " {\"id\": \"stylist\", \"kind\": \"service\", \"open\": false, \"reasons\": [{\"tier_at_least\": \"platinum\"}]},"
        " {\"id\": \"designer-salon\", \"kind\": \"activity\", \"open\": false,"
        "  \"reasons\": [{\"tier_at_least\": \"platinum\"}, {\"points_at_least\": 1000}]},"
        " {\"id\": \"preview-launch\", \"kind\": \"product\", \"open\": false,"
        "  \"reasons\": [{\"any\": [{\"tier_at_least\": \"gold\"}, {\"tags\": [\"vip-list\"]}]}]},"
        " {\"id\": \"staff-discount\", \"kind\": \"purchase\", \"open\": false, \"reasons\": [{\"tags\": [\"employee\"]}]}]");
    expect_member(&t, "{\"tier\": \"silver\", \"points\": {\"available\": 750, \"pending\": 1600}, \"stage\": \"repeat\"}");

    /* birthday: silver 1.2 x birthday month 2 = 2.4: 1500 x 2.4 = 3600;
     * 460 + 800 + 1500 = 2760 < gold's 3000; 97 days a member >= 30:
     * member's gift, silver having none */
    ev(&t, LOY_EVENT_ORDER, "O-3", "2026-04-12T15:00:00+08:00");
    channel(&t, "app");
    ev_line(&t, "DRESS", "dresses", 150000);
    expect_effects(&t,
        "[{\"type\": \"points_released\", \"points\": 1600, \"order\": \"O-2\"},"
        " {\"type\": \"points\", \"delta\": 3600, \"source\": \"order\", \"pending_until\": \"2026-04-19\","
        "  \"expires\": \"2027-04-30\", \"rules\": [\"tier_bonus\", \"birthday_month\"]},"
        " {\"type\": \"gift\", \"gift\": \"birthday\", \"tier\": \"member\", \"year\": 2026,"
        "  \"reward\": {\"coupons\": [\"BDAY-20\"]}}]");

    /* a third back: floor(3600 x 500 / 1500) = 1200, from available points
     * (the order's were released in step 2), soonest-expiring first */
    ev(&t, LOY_EVENT_RETURN, "R-1", "2026-04-20T10:00:00+08:00");
    assert_int_equal(loy_event_set_amount(t.e, 50000), LOY_OK);
    assert_int_equal(loy_event_set_original(t.e, "O-3", "2026-04-12T15:00:00+08:00", 150000, 3600), LOY_OK);
    ev_line(&t, "DRESS", "dresses", 50000);
    expect_effects(&t,
        "[{\"type\": \"points_released\", \"points\": 3600, \"order\": \"O-3\"},"
        " {\"type\": \"points\", \"delta\": -1200, \"source\": \"return\", \"order\": \"O-3\"}]");
    expect_member(&t, "{\"tier\": \"silver\", \"points\": {\"available\": 4750, \"pending\": 0}, \"stage\": \"repeat\"}");

    action(&t, "A-2", "2026-05-02T10:00:00+08:00", "review");
    expect_effects(&t, "[{\"type\": \"points\", \"delta\": 10, \"source\": \"action\", \"kind\": \"review\","
                       " \"expires\": \"2027-05-31\"}]");

    /* 800 x 2.4 = 1920; 460 + 800 + 1000 (after the return) + 800 = 3060
     * >= 3000: gold; 4 orders in 12 months: loyal */
    ev(&t, LOY_EVENT_ORDER, "O-4", "2026-06-18T19:00:00+08:00");
    channel(&t, "pos");
    ev_line(&t, "COAT-2", "coats", 60000);
    ev_line(&t, "SCARF", "scarves", 20000);
    expect_effects(&t,
        "[{\"type\": \"points\", \"delta\": 1920, \"source\": \"order\", \"pending_until\": \"2026-06-25\","
        "  \"expires\": \"2027-06-30\", \"rules\": [\"tier_bonus\", \"member_day\"]},"
        " {\"type\": \"tier_changed\", \"from\": \"silver\", \"to\": \"gold\", \"reason\": \"upgrade\"},"
        " {\"type\": \"gift\", \"gift\": \"upgrade\", \"tier\": \"gold\","
        "  \"reward\": {\"points\": 500, \"coupons\": [\"GOLD-WELCOME-100\"]}},"
        " {\"type\": \"points\", \"delta\": 500, \"source\": \"upgrade\", \"expires\": \"2027-06-30\"},"
        " {\"type\": \"stage_changed\", \"from\": \"repeat\", \"to\": \"loyal\"}]");

    use(&t, "U-1", "2026-07-01T10:00:00+08:00", "alteration");
    expect_effects(&t,
        "[{\"type\": \"points_released\", \"points\": 1920, \"order\": \"O-4\"},"
        " {\"type\": \"benefit_used\", \"benefit\": \"alteration\"}]");
    use(&t, "U-2", "2026-07-02T10:00:00+08:00", "designer-salon");
    expect_refused(&t, LOY_E_BENEFIT_NOT_OPEN);
    assert_node_json(refusal_reasons(&t), "[{\"tier_at_least\": \"platinum\"}]");

    /* 3000 points = 30.00, within 30% of 200.00 */
    ev(&t, LOY_EVENT_REDEEM, "X-1", "2026-07-03T10:00:00+08:00");
    assert_int_equal(loy_event_set_points(t.e, 3000), LOY_OK);
    assert_int_equal(loy_event_set_order_amount(t.e, 20000), LOY_OK);
    expect_effects(&t, "[{\"type\": \"points\", \"delta\": -3000, \"source\": \"redeem\", \"value\": 3000}]");
    expect_member(&t, "{\"tier\": \"gold\", \"points\": {\"available\": 4180, \"pending\": 0}, \"stage\": \"loyal\"}");

    /* Singles' week: gold 1.5 x member day 2 x new season 1.5 = 4.5:
     * 2500 x 4.5 = 11250; 5560 >= 5000: platinum; the crab box (platinum,
     * Nov 1-11, 100%); 2500.00 in November >= 2000: the monthly credit */
    ev(&t, LOY_EVENT_ORDER, "O-5", "2026-11-08T20:00:00+08:00");
    channel(&t, "app");
    ev_line(&t, "COAT-3", "coats", 250000);
    expect_effects(&t,
        "[{\"type\": \"points\", \"delta\": 11250, \"source\": \"order\", \"pending_until\": \"2026-11-15\","
        "  \"expires\": \"2027-11-30\", \"rules\": [\"tier_bonus\", \"member_day\", \"new_season\"]},"
        " {\"type\": \"tier_changed\", \"from\": \"gold\", \"to\": \"platinum\", \"reason\": \"upgrade\"},"
        " {\"type\": \"gift\", \"gift\": \"upgrade\", \"tier\": \"platinum\","
        "  \"reward\": {\"coupons\": [\"PLAT-WELCOME-300\"], \"items\": [\"SCARF-CASHMERE\"]}},"
        " {\"type\": \"gift\", \"gift\": \"surprise\", \"id\": \"crab-season\", \"reward\": {\"items\": [\"HAIRY-CRAB-BOX\"]}},"
        " {\"type\": \"gift\", \"gift\": \"spend\", \"id\": \"monthly-credit\", \"period\": \"2026-11\","
        "  \"reward\": {\"credit\": 5000}}]");

    use(&t, "U-3", "2026-11-20T10:00:00+08:00", "designer-salon");
    expect_effects(&t,
        "[{\"type\": \"points_released\", \"points\": 11250, \"order\": \"O-5\"},"
        " {\"type\": \"benefit_used\", \"benefit\": \"designer-salon\"}]");

    /* the 2027 birthday as platinum; orders in the 12 months to April: 2,
     * so no longer loyal */
    expect_tick(&t, "T-1", "2027-04-12T09:00:00+08:00",
        "[{\"type\": \"gift\", \"gift\": \"birthday\", \"tier\": \"platinum\", \"year\": 2027,"
        "  \"reward\": {\"coupons\": [\"BDAY-200\"], \"points\": 800, \"items\": [\"CAKE-VOUCHER\"]}},"
        " {\"type\": \"points\", \"delta\": 800, \"source\": \"birthday\", \"expires\": \"2028-04-30\"},"
        " {\"type\": \"stage_changed\", \"from\": \"loyal\", \"to\": \"repeat\"}]");

    /* lots left after the return and the redemption took the soonest ones:
     * 1750 (Apr), 10 (May), 1920 + 500 (Jun), 11250 (Nov), 800 (2028-04) */
    expect_tick(&t, "T-2", "2027-05-01T00:00:00+08:00",
        "[{\"type\": \"points\", \"delta\": -1750, \"source\": \"expiry\", \"expires\": \"2027-04-30\"}]");

    /* anniversary review 2027-11-08 (hold of 12 months met): nothing spent in
     * Dec 2026..Nov 2027, below platinum's keep: one level down; 366 days
     * since the last order: dormant */
    expect_tick(&t, "T-3", "2027-11-09T09:00:00+08:00",
        "[{\"type\": \"points\", \"delta\": -10, \"source\": \"expiry\", \"expires\": \"2027-05-31\"},"
        " {\"type\": \"points\", \"delta\": -2420, \"source\": \"expiry\", \"expires\": \"2027-06-30\"},"
        " {\"type\": \"tier_changed\", \"from\": \"platinum\", \"to\": \"gold\", \"reason\": \"review\","
        "  \"review_date\": \"2027-11-08\"},"
        " {\"type\": \"stage_changed\", \"from\": \"repeat\", \"to\": \"dormant\"}]");
    expect_member(&t, "{\"tier\": \"gold\", \"points\": {\"available\": 12050, \"pending\": 0}, \"stage\": \"dormant\"}");
    rig_close(&t);
}

/* ------------------------------------------------------------------ grocery */

static void test_grocery_year(void **state)
{
    LOY_UNUSED(state);
    rig t;
    /* a Feb 29 birthday under feb29: mar1 — March 1 in 2026 and 2027;
     * the window runs Feb 26 .. Mar 8 */
    rig_open(&t, load_policy_file("grocery.yaml"), "G-1", "2026-01-02");
    assert_int_equal(loy_member_set_birthday(t.m, "1988-02-29"), LOY_OK);

    action(&t, "A-1", "2026-01-02T08:00:00+08:00", "check_in");
    expect_effects(&t, "[{\"type\": \"points\", \"delta\": 1, \"source\": \"action\", \"kind\": \"check_in\","
                       " \"expires\": \"2027-12-31\"}]");

    /* Thursday tea time on the mini program: 1 + 0.5 + 1 = 2.5;
     * 350.00 / 10 x 2.5 = 87.5, nearest: 88 (bags earn nothing);
     * growth 351 + 5; the order qualifies 351.00 >= 199: big basket */
    ev(&t, LOY_EVENT_ORDER, "O-1", "2026-01-08T15:00:00+08:00");
    channel(&t, "mini_program");
    ev_line(&t, "APPLE", "fruit", 35000);
    ev_line(&t, "BAG", "bags", 100);
    expect_effects(&t,
        "[{\"type\": \"points\", \"delta\": 88, \"source\": \"order\", \"expires\": \"2027-12-31\","
        "  \"rules\": [\"afternoon_tea\", \"member_day\"]},"
        " {\"type\": \"gift\", \"gift\": \"spend\", \"id\": \"big-basket\", \"reward\": {\"coupons\": [\"NEXT-ORDER-5\"]}},"
        " {\"type\": \"stage_changed\", \"from\": \"registered\", \"to\": \"trying\"}]");

    ev(&t, LOY_EVENT_JOIN_PAID, "P-1", "2026-01-10T09:00:00+08:00");
    assert_int_equal(loy_event_set_plan(t.e, "annual"), LOY_OK);
    expect_effects(&t, "[{\"type\": \"paid_started\", \"plan\": \"annual\", \"from\": \"2026-01-10\","
                       " \"until\": \"2027-01-09\"}]");

    /* Thursday, paid: 1 + 1 + 1 = 3: 500.00 / 10 x 3 = 150; growth 510 + 5:
     * 1 + 356 + 515 = 872 >= 600: silver (its coupon, highest only); in the
     * birthday window: silver's gift */
    ev(&t, LOY_EVENT_ORDER, "O-2", "2026-02-26T10:00:00+08:00");
    channel(&t, "pos");
    assert_int_equal(loy_event_set_savings(t.e, 2000), LOY_OK);
    ev_line(&t, "MELON", "fruit", 50000);
    ev_line(&t, "DEPOSIT", "deposit", 1000);
    expect_effects(&t,
        "[{\"type\": \"points\", \"delta\": 150, \"source\": \"order\", \"expires\": \"2027-12-31\","
        "  \"rules\": [\"paid_bonus\", \"member_day\"]},"
        " {\"type\": \"tier_changed\", \"from\": \"regular\", \"to\": \"silver\", \"reason\": \"upgrade\"},"
        " {\"type\": \"gift\", \"gift\": \"upgrade\", \"tier\": \"silver\", \"reward\": {\"coupons\": [\"UP-SILVER-5\"]}},"
        " {\"type\": \"gift\", \"gift\": \"birthday\", \"tier\": \"silver\", \"year\": 2026,"
        "  \"reward\": {\"coupons\": [\"BDAY-SILVER\"]}},"
        " {\"type\": \"gift\", \"gift\": \"spend\", \"id\": \"big-basket\", \"reward\": {\"coupons\": [\"NEXT-ORDER-5\"]}}]");

    assert_int_equal(query(&t, "2026-02-26T10:01:00+08:00", "mini_program", NULL), LOY_OK);
    assert_node_json(root_get(&t, "benefits"),
        "[{\"id\": \"tasting\", \"kind\": \"product\", \"open\": false, \"reasons\": [{\"tier_at_least\": \"gold\"}]},"
        " {\"id\": \"monthly-coupons\", \"kind\": \"purchase\", \"open\": true},"
        " {\"id\": \"pickup-coupon\", \"kind\": \"purchase\", \"open\": true},"
        " {\"id\": \"free-veg\", \"kind\": \"gift\", \"open\": true},"
        " {\"id\": \"delivery-priority\", \"kind\": \"service\", \"open\": true}]");
    expect_member(&t, "{\"tier\": \"silver\", \"points\": {\"available\": 239, \"pending\": 0}, \"stage\": \"trying\"}");

    use(&t, "U-1", "2026-02-26T10:05:00+08:00", "free-veg");
    expect_effects(&t, "[{\"type\": \"benefit_used\", \"benefit\": \"free-veg\"}]");

    action(&t, "A-2", "2026-03-02T19:00:00+08:00", "review");
    expect_effects(&t, "[{\"type\": \"points\", \"delta\": 2, \"source\": \"action\", \"kind\": \"review\","
                       " \"expires\": \"2027-12-31\"}]");

    /* Thursday, paid: 200.00 / 10 x 3 = 60; growth 205 (1080) */
    ev(&t, LOY_EVENT_ORDER, "O-3", "2026-03-05T09:00:00+08:00");
    channel(&t, "pos");
    ev_line(&t, "PEAR", "fruit", 20000);
    expect_effects(&t,
        "[{\"type\": \"points\", \"delta\": 60, \"source\": \"order\", \"expires\": \"2027-12-31\","
        "  \"rules\": [\"paid_bonus\", \"member_day\"]},"
        " {\"type\": \"gift\", \"gift\": \"spend\", \"id\": \"big-basket\", \"reward\": {\"coupons\": [\"NEXT-ORDER-5\"]}}]");

    /* Friday, paid: 100.00 / 10 x 2 = 20; the 4th order in Jan..Mar: loyal;
     * the birthday window is still open but 2026's gift is given */
    ev(&t, LOY_EVENT_ORDER, "O-4", "2026-03-06T09:00:00+08:00");
    channel(&t, "pos");
    assert_int_equal(loy_event_set_savings(t.e, 500), LOY_OK);
    ev_line(&t, "PEAR", "fruit", 10000);
    expect_effects(&t,
        "[{\"type\": \"points\", \"delta\": 20, \"source\": \"order\", \"expires\": \"2027-12-31\","
        "  \"rules\": [\"paid_bonus\"]},"
        " {\"type\": \"stage_changed\", \"from\": \"trying\", \"to\": \"loyal\"}]");
    assert_true(trace_has(&t, "gift:birthday", "already given for 2026"));

    /* Thursday tea time, paid: 1 + 0.5 + 1 + 1 = 3.5: 1200.00 / 10 x 3.5 =
     * 420; growth 1205: 2390 >= 2000: gold, 50 points with its coupon */
    ev(&t, LOY_EVENT_ORDER, "O-5", "2026-04-02T15:30:00+08:00");
    channel(&t, "mini_program");
    ev_line(&t, "DURIAN", "fruit", 120000);
    expect_effects(&t,
        "[{\"type\": \"points\", \"delta\": 420, \"source\": \"order\", \"expires\": \"2027-12-31\","
        "  \"rules\": [\"afternoon_tea\", \"paid_bonus\", \"member_day\"]},"
        " {\"type\": \"tier_changed\", \"from\": \"silver\", \"to\": \"gold\", \"reason\": \"upgrade\"},"
        " {\"type\": \"gift\", \"gift\": \"upgrade\", \"tier\": \"gold\","
        "  \"reward\": {\"coupons\": [\"UP-GOLD-10\"], \"points\": 50}},"
        " {\"type\": \"points\", \"delta\": 50, \"source\": \"upgrade\", \"expires\": \"2027-12-31\"},"
        " {\"type\": \"gift\", \"gift\": \"spend\", \"id\": \"big-basket\", \"reward\": {\"coupons\": [\"NEXT-ORDER-5\"]}}]");

    /* the plan ends: 199.00 paid, 25.00 saved; the 2027-01-01 review keeps
     * gold (2026 growth 2390 >= 2000); 283 days without an order: dormant */
    expect_tick(&t, "T-1", "2027-01-10T08:00:00+08:00",
        "[{\"type\": \"paid_ended\", \"plan\": \"annual\", \"until\": \"2027-01-09\", \"refund\": 17400},"
        " {\"type\": \"stage_changed\", \"from\": \"loyal\", \"to\": \"dormant\"}]");

    expect_tick(&t, "T-2", "2027-02-26T09:00:00+08:00",
        "[{\"type\": \"gift\", \"gift\": \"birthday\", \"tier\": \"gold\", \"year\": 2027,"
        "  \"reward\": {\"coupons\": [\"BDAY-GOLD\"], \"items\": [\"FRUIT-CAKE\"]}}]");

    /* every 2026 credit lasts to 2027-12-31; the 2028 review finds no growth
     * in 2027: down to the level 0 reaches */
    expect_tick(&t, "T-3", "2028-01-02T08:00:00+08:00",
        "[{\"type\": \"points\", \"delta\": -791, \"source\": \"expiry\", \"expires\": \"2027-12-31\"},"
        " {\"type\": \"tier_changed\", \"from\": \"gold\", \"to\": \"regular\", \"reason\": \"review\","
        "  \"review_date\": \"2028-01-01\"}]");
    expect_member(&t, "{\"tier\": \"regular\", \"points\": {\"available\": 0, \"pending\": 0}, \"stage\": \"dormant\"}");
    rig_close(&t);
}

/* ------------------------------------------------------------------ minimal */

static void test_minimal_year(void **state)
{
    LOY_UNUSED(state);
    rig t;
    rig_open(&t, load_policy_file("minimal.yaml"), "C-1", "2026-01-01");
    assert_null(loy_member_stage(t.m));

    /* 123.45 earns floor(123.45) = 123, available at once, never expiring */
    ev(&t, LOY_EVENT_ORDER, "O-1", "2026-01-15T12:00:00+08:00");
    ev_line(&t, "TEA", "drinks", 12345);
    expect_effects(&t, "[{\"type\": \"points\", \"delta\": 123, \"source\": \"order\", \"rules\": []}]");
    expect_member(&t, "{\"tier\": \"member\", \"points\": {\"available\": 123, \"pending\": 0}, \"stage\": null}");

    /* lifetime spend 523.45 >= 500: vip, no gifts in this policy */
    ev(&t, LOY_EVENT_ORDER, "O-2", "2026-06-01T12:00:00+08:00");
    ev_line(&t, "BEANS", "coffee", 40000);
    expect_effects(&t,
        "[{\"type\": \"points\", \"delta\": 400, \"source\": \"order\", \"rules\": []},"
        " {\"type\": \"tier_changed\", \"from\": \"member\", \"to\": \"vip\", \"reason\": \"upgrade\"}]");

    /* the whole order back: 400 points back; no review, vip stays */
    ev(&t, LOY_EVENT_RETURN, "R-1", "2026-07-01T12:00:00+08:00");
    assert_int_equal(loy_event_set_amount(t.e, 40000), LOY_OK);
    assert_int_equal(loy_event_set_original(t.e, "O-2", "2026-06-01T12:00:00+08:00", 40000, 400), LOY_OK);
    expect_effects(&t, "[{\"type\": \"points\", \"delta\": -400, \"source\": \"return\", \"order\": \"O-2\"}]");

    /* an action kind the policy does not list: accepted, nothing */
    action(&t, "A-1", "2026-08-01T12:00:00+08:00", "signup");
    expect_effects(&t, "[]");

    assert_int_equal(query(&t, "2026-12-31T12:00:00+08:00", NULL, NULL), LOY_OK);
    assert_node_json(root_get(&t, "benefits"), "[]");
    expect_member(&t, "{\"tier\": \"vip\", \"points\": {\"available\": 123, \"pending\": 0}, \"stage\": null}");

    /* 0.50 earns floor(0.5) = 0: no points effect */
    ev(&t, LOY_EVENT_ORDER, "O-3", "2027-01-01T12:00:00+08:00");
    ev_line(&t, "GUM", "snacks", 50);
    expect_effects(&t, "[]");
    expect_tick(&t, "T-1", "2027-12-31T12:00:00+08:00", "[]");
    expect_member(&t, "{\"tier\": \"vip\", \"points\": {\"available\": 123, \"pending\": 0}, \"stage\": null}");
    rig_close(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_apparel_year),
        cmocka_unit_test(test_grocery_year),
        cmocka_unit_test(test_minimal_year),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
