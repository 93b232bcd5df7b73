/*
 * Gifts (POLICY.md §5) through loy_apply: upgrade gifts (each / highest,
 * lifetime / every_time, drop and climb back), birthday gifts (windows,
 * year ends, Feb 29, min_member_days, profile edits, tier inheritance),
 * surprise gifts (the XXH3 draw, pinned against values computed outside the
 * library), spend gifts (order, month, year, imported months) and the order
 * of step 5. Expected effects are derived by hand from the spec.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "rules_support.h"

static char policy_buf[4096];

/* ----------------------------------------------------------------- upgrade */

/* Calendar-year spend, reviewed every January 1 down to the level the
 * metric reaches; no points section, so reward points never expire. */
static const char *upgrade_yaml(const char *once, const char *skipped)
{
    snprintf(policy_buf, sizeof policy_buf,
             "loyalty_policy: 1\n"
             "tiers:\n"
             "  qualify_on: spend\n"
             "  window: calendar_year\n"
             "  review: calendar_year\n"
             "  downgrade: to_qualified\n"
             "  levels:\n"
             "    - {id: member}\n"
             "    - {id: silver, at: 100}\n"
             "    - {id: gold, at: 300}\n"
             "    - {id: platinum, at: 500}\n"
             "    - {id: black, at: 1000}\n"
             "gifts:\n"
             "  upgrade:\n"
             "    by_tier:\n"
             "      silver: {points: 10}\n"
             "      gold: {coupons: [G]}\n"
             "      black: {points: 30, credit: 5.5}\n"
             "    once: %s\n"
             "    skipped: %s\n",
             once, skipped);
    return policy_buf;
}

static loy_policy *upgrade_policy(const char *once, const char *skipped)
{
    return load_policy_text(upgrade_yaml(once, skipped));
}

static void order(rig *t, const char *id, const char *at, int64_t amount)
{
    ev(t, LOY_EVENT_ORDER, id, at);
    ev_line(t, "SKU", "clothes", amount);
}

static const char *const DROP_TO_MEMBER =
    "[{\"type\": \"tier_changed\", \"from\": \"platinum\", \"to\": \"member\", \"reason\": \"review\","
    "  \"review_date\": \"2028-01-01\"}]";

static void test_upgrade_each_lifetime(void **state)
{
    LOY_UNUSED(state);
    rig t;
    rig_open(&t, upgrade_policy("lifetime", "each"), "M-U1", "2026-01-01");
    order(&t, "O-1", "2026-02-01T10:00:00+08:00", 60000);
    /* member -> platinum: silver's and gold's gifts; platinum has none */
    expect_effects(&t,
        "[{\"type\": \"tier_changed\", \"from\": \"member\", \"to\": \"platinum\", \"reason\": \"upgrade\"},"
        " {\"type\": \"gift\", \"gift\": \"upgrade\", \"tier\": \"silver\", \"reward\": {\"points\": 10}},"
        " {\"type\": \"points\", \"delta\": 10, \"source\": \"upgrade\"},"
        " {\"type\": \"gift\", \"gift\": \"upgrade\", \"tier\": \"gold\", \"reward\": {\"coupons\": [\"G\"]}}]");
    assert_true(trace_has(&t, "gift:upgrade", "platinum: the tier has no upgrade gift"));
    /* 2027-01-01 keeps (2026: 600 >= 500); 2028-01-01 drops (2027: 0) */
    expect_tick(&t, "T-1", "2028-01-02T10:00:00+08:00", DROP_TO_MEMBER);
    order(&t, "O-2", "2028-02-01T10:00:00+08:00", 100000);
    /* climbing back: only the gift never given before */
    expect_effects(&t,
        "[{\"type\": \"tier_changed\", \"from\": \"member\", \"to\": \"black\", \"reason\": \"upgrade\"},"
        " {\"type\": \"gift\", \"gift\": \"upgrade\", \"tier\": \"black\", \"reward\": {\"points\": 30, \"credit\": 550}},"
        " {\"type\": \"points\", \"delta\": 30, \"source\": \"upgrade\"}]");
    assert_true(trace_has(&t, "gift:upgrade", "silver: already given"));
    expect_member(&t, "{\"tier\": \"black\", \"points\": {\"available\": 40, \"pending\": 0}, \"stage\": null}");
    rig_close(&t);
}

