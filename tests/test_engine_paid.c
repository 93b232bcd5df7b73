/*
 * Paid plans (POLICY.md §7): join, extension (over Feb 29 and month ends),
 * conflicts, savings while a plan runs, the end at the first event after
 * the last day with the guarantee refund, imported plans.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "rules_support.h"

static const char *const PAID_POLICY =
    "loyalty_policy: 1\n"
    "tiers:\n"
    "  qualify_on: spend\n"
    "  levels: [{id: member}]\n"
    "paid:\n"
    "  plans:\n"
    "    - {id: annual, fee: 199, months: 12, guarantee: true}\n"
    "    - {id: monthly, fee: 19, months: 1}\n"
    "    - {id: quarter, fee: 50, months: 3, guarantee: true}\n"
    "benefits:\n"
    "  - {id: paid-only, kind: service, when: {paid: active}}\n";

static void join(rig *t, const char *id, const char *at, const char *plan)
{
    ev(t, LOY_EVENT_JOIN_PAID, id, at);
    assert_int_equal(loy_event_set_plan(t->e, plan), LOY_OK);
}

static void order_saving(rig *t, const char *id, const char *at, int64_t savings)
{
    ev(t, LOY_EVENT_ORDER, id, at);
    assert_int_equal(loy_event_set_savings(t->e, savings), LOY_OK);
    ev_line(t, "KIWI", "fruit", 1000);
}

static void test_join_and_extend_over_feb29(void **state)
{
    LOY_UNUSED(state);
    rig t;
    rig_open(&t, load_policy_text(PAID_POLICY), "M-P1", "2026-01-01");
    join(&t, "P-1", "2027-03-01T09:00:00+08:00", "annual");
    /* 2027-03-01 + 12 months = 2028-03-01, less a day */
    expect_effects(&t, "[{\"type\": \"paid_started\", \"plan\": \"annual\", \"from\": \"2027-03-01\","
                       " \"until\": \"2028-02-29\"}]");
    join(&t, "P-2", "2027-06-01T09:00:00+08:00", "annual");
    /* (2028-02-29 + 1 day) + 12 months - 1 day */
    expect_effects(&t, "[{\"type\": \"paid_started\", \"plan\": \"annual\", \"from\": \"2027-03-01\","
                       " \"until\": \"2029-02-28\", \"extended\": true}]");
    join(&t, "P-3", "2027-06-01T09:01:00+08:00", "annual");
    expect_effects(&t, "[{\"type\": \"paid_started\", \"plan\": \"annual\", \"from\": \"2027-03-01\","
                       " \"until\": \"2030-02-28\", \"extended\": true}]");
    /* three fees, no savings */
    expect_tick(&t, "T-1", "2030-03-01T00:00:00+08:00",
                "[{\"type\": \"paid_ended\", \"plan\": \"annual\", \"until\": \"2030-02-28\", \"refund\": 59700}]");
    rig_close(&t);
}

static void test_join_on_month_ends(void **state)
{
    LOY_UNUSED(state);
    rig t;
    rig_open(&t, load_policy_text(PAID_POLICY), "M-P2", "2026-01-01");
    /* 2026-01-31 + 1 month clamps to 2026-02-28; the plan runs through the 27th */
    join(&t, "P-1", "2026-01-31T09:00:00+08:00", "monthly");
    expect_effects(&t, "[{\"type\": \"paid_started\", \"plan\": \"monthly\", \"from\": \"2026-01-31\","
                       " \"until\": \"2026-02-27\"}]");
    join(&t, "P-2", "2026-02-01T09:00:00+08:00", "monthly");
    expect_effects(&t, "[{\"type\": \"paid_started\", \"plan\": \"monthly\", \"from\": \"2026-01-31\","
                       " \"until\": \"2026-03-27\", \"extended\": true}]");
    /* the day after the last day: the old plan ends in step 2, so another
     * plan may start in step 3 of the same event */
    join(&t, "P-3", "2026-03-28T09:00:00+08:00", "annual");
    expect_effects(&t,
        "[{\"type\": \"paid_ended\", \"plan\": \"monthly\", \"until\": \"2026-03-27\", \"refund\": 0},"
        " {\"type\": \"paid_started\", \"plan\": \"annual\", \"from\": \"2026-03-28\", \"until\": \"2027-03-27\"}]");
    rig_close(&t);

    /* a join on Feb 29 runs to Feb 27 of the next year: (S + 12 months) = Feb 28, less a day */
    rig_open(&t, load_policy_text(PAID_POLICY), "M-P3", "2026-01-01");
    join(&t, "P-1", "2028-02-29T09:00:00+08:00", "annual");
    expect_effects(&t, "[{\"type\": \"paid_started\", \"plan\": \"annual\", \"from\": \"2028-02-29\","
                       " \"until\": \"2029-02-27\"}]");
    rig_close(&t);
}

