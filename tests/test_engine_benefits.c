/*
 * Benefits (POLICY.md §6, §11.4): the query list (open, reasons, values by
 * tier with inheritance), limits per period, and uses with their refusal
 * codes and reasons.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "rules_support.h"

static const char *const BENEFIT_POLICY =
    "loyalty_policy: 1\n"
    "tiers:\n"
    "  qualify_on: spend\n"
    "  levels:\n"
    "    - {id: member}\n"
    "    - {id: silver, at: 100}\n"
    "    - {id: gold, at: 300}\n"
    "    - {id: platinum, at: 500}\n"
    "benefits:\n"
    "  - {id: lounge, kind: service, when: {tier_at_least: gold}, value: {by_tier: {gold: 0.90, platinum: VIP}}}\n"
    "  - {id: price, kind: purchase, value: {by_tier: {silver: 0.95, platinum: 0.850}}}\n"
    "  - {id: fixed, kind: gift, value: 0.50}\n"
    "  - {id: word, kind: product, value: two hours}\n"
    "  - {id: quoted, kind: product, value: \"0.50\"}\n"
    "  - {id: once, kind: activity, limit: once}\n"
    "  - {id: daily, kind: service, limit: {count: 2, per: day}}\n"
    "  - {id: weekly, kind: service, limit: {count: 1, per: week}}\n"
    "  - {id: monthly, kind: service, limit: {count: 1, per: month}}\n"
    "  - {id: yearly, kind: activity, when: {tags: vip}, limit: {count: 1, per: year}}\n";

static void use(rig *t, const char *id, const char *at, const char *benefit)
{
    ev(t, LOY_EVENT_USE_BENEFIT, id, at);
    assert_int_equal(loy_event_set_benefit(t->e, benefit), LOY_OK);
}

static void used(rig *t, const char *id, const char *at, const char *benefit, const char *effects)
{
    use(t, id, at, benefit);
    expect_effects(t, effects);
}

static void refused(rig *t, const char *id, const char *at, const char *benefit, int code, const char *reasons)
{
    use(t, id, at, benefit);
    expect_refused(t, code);
    assert_node_json(refusal_reasons(t), reasons);
}

static void set_tags(rig *t, const char *id, const char *at, const char *tag)
{
    ev(t, LOY_EVENT_PROFILE, id, at);
    assert_int_equal(loy_event_clear_tags(t->e), LOY_OK);
    if (tag)
        assert_int_equal(loy_event_add_tag(t->e, tag), LOY_OK);
    expect_effects(t, "[]");
}

static void test_query_list(void **state)
{
    LOY_UNUSED(state);
    rig t;
    rig_open(&t, load_policy_text(BENEFIT_POLICY), "M-1", "2026-01-01");
    assert_int_equal(query(&t, "2026-03-01T10:00:00+08:00", "pos", NULL), LOY_OK);
    assert_node_json(root_get(&t, "benefits"),
        "[{\"id\": \"lounge\", \"kind\": \"service\", \"open\": false, \"reasons\": [{\"tier_at_least\": \"gold\"}]},"
        " {\"id\": \"price\", \"kind\": \"purchase\", \"open\": true},"
        " {\"id\": \"fixed\", \"kind\": \"gift\", \"open\": true, \"value\": 0.5},"
        " {\"id\": \"word\", \"kind\": \"product\", \"open\": true, \"value\": \"two hours\"},"
        " {\"id\": \"quoted\", \"kind\": \"product\", \"open\": true, \"value\": \"0.50\"},"
        " {\"id\": \"once\", \"kind\": \"activity\", \"open\": true},"
        " {\"id\": \"daily\", \"kind\": \"service\", \"open\": true},"
        " {\"id\": \"weekly\", \"kind\": \"service\", \"open\": true},"
        " {\"id\": \"monthly\", \"kind\": \"service\", \"open\": true},"
        " {\"id\": \"yearly\", \"kind\": \"activity\", \"open\": false, \"reasons\": [{\"tags\": \"vip\"}]}]");
    assert_node_json(root_get(&t, "at"), "\"2026-03-01T10:00:00+08:00\"");
    rig_close(&t);
}

static void test_values_by_tier(void **state)
{
    LOY_UNUSED(state);
    static const struct { const char *tier, *lounge, *price; } cases[] = {
        {"silver", "<absent>", "0.95"},
        {"gold", "0.9", "0.95"},          /* price: silver's, the nearest lower entry */
        {"platinum", "\"VIP\"", "0.85"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        rig t;
        rig_open(&t, load_policy_text(BENEFIT_POLICY), "M-1", "2026-01-01");
        assert_int_equal(loy_member_import_tier(t.m, cases[i].tier, "2026-01-01"), LOY_OK);
        assert_int_equal(query(&t, "2026-03-01T10:00:00+08:00", NULL, NULL), LOY_OK);
        char *lounge = node_text(loy_node_get(benefit_entry(&t, "lounge"), "value"));
        char *price = node_text(loy_node_get(benefit_entry(&t, "price"), "value"));
        assert_string_equal(lounge, cases[i].lounge);
        assert_string_equal(price, cases[i].price);
        free(lounge);
        free(price);
        /* the value goes with a use */
        if (strcmp(cases[i].tier, "silver") != 0) {
            char want[128];
            snprintf(want, sizeof want, "[{\"type\": \"benefit_used\", \"benefit\": \"lounge\", \"value\": %s}]",
                     cases[i].lounge);
            used(&t, "U-1", "2026-03-01T10:00:00+08:00", "lounge", want);
        }
        rig_close(&t);
    }
}