static void test_upgrade_each_every_time(void **state)
{
    LOY_UNUSED(state);
    rig t;
    rig_open(&t, upgrade_policy("every_time", "each"), "M-U2", "2026-01-01");
    order(&t, "O-1", "2026-02-01T10:00:00+08:00", 60000);
    expect_effects(&t,
        "[{\"type\": \"tier_changed\", \"from\": \"member\", \"to\": \"platinum\", \"reason\": \"upgrade\"},"
        " {\"type\": \"gift\", \"gift\": \"upgrade\", \"tier\": \"silver\", \"reward\": {\"points\": 10}},"
        " {\"type\": \"points\", \"delta\": 10, \"source\": \"upgrade\"},"
        " {\"type\": \"gift\", \"gift\": \"upgrade\", \"tier\": \"gold\", \"reward\": {\"coupons\": [\"G\"]}}]");
    expect_tick(&t, "T-1", "2028-01-02T10:00:00+08:00", DROP_TO_MEMBER);
    order(&t, "O-2", "2028-02-01T10:00:00+08:00", 100000);
    expect_effects(&t,
        "[{\"type\": \"tier_changed\", \"from\": \"member\", \"to\": \"black\", \"reason\": \"upgrade\"},"
        " {\"type\": \"gift\", \"gift\": \"upgrade\", \"tier\": \"silver\", \"reward\": {\"points\": 10}},"
        " {\"type\": \"points\", \"delta\": 10, \"source\": \"upgrade\"},"
        " {\"type\": \"gift\", \"gift\": \"upgrade\", \"tier\": \"gold\", \"reward\": {\"coupons\": [\"G\"]}},"
        " {\"type\": \"gift\", \"gift\": \"upgrade\", \"tier\": \"black\", \"reward\": {\"points\": 30, \"credit\": 550}},"
        " {\"type\": \"points\", \"delta\": 30, \"source\": \"upgrade\"}]");
    rig_close(&t);
}

static void test_upgrade_highest_lifetime(void **state)
{
    LOY_UNUSED(state);
    rig t;
    rig_open(&t, upgrade_policy("lifetime", "highest"), "M-U3", "2026-01-01");
    order(&t, "O-1", "2026-02-01T10:00:00+08:00", 30000);
    /* member -> gold: gold's gift only, never silver's */
    expect_effects(&t,
        "[{\"type\": \"tier_changed\", \"from\": \"member\", \"to\": \"gold\", \"reason\": \"upgrade\"},"
        " {\"type\": \"gift\", \"gift\": \"upgrade\", \"tier\": \"gold\", \"reward\": {\"coupons\": [\"G\"]}}]");
    expect_tick(&t, "T-1", "2028-01-02T10:00:00+08:00",
        "[{\"type\": \"tier_changed\", \"from\": \"gold\", \"to\": \"member\", \"reason\": \"review\","
        "  \"review_date\": \"2028-01-01\"}]");
    order(&t, "O-2", "2028-02-01T10:00:00+08:00", 30000);
    /* gold again: already given, and no lower gift instead */
    expect_effects(&t,
        "[{\"type\": \"tier_changed\", \"from\": \"member\", \"to\": \"gold\", \"reason\": \"upgrade\"}]");
    order(&t, "O-3", "2028-03-01T10:00:00+08:00", 20000);
    /* platinum has no gift: nothing, not gold's */
    expect_effects(&t,
        "[{\"type\": \"tier_changed\", \"from\": \"gold\", \"to\": \"platinum\", \"reason\": \"upgrade\"}]");
    order(&t, "O-4", "2028-04-01T10:00:00+08:00", 50000);
    expect_effects(&t,
        "[{\"type\": \"tier_changed\", \"from\": \"platinum\", \"to\": \"black\", \"reason\": \"upgrade\"},"
        " {\"type\": \"gift\", \"gift\": \"upgrade\", \"tier\": \"black\", \"reward\": {\"points\": 30, \"credit\": 550}},"
        " {\"type\": \"points\", \"delta\": 30, \"source\": \"upgrade\"}]");
    rig_close(&t);
}

static void test_upgrade_highest_every_time(void **state)
{
    LOY_UNUSED(state);
    rig t;
    rig_open(&t, upgrade_policy("every_time", "highest"), "M-U4", "2026-01-01");
    order(&t, "O-1", "2026-02-01T10:00:00+08:00", 10000);
    expect_effects(&t,
        "[{\"type\": \"tier_changed\", \"from\": \"member\", \"to\": \"silver\", \"reason\": \"upgrade\"},"
        " {\"type\": \"gift\", \"gift\": \"upgrade\", \"tier\": \"silver\", \"reward\": {\"points\": 10}},"
        " {\"type\": \"points\", \"delta\": 10, \"source\": \"upgrade\"}]");
    expect_tick(&t, "T-1", "2028-01-02T10:00:00+08:00",
        "[{\"type\": \"tier_changed\", \"from\": \"silver\", \"to\": \"member\", \"reason\": \"review\","
        "  \"review_date\": \"2028-01-01\"}]");
    order(&t, "O-2", "2028-02-01T10:00:00+08:00", 10000);
    expect_effects(&t,
        "[{\"type\": \"tier_changed\", \"from\": \"member\", \"to\": \"silver\", \"reason\": \"upgrade\"},"
        " {\"type\": \"gift\", \"gift\": \"upgrade\", \"tier\": \"silver\", \"reward\": {\"points\": 10}},"
        " {\"type\": \"points\", \"delta\": 10, \"source\": \"upgrade\"}]");
    rig_close(&t);
}