static void test_conflict_and_unknown(void **state)
{
    LOY_UNUSED(state);
    rig t;
    rig_open(&t, load_policy_text(PAID_POLICY), "M-P4", "2026-01-01");
    join(&t, "P-1", "2026-03-01T09:00:00+08:00", "annual");
    expect_effects(&t, "[{\"type\": \"paid_started\", \"plan\": \"annual\", \"from\": \"2026-03-01\","
                       " \"until\": \"2027-02-28\"}]");
    join(&t, "P-2", "2026-12-01T09:00:00+08:00", "monthly");
    expect_refused(&t, LOY_E_PLAN_CONFLICT);
    assert_string_equal(loy_result_message(t.r), "plan 'annual' is running until 2027-02-28");
    join(&t, "P-3", "2026-12-01T09:01:00+08:00", "platinum-plus");
    expect_refused(&t, LOY_E_UNKNOWN_PLAN);
    assert_string_equal(loy_result_message(t.r), "no paid plan 'platinum-plus' in this policy");
    /* the plan is still the one it was: the refused joins changed nothing */
    expect_tick(&t, "T-1", "2027-02-28T23:59:59+08:00", "[]");
    expect_tick(&t, "T-2", "2027-03-01T00:00:00+08:00",
                "[{\"type\": \"paid_ended\", \"plan\": \"annual\", \"until\": \"2027-02-28\", \"refund\": 19900}]");
    rig_close(&t);
}

static void test_savings_and_refund(void **state)
{
    LOY_UNUSED(state);
    rig t;
    rig_open(&t, load_policy_text(PAID_POLICY), "M-P5", "2026-01-01");
    /* savings with no plan running are ignored */
    order_saving(&t, "O-0", "2026-01-10T10:00:00+08:00", 9900);
    expect_effects(&t, "[]");
    join(&t, "P-1", "2026-01-15T09:00:00+08:00", "quarter");
    expect_effects(&t, "[{\"type\": \"paid_started\", \"plan\": \"quarter\", \"from\": \"2026-01-15\","
                       " \"until\": \"2026-04-14\"}]");
    order_saving(&t, "O-1", "2026-02-01T10:00:00+08:00", 1200);
    expect_effects(&t, "[]");
    /* returns do not reduce savings */
    ev(&t, LOY_EVENT_RETURN, "R-1", "2026-02-02T10:00:00+08:00");
    assert_int_equal(loy_event_set_amount(t.e, 1000), LOY_OK);
    assert_int_equal(loy_event_set_original(t.e, "O-1", "2026-02-01T10:00:00+08:00", 1000, 0), LOY_OK);
    expect_effects(&t, "[]");
    /* the last day still counts */
    order_saving(&t, "O-2", "2026-04-14T23:00:00+08:00", 800);
    expect_effects(&t, "[]");
    assert_int_equal(query(&t, "2026-04-14T23:59:59+08:00", NULL, NULL), LOY_OK);
    assert_node_json(benefit_entry(&t, "paid-only"), "{\"id\": \"paid-only\", \"kind\": \"service\", \"open\": true}");
    /* a query sees the plan ended as step 2 would, without ending it */
    assert_int_equal(query(&t, "2026-04-15T00:00:00+08:00", NULL, NULL), LOY_OK);
    assert_node_json(benefit_entry(&t, "paid-only"),
        "{\"id\": \"paid-only\", \"kind\": \"service\", \"open\": false, \"reasons\": [{\"paid\": \"active\"}]}");
    /* the order that ends the plan in step 2 saves for no plan: 5000 - 2000 */
    order_saving(&t, "O-3", "2026-04-15T10:00:00+08:00", 4000);
    expect_effects(&t,
        "[{\"type\": \"paid_ended\", \"plan\": \"quarter\", \"until\": \"2026-04-14\", \"refund\": 3000}]");
    /* savings above the fee: no refund, never negative */
    join(&t, "P-2", "2026-05-01T09:00:00+08:00", "quarter");
    expect_effects(&t, "[{\"type\": \"paid_started\", \"plan\": \"quarter\", \"from\": \"2026-05-01\","
                       " \"until\": \"2026-07-31\"}]");
    order_saving(&t, "O-4", "2026-05-02T10:00:00+08:00", 6000);
    expect_effects(&t, "[]");
    expect_tick(&t, "T-1", "2026-08-01T00:00:00+08:00",
                "[{\"type\": \"paid_ended\", \"plan\": \"quarter\", \"until\": \"2026-07-31\", \"refund\": 0}]");
    /* no guarantee, no refund */
    join(&t, "P-3", "2026-09-01T09:00:00+08:00", "monthly");
    expect_effects(&t, "[{\"type\": \"paid_started\", \"plan\": \"monthly\", \"from\": \"2026-09-01\","
                       " \"until\": \"2026-09-30\"}]");
    expect_tick(&t, "T-2", "2026-10-05T00:00:00+08:00",
                "[{\"type\": \"paid_ended\", \"plan\": \"monthly\", \"until\": \"2026-09-30\", \"refund\": 0}]");
    expect_tick(&t, "T-3", "2026-11-05T00:00:00+08:00", "[]");
    rig_close(&t);
}