static void test_use_values_and_unknown(void **state)
{
    LOY_UNUSED(state);
    rig t;
    rig_open(&t, load_policy_text(BENEFIT_POLICY), "M-1", "2026-01-01");
    used(&t, "U-1", "2026-03-01T10:00:00+08:00", "fixed",
         "[{\"type\": \"benefit_used\", \"benefit\": \"fixed\", \"value\": 0.5}]");
    used(&t, "U-2", "2026-03-01T10:00:00+08:00", "word",
         "[{\"type\": \"benefit_used\", \"benefit\": \"word\", \"value\": \"two hours\"}]");
    used(&t, "U-3", "2026-03-01T10:00:00+08:00", "price", "[{\"type\": \"benefit_used\", \"benefit\": \"price\"}]");
    use(&t, "U-4", "2026-03-01T10:00:00+08:00", "valet");
    expect_refused(&t, LOY_E_UNKNOWN_BENEFIT);
    assert_string_equal(loy_result_message(t.r), "no benefit 'valet' in this policy");
    assert_null(refusal_reasons(&t));
    /* closed by its condition */
    refused(&t, "U-5", "2026-03-01T10:00:00+08:00", "lounge", LOY_E_BENEFIT_NOT_OPEN, "[{\"tier_at_least\": \"gold\"}]");
    assert_string_equal(loy_result_message(t.r), "benefit 'lounge' is not open to this member now");
    /* a refused event is not remembered: its id can be used again */
    used(&t, "U-5", "2026-03-02T10:00:00+08:00", "fixed",
         "[{\"type\": \"benefit_used\", \"benefit\": \"fixed\", \"value\": 0.5}]");
    rig_close(&t);
}

static void test_limit_once(void **state)
{
    LOY_UNUSED(state);
    rig t;
    rig_open(&t, load_policy_text(BENEFIT_POLICY), "M-1", "2026-01-01");
    used(&t, "U-1", "2026-03-01T10:00:00+08:00", "once", "[{\"type\": \"benefit_used\", \"benefit\": \"once\"}]");
    refused(&t, "U-2", "2026-03-01T11:00:00+08:00", "once", LOY_E_BENEFIT_LIMIT_REACHED, "[{\"limit\": \"once\"}]");
    assert_true(trace_has(&t, "benefit", "once: not open"));
    refused(&t, "U-3", "2030-03-01T11:00:00+08:00", "once", LOY_E_BENEFIT_LIMIT_REACHED, "[{\"limit\": \"once\"}]");
    assert_int_equal(query(&t, "2030-03-02T10:00:00+08:00", NULL, NULL), LOY_OK);
    assert_node_json(benefit_entry(&t, "once"),
        "{\"id\": \"once\", \"kind\": \"activity\", \"open\": false, \"reasons\": [{\"limit\": \"once\"}]}");
    rig_close(&t);
}