static void test_upgrade_imported_gift_counts(void **state)
{
    LOY_UNUSED(state);
    rig t;
    rig_open(&t, upgrade_policy("lifetime", "each"), "M-U5", "2026-01-01");
    assert_int_equal(loy_member_import_gift(t.m, "upgrade", "silver"), LOY_OK);
    order(&t, "O-1", "2026-02-01T10:00:00+08:00", 30000);
    expect_effects(&t,
        "[{\"type\": \"tier_changed\", \"from\": \"member\", \"to\": \"gold\", \"reason\": \"upgrade\"},"
        " {\"type\": \"gift\", \"gift\": \"upgrade\", \"tier\": \"gold\", \"reward\": {\"coupons\": [\"G\"]}}]");
    rig_close(&t);
}

/* ---------------------------------------------------------------- birthday */

static loy_policy *birthday_policy(const char *window, int min_days, const char *feb29)
{
    snprintf(policy_buf, sizeof policy_buf,
             "loyalty_policy: 1\n"
             "tiers:\n"
             "  qualify_on: spend\n"
             "  levels:\n"
             "    - {id: member}\n"
             "    - {id: silver, at: 100}\n"
             "    - {id: gold, at: 300}\n"
             "    - {id: platinum, at: 500}\n"
             "points:\n"
             "  expiry: {end_of_year_plus: 0}\n"
             "gifts:\n"
             "  birthday:\n"
             "    window: %s\n"
             "    min_member_days: %d\n"
             "    feb29: %s\n"
             "    by_tier:\n"
             "      silver: {coupons: [B-S]}\n"
             "      platinum: {coupons: [B-P], points: 50}\n",
             window, min_days, feb29);
    return load_policy_text(policy_buf);
}

static const char *const NONE = "[]";

#define BDAY_SILVER(year) \
    "[{\"type\": \"gift\", \"gift\": \"birthday\", \"tier\": \"silver\", \"year\": " #year ", " \
    "\"reward\": {\"coupons\": [\"B-S\"]}}]"

static void test_birthday_month_min_days_and_profile_edits(void **state)
{
    LOY_UNUSED(state);
    rig t;
    rig_open(&t, birthday_policy("month", 30, "feb28"), "M-B1", "2026-05-20");
    assert_int_equal(loy_member_set_birthday(t.m, "1992-06-10"), LOY_OK);
    assert_int_equal(loy_member_import_tier(t.m, "silver", "2026-05-20"), LOY_OK);
    expect_tick(&t, "T-1", "2026-05-31T23:59:59+08:00", NONE);
    assert_true(trace_has(&t, "gift:birthday", "not in the birthday window"));
    /* 29 days: too recent, and the occurrence is not used up */
    expect_tick(&t, "T-2", "2026-06-18T10:00:00+08:00", NONE);
    assert_true(trace_has(&t, "gift:birthday", "joined too recently: 29 days < 30"));
    expect_tick(&t, "T-3", "2026-06-19T10:00:00+08:00", BDAY_SILVER(2026));
    expect_tick(&t, "T-4", "2026-06-30T10:00:00+08:00", NONE);
    assert_true(trace_has(&t, "gift:birthday", "already given for 2026"));
    /* a new birthday in July: still one gift for 2026 */
    ev(&t, LOY_EVENT_PROFILE, "F-1", "2026-07-02T10:00:00+08:00");
    assert_int_equal(loy_event_set_birthday(t.e, "1992-07-15"), LOY_OK);
    expect_effects(&t, NONE);
    assert_true(trace_has(&t, "gift:birthday", "already given for 2026"));
    expect_tick(&t, "T-5", "2026-07-15T10:00:00+08:00", NONE);
    expect_tick(&t, "T-6", "2027-06-10T10:00:00+08:00", NONE);
    expect_tick(&t, "T-7", "2027-07-01T00:00:00+08:00", BDAY_SILVER(2027));
    /* a removed birthday gives nothing */
    ev(&t, LOY_EVENT_PROFILE, "F-2", "2027-08-01T10:00:00+08:00");
    assert_int_equal(loy_event_set_birthday(t.e, NULL), LOY_OK);
    expect_effects(&t, NONE);
    expect_tick(&t, "T-8", "2028-07-15T10:00:00+08:00", NONE);
    assert_true(trace_has(&t, "gift:birthday", "no birthday"));
    rig_close(&t);
}