static void test_imported_plan(void **state)
{
    LOY_UNUSED(state);
    rig t;
    rig_open(&t, load_policy_text(PAID_POLICY), "M-P6", "2025-01-01");
    assert_int_equal(loy_member_import_paid(t.m, "annual", "2026-06-30"), LOY_OK);
    order_saving(&t, "O-1", "2026-05-01T10:00:00+08:00", 500);
    expect_effects(&t, "[]");
    /* extending an imported plan: no join date to report */
    join(&t, "P-1", "2026-05-02T09:00:00+08:00", "annual");
    expect_effects(&t, "[{\"type\": \"paid_started\", \"plan\": \"annual\", \"until\": \"2027-06-30\","
                       " \"extended\": true}]");
    /* one fee imported + one paid, less 5.00 saved */
    expect_tick(&t, "T-1", "2027-07-01T00:00:00+08:00",
                "[{\"type\": \"paid_ended\", \"plan\": \"annual\", \"until\": \"2027-06-30\", \"refund\": 39300}]");
    rig_close(&t);

    rig_open(&t, load_policy_text(PAID_POLICY), "M-P7", "2025-01-01");
    assert_int_equal(loy_member_import_paid(t.m, "monthly", "2026-03-31"), LOY_OK);
    join(&t, "P-1", "2026-03-15T09:00:00+08:00", "annual");
    expect_refused(&t, LOY_E_PLAN_CONFLICT);
    assert_string_equal(loy_result_message(t.r), "plan 'monthly' is running until 2026-03-31");
    expect_tick(&t, "T-1", "2026-04-01T00:00:00+08:00",
                "[{\"type\": \"paid_ended\", \"plan\": \"monthly\", \"until\": \"2026-03-31\", \"refund\": 0}]");
    rig_close(&t);
}

static void prepare_plan(rig *t)
{
    assert_int_equal(loy_member_import_paid(t->m, "annual", "2026-06-30"), LOY_OK);
}

static void build_order_ending_plan(rig *t)
{
    order_saving(t, "O-1", "2026-07-01T10:00:00+08:00", 100);
}

static void test_nomem_leaves_member_unchanged(void **state)
{
    LOY_UNUSED(state);
    nomem_sweep(PAID_POLICY, prepare_plan, build_order_ending_plan);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_join_and_extend_over_feb29),
        cmocka_unit_test(test_join_on_month_ends),
        cmocka_unit_test(test_conflict_and_unknown),
        cmocka_unit_test(test_savings_and_refund),
        cmocka_unit_test(test_imported_plan),
        cmocka_unit_test(test_nomem_leaves_member_unchanged),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