static void test_limit_per_day_week_month(void **state)
{
    LOY_UNUSED(state);
    rig t;
    rig_open(&t, load_policy_text(BENEFIT_POLICY), "M-1", "2026-01-01");
    static const char *const DAILY = "[{\"type\": \"benefit_used\", \"benefit\": \"daily\"}]";
    used(&t, "D-1", "2026-03-05T10:00:00+08:00", "daily", DAILY);
    used(&t, "D-2", "2026-03-05T11:00:00+08:00", "daily", DAILY);
    refused(&t, "D-3", "2026-03-05T23:59:59+08:00", "daily", LOY_E_BENEFIT_LIMIT_REACHED,
            "[{\"limit\": {\"count\": 2, \"per\": \"day\"}}]");
    assert_int_equal(query(&t, "2026-03-05T23:59:59+08:00", NULL, NULL), LOY_OK);
    assert_node_json(benefit_entry(&t, "daily"),
        "{\"id\": \"daily\", \"kind\": \"service\", \"open\": false,"
        " \"reasons\": [{\"limit\": {\"count\": 2, \"per\": \"day\"}}]}");
    used(&t, "D-4", "2026-03-06T00:00:00+08:00", "daily", DAILY);

    /* weeks start on Monday: Friday 6th, Sunday 8th, Monday 9th */
    static const char *const WEEKLY = "[{\"type\": \"benefit_used\", \"benefit\": \"weekly\"}]";
    static const char *const WEEK_REACHED = "[{\"limit\": {\"count\": 1, \"per\": \"week\"}}]";
    used(&t, "W-1", "2026-03-06T10:00:00+08:00", "weekly", WEEKLY);
    refused(&t, "W-2", "2026-03-08T23:59:59+08:00", "weekly", LOY_E_BENEFIT_LIMIT_REACHED, WEEK_REACHED);
    used(&t, "W-3", "2026-03-09T00:00:00+08:00", "weekly", WEEKLY);

    static const char *const MONTHLY = "[{\"type\": \"benefit_used\", \"benefit\": \"monthly\"}]";
    used(&t, "M-1", "2026-03-31T10:00:00+08:00", "monthly", MONTHLY);
    refused(&t, "M-2", "2026-03-31T23:00:00+08:00", "monthly", LOY_E_BENEFIT_LIMIT_REACHED,
            "[{\"limit\": {\"count\": 1, \"per\": \"month\"}}]");
    used(&t, "M-3", "2026-04-01T00:00:00+08:00", "monthly", MONTHLY);
    rig_close(&t);
}

static void test_limit_with_condition(void **state)
{
    LOY_UNUSED(state);
    rig t;
    rig_open(&t, load_policy_text(BENEFIT_POLICY), "M-1", "2026-01-01");
    static const char *const YEARLY = "[{\"type\": \"benefit_used\", \"benefit\": \"yearly\"}]";
    static const char *const YEAR_REACHED = "{\"limit\": {\"count\": 1, \"per\": \"year\"}}";
    refused(&t, "U-1", "2026-02-01T10:00:00+08:00", "yearly", LOY_E_BENEFIT_NOT_OPEN, "[{\"tags\": \"vip\"}]");
    set_tags(&t, "F-1", "2026-02-02T10:00:00+08:00", "vip");
    /* the refused use did not count */
    used(&t, "U-2", "2026-02-03T10:00:00+08:00", "yearly", YEARLY);
    char want[256];
    snprintf(want, sizeof want, "[%s]", YEAR_REACHED);
    refused(&t, "U-3", "2026-12-31T10:00:00+08:00", "yearly", LOY_E_BENEFIT_LIMIT_REACHED, want);
    set_tags(&t, "F-2", "2026-12-31T11:00:00+08:00", NULL);
    /* both reasons: the condition first, the limit last; not "limit reached" */
    snprintf(want, sizeof want, "[{\"tags\": \"vip\"}, %s]", YEAR_REACHED);
    refused(&t, "U-4", "2026-12-31T12:00:00+08:00", "yearly", LOY_E_BENEFIT_NOT_OPEN, want);
    set_tags(&t, "F-3", "2027-01-01T00:00:00+08:00", "vip");
    used(&t, "U-5", "2027-01-01T00:00:01+08:00", "yearly", YEARLY);
    rig_close(&t);
}

static void prepare_nothing(rig *t)
{
    LOY_UNUSED(t);
}

static void build_daily_use(rig *t)
{
    use(t, "D-1", "2026-03-05T10:00:00+08:00", "daily");
}

/* A use whose recording cannot allocate is refused with LOY_E_NOMEM, the
 * member unchanged. */
static void test_nomem_leaves_member_unchanged(void **state)
{
    LOY_UNUSED(state);
    nomem_sweep(BENEFIT_POLICY, prepare_nothing, build_daily_use);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_query_list),
        cmocka_unit_test(test_values_by_tier),
        cmocka_unit_test(test_use_values_and_unknown),
        cmocka_unit_test(test_limit_once),
        cmocka_unit_test(test_limit_per_day_week_month),
        cmocka_unit_test(test_limit_with_condition),
        cmocka_unit_test(test_nomem_leaves_member_unchanged),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