static void test_birthday_tier_after_step4_and_inheritance(void **state)
{
    LOY_UNUSED(state);
    rig t;
    rig_open(&t, birthday_policy("month", 0, "feb28"), "M-B2", "2026-01-01");
    assert_int_equal(loy_member_set_birthday(t.m, "1990-03-20"), LOY_OK);
    /* member has no gift and no lower tier: nothing, nothing recorded */
    expect_tick(&t, "T-1", "2026-03-01T10:00:00+08:00", NONE);
    assert_true(trace_has(&t, "gift:birthday", "no tier at or below member has a birthday gift"));
    /* gold inherits silver's gift */
    order(&t, "O-1", "2026-03-02T10:00:00+08:00", 30000);
    expect_effects(&t,
        "[{\"type\": \"tier_changed\", \"from\": \"member\", \"to\": \"gold\", \"reason\": \"upgrade\"},"
        " {\"type\": \"gift\", \"gift\": \"birthday\", \"tier\": \"silver\", \"year\": 2026,"
        "  \"reward\": {\"coupons\": [\"B-S\"]}}]");
    /* next year the order that reaches platinum gives platinum's gift */
    order(&t, "O-2", "2027-03-31T10:00:00+08:00", 20000);
    expect_effects(&t,
        "[{\"type\": \"tier_changed\", \"from\": \"gold\", \"to\": \"platinum\", \"reason\": \"upgrade\"},"
        " {\"type\": \"gift\", \"gift\": \"birthday\", \"tier\": \"platinum\", \"year\": 2027,"
        "  \"reward\": {\"coupons\": [\"B-P\"], \"points\": 50}},"
        " {\"type\": \"points\", \"delta\": 50, \"source\": \"birthday\", \"expires\": \"2027-12-31\"}]");
    expect_member(&t, "{\"tier\": \"platinum\", \"points\": {\"available\": 50, \"pending\": 0}, \"stage\": null}");
    rig_close(&t);
}

static void test_birthday_window_crossing_year_end(void **state)
{
    LOY_UNUSED(state);
    rig t;
    rig_open(&t, birthday_policy("{days_before: 3, days_after: 7}", 0, "feb28"), "M-B3", "2020-01-01");
    assert_int_equal(loy_member_set_birthday(t.m, "1990-01-02"), LOY_OK);
    assert_int_equal(loy_member_import_tier(t.m, "silver", "2020-01-01"), LOY_OK);
    expect_tick(&t, "T-1", "2026-12-29T23:59:59+08:00", NONE);
    /* the window of the 2027-01-02 birthday opens on 2026-12-30 */
    expect_tick(&t, "T-2", "2026-12-30T00:00:00+08:00", BDAY_SILVER(2027));
    expect_tick(&t, "T-3", "2027-01-09T10:00:00+08:00", NONE);
    assert_true(trace_has(&t, "gift:birthday", "already given for 2027"));
    expect_tick(&t, "T-4", "2027-12-31T10:00:00+08:00", BDAY_SILVER(2028));
    rig_close(&t);
}

static void test_birthday_window_after_year_end(void **state)
{
    LOY_UNUSED(state);
    rig t;
    rig_open(&t, birthday_policy("{days_before: 3, days_after: 7}", 0, "feb28"), "M-B4", "2020-01-01");
    assert_int_equal(loy_member_set_birthday(t.m, "1990-12-28"), LOY_OK);
    assert_int_equal(loy_member_import_tier(t.m, "silver", "2020-01-01"), LOY_OK);
    expect_tick(&t, "T-1", "2027-01-04T10:00:00+08:00", BDAY_SILVER(2026));
    expect_tick(&t, "T-2", "2027-12-24T10:00:00+08:00", NONE);
    expect_tick(&t, "T-3", "2027-12-25T10:00:00+08:00", BDAY_SILVER(2027));
    rig_close(&t);
}

static void test_birthday_day_window(void **state)
{
    LOY_UNUSED(state);
    rig t;
    rig_open(&t, birthday_policy("day", 0, "feb28"), "M-B5", "2020-01-01");
    assert_int_equal(loy_member_set_birthday(t.m, "1990-03-15"), LOY_OK);
    assert_int_equal(loy_member_import_tier(t.m, "silver", "2020-01-01"), LOY_OK);
    expect_tick(&t, "T-1", "2026-03-14T23:59:59+08:00", NONE);
    expect_tick(&t, "T-2", "2026-03-15T23:59:59+08:00", BDAY_SILVER(2026));
    expect_tick(&t, "T-3", "2027-03-16T00:00:00+08:00", NONE);
    rig_close(&t);
}

