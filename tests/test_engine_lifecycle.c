/*
 * Lifecycle stages (POLICY.md §8): the first stage whose condition holds,
 * its change reported as an effect, the `lifecycle` predicate seeing the
 * stage at the start of the event, the starting stage of new and imported
 * members (no event), and a state without a stage.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "rules_support.h"

static const char *const STAGE_POLICY =
    "loyalty_policy: 1\n"
    "tiers: {qualify_on: spend, levels: [{id: member}]}\n"
    "benefits:\n"
    "  - {id: vip-lounge, kind: service, when: {lifecycle: vip}}\n"
    "lifecycle:\n"
    "  - {id: dormant, when: {days_since_last_order_at_least: 30}}\n"
    "  - {id: vip, when: {lifecycle: [repeat, vip], tags: vip}}\n"
    "  - {id: repeat, when: {orders_at_least: 2}}\n"
    "  - {id: first, when: {orders_at_least: 1}}\n"
    "  - {id: registered}\n";

static void order(rig *t, const char *id, const char *at)
{
    ev(t, LOY_EVENT_ORDER, id, at);
    ev_line(t, "SKU", "food", 1000);
}

#define CHANGE(from, to) "[{\"type\": \"stage_changed\", \"from\": \"" from "\", \"to\": \"" to "\"}]"

static void test_stages_over_time(void **state)
{
    LOY_UNUSED(state);
    rig t;
    rig_open(&t, load_policy_text(STAGE_POLICY), "M-L1", "2026-01-01");
    assert_string_equal(loy_member_stage(t.m), "registered");
    order(&t, "O-1", "2026-01-05T10:00:00+08:00");
    expect_effects(&t, CHANGE("registered", "first"));
    expect_member(&t, "{\"tier\": \"member\", \"points\": {\"available\": 0, \"pending\": 0}, \"stage\": \"first\"}");
    order(&t, "O-2", "2026-01-06T10:00:00+08:00");
    expect_effects(&t, CHANGE("first", "repeat"));
    ev(&t, LOY_EVENT_PROFILE, "F-1", "2026-01-07T10:00:00+08:00");
    assert_int_equal(loy_event_add_tag(t.e, "vip"), LOY_OK);
    expect_effects(&t, CHANGE("repeat", "vip"));
    expect_tick(&t, "T-1", "2026-01-20T10:00:00+08:00", "[]");
    assert_true(trace_has(&t, "stage", "vip: condition holds"));
    /* 30 days after the last order */
    expect_tick(&t, "T-2", "2026-02-05T00:00:00+08:00", CHANGE("vip", "dormant"));
    assert_true(trace_has(&t, "stage", "dormant: condition holds"));
    assert_int_equal(query(&t, "2026-02-06T10:00:00+08:00", NULL, NULL), LOY_OK);
    assert_node_json(benefit_entry(&t, "vip-lounge"),
        "{\"id\": \"vip-lounge\", \"kind\": \"service\", \"open\": false, \"reasons\": [{\"lifecycle\": \"vip\"}]}");
    /* the event starts dormant, so `vip` does not hold yet */
    order(&t, "O-3", "2026-02-10T10:00:00+08:00");
    expect_effects(&t, CHANGE("dormant", "repeat"));
    assert_true(trace_has(&t, "stage", "dormant: condition failed"));
    assert_true(trace_has(&t, "stage", "vip: condition failed"));
    expect_tick(&t, "T-3", "2026-02-11T10:00:00+08:00", CHANGE("repeat", "vip"));
    assert_int_equal(query(&t, "2026-02-11T10:00:01+08:00", NULL, NULL), LOY_OK);
    assert_node_json(benefit_entry(&t, "vip-lounge"), "{\"id\": \"vip-lounge\", \"kind\": \"service\", \"open\": true}");
    rig_close(&t);
}

static void test_imported_member_starting_stage(void **state)
{
    LOY_UNUSED(state);
    rig t;
    rig_open(&t, load_policy_text(STAGE_POLICY), "M-L2", "2025-01-01");
    assert_int_equal(loy_member_add_tag(t.m, "vip"), LOY_OK);
    assert_int_equal(loy_member_import_orders(t.m, 3), LOY_OK);
    assert_int_equal(loy_member_import_last_order(t.m, "2025-06-01"), LOY_OK);
    /* as of 2025-06-01, with no event: `lifecycle` does not hold, so not vip */
    assert_string_equal(loy_member_stage(t.m), "repeat");
    expect_tick(&t, "T-1", "2025-06-02T10:00:00+08:00", CHANGE("repeat", "vip"));
    rig_close(&t);
}

static void test_state_without_stage(void **state)
{
    LOY_UNUSED(state);
    loy_policy *plain = load_policy_text("loyalty_policy: 1\n"
                                         "tiers: {qualify_on: spend, levels: [{id: member}]}\n");
    loy_member *m = NULL;
    assert_int_equal(loy_member_new(&m, plain, "M-L3", "2026-01-01"), LOY_OK);
    assert_null(loy_member_stage(m));
    const void *bytes;
    size_t len;
    assert_int_equal(loy_member_to_bytes(m, &bytes, &len), LOY_OK);

    rig t;
    rig_open(&t, load_policy_text(STAGE_POLICY), "M-L3", "2026-01-01");
    assert_int_equal(loy_member_load(t.m, bytes, len), LOY_OK);
    assert_null(loy_member_stage(t.m));
    expect_tick(&t, "T-1", "2026-01-02T10:00:00+08:00",
                "[{\"type\": \"stage_changed\", \"from\": null, \"to\": \"registered\"}]");
    expect_tick(&t, "T-2", "2026-01-03T10:00:00+08:00", "[]");
    rig_close(&t);
    loy_member_free(m);
    loy_policy_free(plain);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stages_over_time),
        cmocka_unit_test(test_imported_member_starting_stage),
        cmocka_unit_test(test_state_without_stage),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