static void test_birthday_feb29(void **state)
{
    LOY_UNUSED(state);
    rig t;
    /* feb28: the day before March in a common year */
    rig_open(&t, birthday_policy("day", 0, "feb28"), "M-B6", "2020-01-01");
    assert_int_equal(loy_member_set_birthday(t.m, "2000-02-29"), LOY_OK);
    assert_int_equal(loy_member_import_tier(t.m, "silver", "2020-01-01"), LOY_OK);
    expect_tick(&t, "T-1", "2027-02-28T10:00:00+08:00", BDAY_SILVER(2027));
    expect_tick(&t, "T-2", "2028-02-28T10:00:00+08:00", NONE);
    expect_tick(&t, "T-3", "2028-02-29T10:00:00+08:00", BDAY_SILVER(2028));
    rig_close(&t);

    /* mar1 */
    rig_open(&t, birthday_policy("day", 0, "mar1"), "M-B7", "2020-01-01");
    assert_int_equal(loy_member_set_birthday(t.m, "2000-02-29"), LOY_OK);
    assert_int_equal(loy_member_import_tier(t.m, "silver", "2020-01-01"), LOY_OK);
    expect_tick(&t, "T-1", "2027-02-28T10:00:00+08:00", NONE);
    expect_tick(&t, "T-2", "2027-03-01T10:00:00+08:00", BDAY_SILVER(2027));
    expect_tick(&t, "T-3", "2028-02-29T10:00:00+08:00", BDAY_SILVER(2028));
    expect_tick(&t, "T-4", "2028-03-01T10:00:00+08:00", NONE);
    rig_close(&t);

    /* mar1 with a month window: March in a common year, February in a leap one */
    rig_open(&t, birthday_policy("month", 0, "mar1"), "M-B8", "2020-01-01");
    assert_int_equal(loy_member_set_birthday(t.m, "2000-02-29"), LOY_OK);
    assert_int_equal(loy_member_import_tier(t.m, "silver", "2020-01-01"), LOY_OK);
    expect_tick(&t, "T-1", "2027-02-15T10:00:00+08:00", NONE);
    expect_tick(&t, "T-2", "2027-03-31T10:00:00+08:00", BDAY_SILVER(2027));
    expect_tick(&t, "T-3", "2028-02-01T10:00:00+08:00", BDAY_SILVER(2028));
    rig_close(&t);
}

/* ---------------------------------------------------------------- surprise */

static loy_policy *surprise_policy(const char *trial_sample, const char *utf8_sample)
{
    snprintf(policy_buf, sizeof policy_buf,
             "loyalty_policy: 1\n"
             "tiers:\n"
             "  qualify_on: spend\n"
             "  levels:\n"
             "    - {id: member}\n"
             "    - {id: silver, at: 100}\n"
             "gifts:\n"
             "  surprise:\n"
             "    - {id: trial, sample_percent: %s, reward: {coupons: [T]}}\n"
             "    - {id: yearly, when: {tier_at_least: silver}, reward: {points: 5}, once: per_year}\n"
             "    - {id: 惊喜, sample_percent: %s, reward: {items: [GIFT]}}\n",
             trial_sample, utf8_sample);
    return load_policy_text(policy_buf);
}

static const char *const TRIAL =
    "{\"type\": \"gift\", \"gift\": \"surprise\", \"id\": \"trial\", \"reward\": {\"coupons\": [\"T\"]}}";

/* XXH3-64("M-T1:trial") = 12605147911804236583, mod 10000 = 6583 (computed
 * with Python's xxhash package): sampled exactly when T > 6583. */
static void test_surprise_draw_threshold(void **state)
{
    LOY_UNUSED(state);
    rig t;
    rig_open(&t, surprise_policy("65.83", "0"), "M-T1", "2026-01-01");
    expect_tick(&t, "T-1", "2026-02-01T10:00:00+08:00", NONE);
    assert_true(trace_has(&t, "gift:surprise", "trial: not sampled (draw 6583"));
    assert_true(trace_has(&t, "gift:surprise", "yearly: condition failed"));
    rig_close(&t);

    rig_open(&t, surprise_policy("65.84", "0"), "M-T1", "2026-01-01");
    char want[512];
    snprintf(want, sizeof want, "[%s]", TRIAL);
    expect_tick(&t, "T-1", "2026-02-01T10:00:00+08:00", want);
    /* once: lifetime */
    expect_tick(&t, "T-2", "2027-02-01T10:00:00+08:00", NONE);
    assert_true(trace_has(&t, "gift:surprise", "trial: already given"));
    rig_close(&t);

    /* 0 selects nobody, 100 everybody */
    rig_open(&t, surprise_policy("0", "0"), "M-G1", "2026-01-01");   /* draw 1153 */
    expect_tick(&t, "T-1", "2026-02-01T10:00:00+08:00", NONE);
    rig_close(&t);
    rig_open(&t, surprise_policy("100", "0"), "M-B1", "2026-01-01");  /* draw 9862 */
    expect_tick(&t, "T-1", "2026-02-01T10:00:00+08:00", want);
    rig_close(&t);
}

/* XXH3-64 over the UTF-8 bytes of "会员-1:惊喜" = 15103108556637457957,
 * mod 10000 = 7957: sampled at 79.58, not at 79.57. */
static void test_surprise_draw_utf8(void **state)
{
    LOY_UNUSED(state);
    rig t;
    rig_open(&t, surprise_policy("0", "79.57"), "会员-1", "2026-01-01");
    expect_tick(&t, "T-1", "2026-02-01T10:00:00+08:00", NONE);
    assert_true(trace_has(&t, "gift:surprise", "惊喜: not sampled (draw 7957"));
    rig_close(&t);
    rig_open(&t, surprise_policy("0", "79.58"), "会员-1", "2026-01-01");
    expect_tick(&t, "T-1", "2026-02-01T10:00:00+08:00",
        "[{\"type\": \"gift\", \"gift\": \"surprise\", \"id\": \"惊喜\", \"reward\": {\"items\": [\"GIFT\"]}}]");
    rig_close(&t);
}

static void test_surprise_per_year(void **state)
{
    LOY_UNUSED(state);
    rig t;
    /* the imported lifetime entry keeps 惊喜 (sampled at 100) from coming */
    rig_open(&t, surprise_policy("0", "100"), "M-Y1", "2026-01-01");
    assert_int_equal(loy_member_import_tier(t.m, "silver", "2026-01-01"), LOY_OK);
    assert_int_equal(loy_member_import_gift(t.m, "surprise", "惊喜"), LOY_OK);
    static const char *const YEARLY =
        "[{\"type\": \"gift\", \"gift\": \"surprise\", \"id\": \"yearly\", \"reward\": {\"points\": 5}},"
        " {\"type\": \"points\", \"delta\": 5, \"source\": \"surprise\"}]";
    expect_tick(&t, "T-1", "2026-03-01T10:00:00+08:00", YEARLY);
    expect_tick(&t, "T-2", "2026-12-31T23:59:59+08:00", NONE);
    assert_true(trace_has(&t, "gift:surprise", "yearly: already given for 2026"));
    expect_tick(&t, "T-3", "2027-01-01T00:00:00+08:00", YEARLY);
    rig_close(&t);

    /* an imported per-year entry counts for its year only */
    rig_open(&t, surprise_policy("0", "0"), "M-Y2", "2026-01-01");
    assert_int_equal(loy_member_import_tier(t.m, "silver", "2026-01-01"), LOY_OK);
    assert_int_equal(loy_member_import_gift(t.m, "surprise", "yearly:2026"), LOY_OK);
    expect_tick(&t, "T-1", "2026-03-01T10:00:00+08:00", NONE);
    expect_tick(&t, "T-2", "2027-03-01T10:00:00+08:00", YEARLY);
    rig_close(&t);
}

/* ------------------------------------------------------------------- spend */

static const char *const SPEND_POLICY =
    "loyalty_policy: 1\n"
    "tiers:\n"
    "  qualify_on: spend\n"
    "  exclude: {categories: [gift_card]}\n"
    "  levels:\n"
    "    - {id: member}\n"
    "gifts:\n"
    "  spend:\n"
    "    - {id: big-order, period: order, at_least: 199, reward: {coupons: [NEXT-5]}}\n"
    "    - {id: monthly, period: calendar_month, at_least: 500, reward: {credit: 10}}\n"
    "    - {id: yearly, period: calendar_year, at_least: 2000, reward: {points: 100}}\n";

static void test_spend_gifts(void **state)
{
    LOY_UNUSED(state);
    rig t;
    rig_open(&t, load_policy_text(SPEND_POLICY), "M-S1", "2026-01-01");
    assert_int_equal(loy_member_import_month(t.m, LOY_METRIC_SPEND, "2026-01", 100000), LOY_OK);
    assert_int_equal(loy_member_import_month(t.m, LOY_METRIC_SPEND, "2026-03", 40000), LOY_OK);

    /* March: 400 imported + 100 qualifying (the gift card does not count) */
    ev(&t, LOY_EVENT_ORDER, "O-1", "2026-03-05T10:00:00+08:00");
    ev_line(&t, "SHIRT", "shirts", 10000);
    ev_line(&t, "GC", "gift_card", 50000);
    expect_effects(&t,
        "[{\"type\": \"gift\", \"gift\": \"spend\", \"id\": \"monthly\", \"period\": \"2026-03\","
        "  \"reward\": {\"credit\": 1000}}]");
    assert_true(trace_has(&t, "gift:spend", "big-order: spend 10000 for this order < 19900"));

    order(&t, "O-2", "2026-03-06T10:00:00+08:00", 19900);
    expect_effects(&t,
        "[{\"type\": \"gift\", \"gift\": \"spend\", \"id\": \"big-order\", \"reward\": {\"coupons\": [\"NEXT-5\"]}}]");
    assert_true(trace_has(&t, "gift:spend", "monthly: already given for 2026-03"));

    /* a return takes nothing back, and reaching the threshold again gives nothing */
    ev(&t, LOY_EVENT_RETURN, "R-1", "2026-03-07T10:00:00+08:00");
    assert_int_equal(loy_event_set_amount(t.e, 19900), LOY_OK);
    assert_int_equal(loy_event_set_original(t.e, "O-2", "2026-03-06T10:00:00+08:00", 19900, 0), LOY_OK);
    expect_effects(&t, NONE);
    order(&t, "O-3", "2026-03-08T10:00:00+08:00", 100);
    expect_effects(&t, NONE);

    /* only order events count: a tick gives nothing */
    expect_tick(&t, "T-1", "2026-03-09T10:00:00+08:00", NONE);

    /* the year: 1000 (Jan, imported) + 501 (Mar) + 301 (Apr) */
    order(&t, "O-4", "2026-04-01T10:00:00+08:00", 30100);
    expect_effects(&t,
        "[{\"type\": \"gift\", \"gift\": \"spend\", \"id\": \"big-order\", \"reward\": {\"coupons\": [\"NEXT-5\"]}}]");
    assert_true(trace_has(&t, "gift:spend", "yearly: spend 180200 for 2026 < 200000"));
    /* + 198 (May) = 2000 */
    order(&t, "O-5", "2026-05-01T10:00:00+08:00", 19800);
    expect_effects(&t,
        "[{\"type\": \"gift\", \"gift\": \"spend\", \"id\": \"yearly\", \"period\": \"2026\","
        "  \"reward\": {\"points\": 100}},"
        " {\"type\": \"points\", \"delta\": 100, \"source\": \"spend\"}]");
    order(&t, "O-6", "2026-05-02T10:00:00+08:00", 50000);
    expect_effects(&t,
        "[{\"type\": \"gift\", \"gift\": \"spend\", \"id\": \"big-order\", \"reward\": {\"coupons\": [\"NEXT-5\"]}},"
        " {\"type\": \"gift\", \"gift\": \"spend\", \"id\": \"monthly\", \"period\": \"2026-05\","
        "  \"reward\": {\"credit\": 1000}}]");
    rig_close(&t);
}

static void test_spend_gift_imported_entry(void **state)
{
    LOY_UNUSED(state);
    rig t;
    rig_open(&t, load_policy_text(SPEND_POLICY), "M-S2", "2026-01-01");
    assert_int_equal(loy_member_import_gift(t.m, "spend", "monthly:2026-03"), LOY_OK);
    order(&t, "O-1", "2026-03-05T10:00:00+08:00", 50000);
    expect_effects(&t,
        "[{\"type\": \"gift\", \"gift\": \"spend\", \"id\": \"big-order\", \"reward\": {\"coupons\": [\"NEXT-5\"]}}]");
    order(&t, "O-2", "2026-04-05T10:00:00+08:00", 50000);
    expect_effects(&t,
        "[{\"type\": \"gift\", \"gift\": \"spend\", \"id\": \"big-order\", \"reward\": {\"coupons\": [\"NEXT-5\"]}},"
        " {\"type\": \"gift\", \"gift\": \"spend\", \"id\": \"monthly\", \"period\": \"2026-04\","
        "  \"reward\": {\"credit\": 1000}}]");
    rig_close(&t);
}

/* ------------------------------------------------------------ step 5 order */

static const char *const STEP5_POLICY =
    "loyalty_policy: 1\n"
    "tiers:\n"
    "  qualify_on: spend\n"
    "  levels: [{id: member}]\n"
    "gifts:\n"
    "  birthday: {window: month, by_tier: {member: {points: 5}}}\n"
    "  surprise:\n"
    "    - {id: s1, when: {points_at_least: 5}, reward: {points: 5}}\n"
    "    - {id: s2, when: {points_at_least: 10}, reward: {items: [X]}}\n"
    "  spend:\n"
    "    - {id: sp, period: order, at_least: 0.01, reward: {points: 1}}\n";

static void test_step5_order_and_state(void **state)
{
    LOY_UNUSED(state);
    rig t;
    rig_open(&t, load_policy_text(STEP5_POLICY), "M-O1", "2026-01-01");
    assert_int_equal(loy_member_set_birthday(t.m, "1990-04-10"), LOY_OK);
    /* each gift sees the points the ones before it credited */
    order(&t, "O-1", "2026-04-01T10:00:00+08:00", 1);
    expect_effects(&t,
        "[{\"type\": \"gift\", \"gift\": \"birthday\", \"tier\": \"member\", \"year\": 2026, \"reward\": {\"points\": 5}},"
        " {\"type\": \"points\", \"delta\": 5, \"source\": \"birthday\"},"
        " {\"type\": \"gift\", \"gift\": \"surprise\", \"id\": \"s1\", \"reward\": {\"points\": 5}},"
        " {\"type\": \"points\", \"delta\": 5, \"source\": \"surprise\"},"
        " {\"type\": \"gift\", \"gift\": \"surprise\", \"id\": \"s2\", \"reward\": {\"items\": [\"X\"]}},"
        " {\"type\": \"gift\", \"gift\": \"spend\", \"id\": \"sp\", \"reward\": {\"points\": 1}},"
        " {\"type\": \"points\", \"delta\": 1, \"source\": \"spend\"}]");
    expect_member(&t, "{\"tier\": \"member\", \"points\": {\"available\": 11, \"pending\": 0}, \"stage\": null}");
    rig_close(&t);
}

/* A gift effect is built as one node block (gifts.c): every reward field,
 * lists of several strings, and the kind's own fields, in their order. */
static const char *const FULL_REWARD_POLICY =
    "loyalty_policy: 1\n"
    "tiers:\n"
    "  qualify_on: spend\n"
    "  levels: [{id: member}]\n"
    "gifts:\n"
    "  surprise:\n"
    "    - {id: all, reward: {points: 3, coupons: [C1, C2], items: [I1, I2, I3], credit: 2}}\n"
    "    - {id: empty-lists, reward: {coupons: [], items: []}}\n";

static void test_full_reward_effect(void **state)
{
    LOY_UNUSED(state);
    rig t;
    rig_open(&t, load_policy_text(FULL_REWARD_POLICY), "M-R1", "2026-01-01");
    order(&t, "O-1", "2026-04-01T10:00:00+08:00", 1);
    expect_effects(&t,
        "[{\"type\": \"gift\", \"gift\": \"surprise\", \"id\": \"all\", \"reward\":"
        " {\"points\": 3, \"coupons\": [\"C1\", \"C2\"], \"items\": [\"I1\", \"I2\", \"I3\"], \"credit\": 200}},"
        " {\"type\": \"points\", \"delta\": 3, \"source\": \"surprise\"},"
        " {\"type\": \"gift\", \"gift\": \"surprise\", \"id\": \"empty-lists\", \"reward\":"
        " {\"coupons\": [], \"items\": []}}]");
    /* the bytes keep the builder's order: fields as built, reward keys as written */
    size_t len = 0;
    const char *json = loy_result_json(t.r, &len);
    assert_non_null(json);
    assert_non_null(strstr(json,
        "[{\"type\": \"gift\", \"gift\": \"surprise\", \"reward\": {\"points\": 3,"
        " \"coupons\": [\"C1\", \"C2\"], \"items\": [\"I1\", \"I2\", \"I3\"], \"credit\": 200}, \"id\": \"all\"},"
        " {\"type\": \"points\", \"delta\": 3, \"source\": \"surprise\"},"
        " {\"type\": \"gift\", \"gift\": \"surprise\", \"reward\": {\"coupons\": [], \"items\": []},"
        " \"id\": \"empty-lists\"}]"));
    rig_close(&t);
}

/* ----------------------------------------------------------- out of memory */

static void prepare_birthday(rig *t)
{
    assert_int_equal(loy_member_set_birthday(t->m, "1990-04-10"), LOY_OK);
}

static void build_step5_order(rig *t)
{
    order(t, "O-1", "2026-04-01T10:00:00+08:00", 1);
}

static void prepare_nothing(rig *t)
{
    LOY_UNUSED(t);
}

static void build_big_order(rig *t)
{
    order(t, "O-1", "2026-03-05T10:00:00+08:00", 200000);
}

static void prepare_spend_months(rig *t)
{
    assert_int_equal(loy_member_import_month(t->m, LOY_METRIC_SPEND, "2026-01", 100000), LOY_OK);
    assert_int_equal(loy_member_import_month(t->m, LOY_METRIC_SPEND, "2026-03", 40000), LOY_OK);
}

/* Every allocation of step 4 and step 5 (ledgers, marks, lots, effects) may
 * fail: the event is then refused with LOY_E_NOMEM, the member unchanged. */
static void test_nomem_leaves_member_unchanged(void **state)
{
    LOY_UNUSED(state);
    nomem_sweep(STEP5_POLICY, prepare_birthday, build_step5_order);
    nomem_sweep(SPEND_POLICY, prepare_spend_months, build_big_order);
    nomem_sweep(upgrade_yaml("lifetime", "each"), prepare_nothing, build_big_order);
    nomem_sweep(FULL_REWARD_POLICY, prepare_nothing, build_step5_order);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_upgrade_each_lifetime),
        cmocka_unit_test(test_upgrade_each_every_time),
        cmocka_unit_test(test_upgrade_highest_lifetime),
        cmocka_unit_test(test_upgrade_highest_every_time),
        cmocka_unit_test(test_upgrade_imported_gift_counts),
        cmocka_unit_test(test_birthday_month_min_days_and_profile_edits),
        cmocka_unit_test(test_birthday_tier_after_step4_and_inheritance),
        cmocka_unit_test(test_birthday_window_crossing_year_end),
        cmocka_unit_test(test_birthday_window_after_year_end),
        cmocka_unit_test(test_birthday_day_window),
        cmocka_unit_test(test_birthday_feb29),
        cmocka_unit_test(test_surprise_draw_threshold),
        cmocka_unit_test(test_surprise_draw_utf8),
        cmocka_unit_test(test_surprise_per_year),
        cmocka_unit_test(test_spend_gifts),
        cmocka_unit_test(test_spend_gift_imported_entry),
        cmocka_unit_test(test_step5_order_and_state),
        cmocka_unit_test(test_full_reward_effect),
        cmocka_unit_test(test_nomem_leaves_member_unchanged),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
