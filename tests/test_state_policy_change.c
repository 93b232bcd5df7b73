/*
 * A state loaded under a changed policy (POLICY.md §10.2), one rule at a
 * time: thresholds moved, tiers added, inserted and removed, a running plan
 * removed, lifecycle added and removed, a stage removed, limits whose count
 * or period changed, actions, benefits and gifts dropped, a gift's period
 * changed, a policy that lists the same things in another order.
 *
 * Every case starts from one member made under the base policy, whose state
 * is worked out by hand below, and loads its bytes under a variant.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "state_support.h"

/* The base policy, in sections, so a variant replaces one of them. */
typedef struct policy_parts {
    const char *tiers;
    const char *points;
    const char *gifts;
    const char *benefits;
    const char *paid;
    const char *lifecycle;
} policy_parts;

static const policy_parts BASE = {
    .tiers = "tiers:\n"
             "  qualify_on: spend\n"
             "  window: 12_months\n"
             "  levels:\n"
             "    - {id: member}\n"
             "    - {id: silver, at: 1000}\n"
             "    - {id: gold, at: 3000}\n",
    .points = "points:\n"
              "  earn: {rate: {amount: 1, points: 1}}\n"
              "  actions:\n"
              "    signup: {points: 100, limit: once}\n"
              "    review: {points: 10, limit: {count: 3, per: month}}\n"
              "    share: {points: 5, limit: {count: 2, per: day}}\n",
    .gifts = "gifts:\n"
             "  upgrade: {by_tier: {silver: {points: 200}, gold: {points: 500}}}\n"
             "  surprise:\n"
             "    - {id: s-life, reward: {coupons: [S1]}}\n"
             "    - {id: s-year, reward: {coupons: [S2]}, once: per_year}\n"
             "  spend:\n"
             "    - {id: m-credit, period: calendar_month, at_least: 500, reward: {credit: 5}}\n",
    .benefits = "benefits:\n"
                "  - {id: lounge, kind: service, limit: {count: 1, per: year}}\n"
                "  - {id: welcome, kind: gift, limit: once}\n",
    .paid = "paid:\n"
            "  plans:\n"
            "    - {id: annual, fee: 199, months: 12, guarantee: true}\n"
            "    - {id: monthly, fee: 19, months: 1}\n",
    .lifecycle = "lifecycle:\n"
                 "  - {id: dormant, when: {days_since_last_order_at_least: 365}}\n"
                 "  - {id: first, when: {orders_at_least: 1}}\n"
                 "  - {id: registered}\n",
};

static loy_policy *policy_of(policy_parts v)
{
    static char text[8192];
    snprintf(text, sizeof text, "loyalty_policy: 1\n%s%s%s%s%s%s", v.tiers ? v.tiers : "",
             v.points ? v.points : "", v.gifts ? v.gifts : "", v.benefits ? v.benefits : "",
             v.paid ? v.paid : "", v.lifecycle ? v.lifecycle : "");
    return load_policy_text(text);
}

#define OK_APPLY(t)                                                                            \
    do {                                                                                       \
        int rc_ = apply(t);                                                                    \
        if (rc_ != LOY_OK)                                                                     \
            fprintf(stderr, "refused: %s: %s\n", loy_error_name(rc_), loy_result_message((t)->r)); \
        assert_int_equal(rc_, LOY_OK);                                                         \
    } while (0)

static void act(rig *t, const char *id, const char *at, const char *kind)
{
    ev(t, LOY_EVENT_ACTION, id, at);
    assert_int_equal(loy_event_set_kind(t->e, kind), LOY_OK);
}

static void use(rig *t, const char *id, const char *at, const char *benefit)
{
    ev(t, LOY_EVENT_USE_BENEFIT, id, at);
    assert_int_equal(loy_event_set_benefit(t->e, benefit), LOY_OK);
}

/*
 * The member of every case, under `parts` (the base, or the base without
 * lifecycle): joined 2026-01-01, then in March 2026
 *   signup (+100; s-life and s-year 2026 given at this first event),
 *   an order of 3500.00 (+3500; member -> gold: silver's 200 and gold's 500;
 *     m-credit for 2026-03),
 *   3 reviews (+30, the month's limit reached), a share (+5),
 *   lounge and welcome used, the annual plan joined (until 2027-03-07).
 * Available: 100 + 3500 + 200 + 500 + 30 + 5 = 4335 points.
 */
static blob member_state(policy_parts parts)
{
    rig t;
    rig_open(&t, policy_of(parts), "M-CHG", "2026-01-01");
    act(&t, "A-1", "2026-03-01T10:00:00+08:00", "signup");
    OK_APPLY(&t);
    ev(&t, LOY_EVENT_ORDER, "O-1", "2026-03-02T10:00:00+08:00");
    ev_line(&t, "COAT", "coats", 350000);
    OK_APPLY(&t);
    act(&t, "R-1", "2026-03-03T10:00:00+08:00", "review");
    OK_APPLY(&t);
    act(&t, "R-2", "2026-03-04T10:00:00+08:00", "review");
    OK_APPLY(&t);
    act(&t, "R-3", "2026-03-05T10:00:00+08:00", "review");
    OK_APPLY(&t);
    act(&t, "S-1", "2026-03-06T10:00:00+08:00", "share");
    OK_APPLY(&t);
    use(&t, "U-1", "2026-03-07T10:00:00+08:00", "lounge");
    OK_APPLY(&t);
    use(&t, "U-2", "2026-03-07T11:00:00+08:00", "welcome");
    OK_APPLY(&t);
    ev(&t, LOY_EVENT_JOIN_PAID, "J-1", "2026-03-08T10:00:00+08:00");
    assert_int_equal(loy_event_set_plan(t.e, "annual"), LOY_OK);
    OK_APPLY(&t);
    assert_int_equal(loy_member_points_available(t.m), 4335);
    assert_string_equal(loy_member_tier(t.m), "gold");
    blob b = state_of(t.m);
    rig_close(&t);
    return b;
}

/* A rig whose member is the state loaded under the variant. */
static void open_loaded(rig *t, policy_parts parts, const blob *b)
{
    memset(t, 0, sizeof *t);
    t->p = policy_of(parts);
    t->m = loaded(t->p, b);
    assert_int_equal(loy_event_new(&t->e, t->p), LOY_OK);
    assert_int_equal(loy_result_new(&t->r, t->p), LOY_OK);
}

/* The load is refused with LOY_E_STATE_POLICY and this message; the handle
 * keeps what it held. */
static void expect_policy_refusal(policy_parts parts, const blob *b, const char *message)
{
    loy_policy *p = policy_of(parts);
    loy_member *m = NULL;
    assert_int_equal(loy_member_new(&m, p, "BYSTANDER", "2020-01-01"), LOY_OK);
    blob before = state_of(m);
    assert_int_equal(loy_member_load(m, b->data, b->len), LOY_E_STATE_POLICY);
    assert_string_equal(loy_member_error(m), message);
    assert_state_is(m, &before);
    free(before.data);
    loy_member_free(m);
    loy_policy_free(p);
}

static bool effects_have(rig *t, const char *type, const char *key, const char *value)
{
    const loy_node *list = root_get(t, "effects");
    for (const loy_node *e = loy_node_first(list); e; e = loy_node_next(e)) {
        const char *ty = loy_node_str(loy_node_get(e, "type"), NULL);
        const char *v = loy_node_str(loy_node_get(e, key), NULL);
        if (ty && v && strcmp(ty, type) == 0 && strcmp(v, value) == 0)
            return true;
    }
    return false;
}

static blob base_state;

static int setup(void **state)
{
    LOY_UNUSED(state);
    base_state = member_state(BASE);
    return 0;
}

static int teardown(void **state)
{
    LOY_UNUSED(state);
    free(base_state.data);
    return 0;
}

/* ------------------------------------------------------------------ tiers */

static void test_same_policy(void **state)
{
    LOY_UNUSED(state);
    loy_policy *p = policy_of(BASE);
    assert_round_trip(p, &base_state);
    loy_policy_free(p);
}

static void test_thresholds_moved(void **state)
{
    LOY_UNUSED(state);
    policy_parts v = BASE;
    v.tiers = "tiers:\n"
              "  qualify_on: spend\n"
              "  window: 12_months\n"
              "  levels:\n"
              "    - {id: member}\n"
              "    - {id: silver, at: 2000}\n"
              "    - {id: gold, at: 8000}\n";
    rig t;
    open_loaded(&t, v, &base_state);
    /* the tier does not move at the change itself, nor at the next event:
     * only an upgrade or a review moves it, and there are no reviews */
    assert_string_equal(loy_member_tier(t.m), "gold");
    char since[11];
    assert_int_equal(loy_member_tier_since(t.m, since), LOY_OK);
    assert_string_equal(since, "2026-03-02");
    expect_tick(&t, "T-1", "2026-03-10T10:00:00+08:00", "[]");
    assert_string_equal(loy_member_tier(t.m), "gold");
    /* the monthly figures carried over: 3500.00 in the window */
    int64_t metric;
    assert_int_equal(loy_member_metric(t.m, "2026-03-31", &metric), LOY_OK);
    assert_int_equal(metric, 350000);
    assert_int_equal(loy_member_points_available(t.m), 4335);
    rig_close(&t);
}

static void test_tier_added_and_inserted(void **state)
{
    LOY_UNUSED(state);
    policy_parts v = BASE;
    v.tiers = "tiers:\n"
              "  qualify_on: spend\n"
              "  window: 12_months\n"
              "  levels:\n"
              "    - {id: member}\n"
              "    - {id: bronze, at: 500}\n"
              "    - {id: silver, at: 1000}\n"
              "    - {id: gold, at: 3000}\n"
              "    - {id: platinum, at: 5000}\n";
    v.gifts = "gifts:\n"
              "  upgrade: {by_tier: {bronze: {points: 1}, silver: {points: 200}, gold: {points: 500},"
              " platinum: {points: 900}}}\n"
              "  surprise:\n"
              "    - {id: s-life, reward: {coupons: [S1]}}\n"
              "    - {id: s-year, reward: {coupons: [S2]}, once: per_year}\n"
              "  spend:\n"
              "    - {id: m-credit, period: calendar_month, at_least: 500, reward: {credit: 5}}\n";
    rig t;
    open_loaded(&t, v, &base_state);
    assert_string_equal(loy_member_tier(t.m), "gold");
    /* the ledger follows the ids, not the positions */
    assert_int_equal(t.m->tier, 3);
    assert_int_equal(t.m->upgrade_given[1], 0);
    assert_int_equal(t.m->upgrade_given[2], 1);
    assert_int_equal(t.m->upgrade_given[3], 1);
    assert_int_equal(t.m->upgrade_given[4], 0);
    /* 1500.00 more reaches platinum (5000.00 in 12 months): only platinum's
     * gift, silver's and gold's having been given */
    ev(&t, LOY_EVENT_ORDER, "O-2", "2026-03-11T10:00:00+08:00");
    ev_line(&t, "BAG", "bags", 150000);
    expect_effects(&t,
        "[{\"type\": \"points\", \"delta\": 1500, \"source\": \"order\", \"rules\": []},"
        " {\"type\": \"tier_changed\", \"from\": \"gold\", \"to\": \"platinum\", \"reason\": \"upgrade\"},"
        " {\"type\": \"gift\", \"gift\": \"upgrade\", \"tier\": \"platinum\", \"reward\": {\"points\": 900}},"
        " {\"type\": \"points\", \"delta\": 900, \"source\": \"upgrade\"}]");
    rig_close(&t);
}

static void test_tier_removed(void **state)
{
    LOY_UNUSED(state);
    policy_parts v = BASE;
    v.tiers = "tiers:\n"
              "  qualify_on: spend\n"
              "  window: 12_months\n"
              "  levels:\n"
              "    - {id: member}\n"
              "    - {id: silver, at: 1000}\n"
              "    - {id: platinum, at: 5000}\n";
    v.gifts = "gifts:\n"
              "  upgrade: {by_tier: {silver: {points: 200}}}\n";
    expect_policy_refusal(v, &base_state, "state names tier 'gold', which this policy lacks");
}

static void test_other_tier_removed(void **state)
{
    LOY_UNUSED(state);
    /* silver goes; the member is gold: it loads, and silver's gift entry is dropped */
    policy_parts v = BASE;
    v.tiers = "tiers:\n"
              "  qualify_on: spend\n"
              "  window: 12_months\n"
              "  levels:\n"
              "    - {id: member}\n"
              "    - {id: gold, at: 3000}\n";
    v.gifts = "gifts:\n"
              "  upgrade: {by_tier: {gold: {points: 500}}}\n"
              "  surprise:\n"
              "    - {id: s-life, reward: {coupons: [S1]}}\n"
              "    - {id: s-year, reward: {coupons: [S2]}, once: per_year}\n"
              "  spend:\n"
              "    - {id: m-credit, period: calendar_month, at_least: 500, reward: {credit: 5}}\n";
    rig t;
    open_loaded(&t, v, &base_state);
    assert_string_equal(loy_member_tier(t.m), "gold");
    assert_int_equal(t.m->upgrade_given[0], 0);
    assert_int_equal(t.m->upgrade_given[1], 1);
    assert_true(bytes_contain(&base_state, "silver"));
    blob b = state_of(t.m);
    assert_false(bytes_contain(&b, "silver"));
    assert_round_trip(t.p, &b);
    free(b.data);
    rig_close(&t);
}

/* ------------------------------------------------------------------ plans */

static void test_running_plan_removed(void **state)
{
    LOY_UNUSED(state);
    policy_parts v = BASE;
    v.paid = "paid:\n"
             "  plans:\n"
             "    - {id: monthly, fee: 19, months: 1}\n";
    expect_policy_refusal(v, &base_state, "state names running plan 'annual', which this policy lacks");
    v.paid = NULL;
    expect_policy_refusal(v, &base_state, "state names running plan 'annual', which this policy lacks");
}

static void test_plan_carries_over(void **state)
{
    LOY_UNUSED(state);
    /* annual now costs more and comes second: fees and savings as they stood */
    policy_parts v = BASE;
    v.paid = "paid:\n"
             "  plans:\n"
             "    - {id: monthly, fee: 19, months: 1}\n"
             "    - {id: annual, fee: 299, months: 12, guarantee: true}\n";
    rig t;
    open_loaded(&t, v, &base_state);
    assert_int_equal(t.m->plan, 1);
    assert_int_equal(t.m->plan_fees, 19900);
    assert_int_equal(t.m->plan_from, day_of("2026-03-08"));
    assert_int_equal(t.m->plan_until, day_of("2027-03-07"));
    /* it ends after its last day with the guarantee: 199.00 paid, 0 saved;
     * 2027 brings s-year again, and 371 days after the order the member is
     * dormant */
    expect_tick(&t, "T-1", "2027-03-08T10:00:00+08:00",
                "[{\"type\": \"paid_ended\", \"plan\": \"annual\", \"until\": \"2027-03-07\", \"refund\": 19900},"
                " {\"type\": \"gift\", \"gift\": \"surprise\", \"id\": \"s-year\", \"reward\": {\"coupons\": [\"S2\"]}},"
                " {\"type\": \"stage_changed\", \"from\": \"first\", \"to\": \"dormant\"}]");
    rig_close(&t);
}

/* -------------------------------------------------------------- lifecycle */

static void test_lifecycle_added(void **state)
{
    LOY_UNUSED(state);
    policy_parts without = BASE;
    without.lifecycle = NULL;
    blob b = member_state(without);
    rig t;
    open_loaded(&t, BASE, &b);
    /* no stage at the load itself */
    assert_null(loy_member_stage(t.m));
    assert_int_equal(t.m->stage, -1);
    /* the next event gives it one, reported as a change from null */
    expect_tick(&t, "T-1", "2026-03-10T10:00:00+08:00",
                "[{\"type\": \"stage_changed\", \"from\": null, \"to\": \"first\"}]");
    assert_string_equal(loy_member_stage(t.m), "first");
    free(b.data);
    rig_close(&t);
}

static void test_lifecycle_removed(void **state)
{
    LOY_UNUSED(state);
    policy_parts v = BASE;
    v.lifecycle = NULL;
    rig t;
    open_loaded(&t, v, &base_state);
    assert_null(loy_member_stage(t.m));
    expect_tick(&t, "T-1", "2026-03-10T10:00:00+08:00", "[]");
    expect_member(&t, "{\"tier\": \"gold\", \"points\": {\"available\": 4335, \"pending\": 0}, \"stage\": null}");
    blob b = state_of(t.m);
    assert_false(bytes_contain(&b, "first"));
    free(b.data);
    rig_close(&t);
}

static void test_stage_removed(void **state)
{
    LOY_UNUSED(state);
    policy_parts v = BASE;
    v.lifecycle = "lifecycle:\n"
                  "  - {id: dormant, when: {days_since_last_order_at_least: 365}}\n"
                  "  - {id: buyer, when: {orders_at_least: 1}}\n"
                  "  - {id: registered}\n";
    expect_policy_refusal(v, &base_state, "state names stage 'first', which this policy lacks");
}

/* ----------------------------------------------------------------- limits */

static policy_parts with_review_limit(const char *limit)
{
    static char points[512];
    snprintf(points, sizeof points,
             "points:\n"
             "  earn: {rate: {amount: 1, points: 1}}\n"
             "  actions:\n"
             "    signup: {points: 100, limit: once}\n"
             "    review: {points: 10%s%s}\n"
             "    share: {points: 5, limit: {count: 2, per: day}}\n",
             limit ? ", limit: " : "", limit ? limit : "");
    policy_parts v = BASE;
    v.points = points;
    return v;
}

/* A review later in March 2026: the effects it gets under the variant. */
static void expect_review(policy_parts v, const char *effects)
{
    rig t;
    open_loaded(&t, v, &base_state);
    act(&t, "R-4", "2026-03-20T10:00:00+08:00", "review");
    expect_effects(&t, effects);
    rig_close(&t);
}

static const char REVIEW_EARNS[] =
    "[{\"type\": \"points\", \"delta\": 10, \"source\": \"action\", \"kind\": \"review\"}]";

static void test_limit_count_changed(void **state)
{
    LOY_UNUSED(state);
    /* 3 reviews counted in March: the new count applies to them */
    expect_review(BASE, "[]");
    expect_review(with_review_limit("{count: 5, per: month}"), REVIEW_EARNS);
    expect_review(with_review_limit("{count: 2, per: month}"), "[]");
}

static void test_limit_period_changed(void **state)
{
    LOY_UNUSED(state);
    /* another period, or a limit that went and came back, counts from zero */
    expect_review(with_review_limit("{count: 3, per: week}"), REVIEW_EARNS);
    expect_review(with_review_limit("{count: 3, per: year}"), REVIEW_EARNS);
    expect_review(with_review_limit("once"), REVIEW_EARNS);
    expect_review(with_review_limit(NULL), REVIEW_EARNS);
    rig t;
    open_loaded(&t, with_review_limit("{count: 3, per: week}"), &base_state);
    for (size_t i = 0; i < t.m->action_count; i++)
        assert_string_not_equal(t.p->points.actions[t.m->actions[i].index].kind, "review");
    rig_close(&t);
}

static void test_once_kept_or_reset(void **state)
{
    LOY_UNUSED(state);
    rig t;
    open_loaded(&t, BASE, &base_state);
    act(&t, "A-2", "2026-03-20T10:00:00+08:00", "signup");
    expect_effects(&t, "[]");
    rig_close(&t);

    policy_parts v = BASE;
    v.points = "points:\n"
               "  earn: {rate: {amount: 1, points: 1}}\n"
               "  actions:\n"
               "    signup: {points: 100, limit: {count: 1, per: year}}\n"
               "    review: {points: 10, limit: {count: 3, per: month}}\n"
               "    share: {points: 5, limit: {count: 2, per: day}}\n";
    open_loaded(&t, v, &base_state);
    act(&t, "A-2", "2026-03-20T10:00:00+08:00", "signup");
    expect_effects(&t, "[{\"type\": \"points\", \"delta\": 100, \"source\": \"action\", \"kind\": \"signup\"}]");
    rig_close(&t);
}

static void test_actions_reordered(void **state)
{
    LOY_UNUSED(state);
    /* the same limits listed in another order, and a new kind first */
    policy_parts v = BASE;
    v.points = "points:\n"
               "  earn: {rate: {amount: 1, points: 1}}\n"
               "  actions:\n"
               "    check_in: {points: 1, limit: {count: 1, per: day}}\n"
               "    share: {points: 5, limit: {count: 2, per: day}}\n"
               "    review: {points: 10, limit: {count: 3, per: month}}\n"
               "    signup: {points: 100, limit: once}\n";
    expect_review(v, "[]");
    rig t;
    open_loaded(&t, v, &base_state);
    act(&t, "A-2", "2026-03-20T10:00:00+08:00", "signup");
    expect_effects(&t, "[]");
    /* share's count was for 2026-03-06: another day starts afresh */
    act(&t, "S-2", "2026-03-20T11:00:00+08:00", "share");
    expect_effects(&t, "[{\"type\": \"points\", \"delta\": 5, \"source\": \"action\", \"kind\": \"share\"}]");
    act(&t, "C-1", "2026-03-20T12:00:00+08:00", "check_in");
    expect_effects(&t, "[{\"type\": \"points\", \"delta\": 1, \"source\": \"action\", \"kind\": \"check_in\"}]");
    rig_close(&t);
}

static void test_benefit_limits(void **state)
{
    LOY_UNUSED(state);
    struct {
        const char *benefits;
        int lounge, welcome;
    } cases[] = {
        /* unchanged: both used up */
        {NULL, LOY_E_BENEFIT_LIMIT_REACHED, LOY_E_BENEFIT_LIMIT_REACHED},
        /* a higher count in the same period: one more use */
        {"benefits:\n"
         "  - {id: welcome, kind: gift, limit: once}\n"
         "  - {id: lounge, kind: service, limit: {count: 2, per: year}}\n",
         LOY_OK, LOY_E_BENEFIT_LIMIT_REACHED},
        /* other periods: counted from zero */
        {"benefits:\n"
         "  - {id: lounge, kind: service, limit: {count: 1, per: month}}\n"
         "  - {id: welcome, kind: gift, limit: {count: 1, per: year}}\n",
         LOY_OK, LOY_OK},
    };
    for (size_t i = 0; i < LOY_ARRAY_LEN(cases); i++) {
        policy_parts v = BASE;
        if (cases[i].benefits)
            v.benefits = cases[i].benefits;
        rig t;
        open_loaded(&t, v, &base_state);
        use(&t, "U-3", "2026-03-20T10:00:00+08:00", "lounge");
        assert_int_equal(apply(&t), cases[i].lounge);
        use(&t, "U-4", "2026-03-20T11:00:00+08:00", "welcome");
        assert_int_equal(apply(&t), cases[i].welcome);
        rig_close(&t);
    }
}

/* ------------------------------------------------------- dropped entries */

static void test_dropped_entries(void **state)
{
    LOY_UNUSED(state);
    policy_parts v = BASE;
    v.points = "points:\n"
               "  earn: {rate: {amount: 1, points: 1}}\n"
               "  actions:\n"
               "    signup: {points: 100, limit: once}\n"
               "    review: {points: 10, limit: {count: 3, per: month}}\n";
    v.benefits = "benefits:\n"
                 "  - {id: welcome, kind: gift, limit: once}\n";
    v.gifts = "gifts:\n"
              "  upgrade: {by_tier: {silver: {points: 200}, gold: {points: 500}}}\n"
              "  surprise:\n"
              "    - {id: s-year, reward: {coupons: [S2]}, once: per_year}\n"
              "  spend:\n"
              "    - {id: m-credit, period: calendar_month, at_least: 500, reward: {credit: 5}}\n";
    for (size_t i = 0; i < 3; i++)
        assert_true(bytes_contain(&base_state, (const char *[]){"share", "lounge", "s-life"}[i]));
    rig t;
    open_loaded(&t, v, &base_state);
    assert_int_equal(t.m->action_count, 2);
    assert_int_equal(t.m->benefit_use_count, 1);
    assert_int_equal(t.m->surprise_given_count, 1);
    blob b = state_of(t.m);
    assert_false(bytes_contain(&b, "share"));
    assert_false(bytes_contain(&b, "lounge"));
    assert_false(bytes_contain(&b, "s-life"));
    assert_round_trip(t.p, &b);
    /* everything else is as it stood */
    assert_int_equal(loy_member_points_available(t.m), 4335);
    act(&t, "R-4", "2026-03-20T10:00:00+08:00", "review");
    expect_effects(&t, "[]");
    /* and a gift that comes back later starts from nothing */
    free(b.data);
    b = state_of(t.m);
    rig_close(&t);
    open_loaded(&t, BASE, &b);
    ev(&t, LOY_EVENT_TICK, "T-1", "2026-03-21T10:00:00+08:00");
    OK_APPLY(&t);
    assert_true(effects_have(&t, "gift", "id", "s-life"));
    free(b.data);
    rig_close(&t);
}

static void test_spend_gift_period_changed(void **state)
{
    LOY_UNUSED(state);
    /* unchanged: March 2026 already had its m-credit */
    rig t;
    open_loaded(&t, BASE, &base_state);
    ev(&t, LOY_EVENT_ORDER, "O-2", "2026-03-20T10:00:00+08:00");
    ev_line(&t, "HAT", "hats", 60000);
    OK_APPLY(&t);
    assert_false(effects_have(&t, "gift", "id", "m-credit"));
    rig_close(&t);

    /* now per calendar year: the month's entry says nothing about 2026 */
    policy_parts v = BASE;
    v.gifts = "gifts:\n"
              "  upgrade: {by_tier: {silver: {points: 200}, gold: {points: 500}}}\n"
              "  surprise:\n"
              "    - {id: s-life, reward: {coupons: [S1]}}\n"
              "    - {id: s-year, reward: {coupons: [S2]}, once: per_year}\n"
              "  spend:\n"
              "    - {id: m-credit, period: calendar_year, at_least: 500, reward: {credit: 5}}\n";
    open_loaded(&t, v, &base_state);
    assert_int_equal(t.m->spend_given_count, 1);        /* kept as it stands (§10.2) */
    ev(&t, LOY_EVENT_ORDER, "O-2", "2026-03-20T10:00:00+08:00");
    ev_line(&t, "HAT", "hats", 60000);
    OK_APPLY(&t);
    assert_true(effects_have(&t, "gift", "period", "2026"));

    /* back per month: March 2026's entry still stands, and the year's
     * entry is kept beside it */
    blob b = state_of(t.m);
    assert_round_trip(t.p, &b);
    rig_close(&t);
    open_loaded(&t, BASE, &b);
    assert_int_equal(t.m->spend_given_count, 2);
    ev(&t, LOY_EVENT_ORDER, "O-3", "2026-03-21T10:00:00+08:00");
    ev_line(&t, "HAT", "hats", 60000);
    OK_APPLY(&t);
    assert_false(effects_have(&t, "gift", "id", "m-credit"));
    ev(&t, LOY_EVENT_ORDER, "O-4", "2026-04-02T10:00:00+08:00");
    ev_line(&t, "HAT", "hats", 60000);
    OK_APPLY(&t);
    assert_true(effects_have(&t, "gift", "period", "2026-04"));
    free(b.data);
    rig_close(&t);
}

static void test_surprise_once_changed(void **state)
{
    LOY_UNUSED(state);
    /* per_year: 2027 brings s-year again */
    rig t;
    open_loaded(&t, BASE, &base_state);
    ev(&t, LOY_EVENT_TICK, "T-1", "2027-01-05T10:00:00+08:00");
    OK_APPLY(&t);
    assert_true(effects_have(&t, "gift", "id", "s-year"));
    rig_close(&t);

    /* now once in a lifetime: given in 2026, so never again */
    policy_parts v = BASE;
    v.gifts = "gifts:\n"
              "  upgrade: {by_tier: {silver: {points: 200}, gold: {points: 500}}}\n"
              "  surprise:\n"
              "    - {id: s-life, reward: {coupons: [S1]}}\n"
              "    - {id: s-year, reward: {coupons: [S2]}, once: lifetime}\n"
              "  spend:\n"
              "    - {id: m-credit, period: calendar_month, at_least: 500, reward: {credit: 5}}\n";
    open_loaded(&t, v, &base_state);
    ev(&t, LOY_EVENT_TICK, "T-1", "2027-01-05T10:00:00+08:00");
    OK_APPLY(&t);
    assert_false(effects_have(&t, "gift", "id", "s-year"));
    blob b = state_of(t.m);
    assert_round_trip(t.p, &b);
    rig_close(&t);

    /* per_year again: the entry kept its year (2026), so 2027, which the
     * lifetime policy refused it, brings it */
    open_loaded(&t, BASE, &b);
    ev(&t, LOY_EVENT_TICK, "T-2", "2027-01-06T10:00:00+08:00");
    OK_APPLY(&t);
    assert_true(effects_have(&t, "gift", "id", "s-year"));
    free(b.data);
    rig_close(&t);
}

/* -------------------------------------------------- what always carries */

static void test_ids_and_instant_carry_over(void **state)
{
    LOY_UNUSED(state);
    policy_parts v = BASE;
    v.lifecycle = NULL;
    v.paid = "paid:\n"
             "  plans:\n"
             "    - {id: annual, fee: 199, months: 12}\n";
    rig t;
    open_loaded(&t, v, &base_state);
    ev(&t, LOY_EVENT_TICK, "O-1", "2026-03-20T10:00:00+08:00");
    assert_int_equal(apply(&t), LOY_E_DUPLICATE);
    ev(&t, LOY_EVENT_TICK, "T-early", "2026-03-08T09:59:59+08:00");
    assert_int_equal(apply(&t), LOY_E_OUT_OF_ORDER);
    rig_close(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same_policy),
        cmocka_unit_test(test_thresholds_moved),
        cmocka_unit_test(test_tier_added_and_inserted),
        cmocka_unit_test(test_tier_removed),
        cmocka_unit_test(test_other_tier_removed),
        cmocka_unit_test(test_running_plan_removed),
        cmocka_unit_test(test_plan_carries_over),
        cmocka_unit_test(test_lifecycle_added),
        cmocka_unit_test(test_lifecycle_removed),
        cmocka_unit_test(test_stage_removed),
        cmocka_unit_test(test_limit_count_changed),
        cmocka_unit_test(test_limit_period_changed),
        cmocka_unit_test(test_once_kept_or_reset),
        cmocka_unit_test(test_actions_reordered),
        cmocka_unit_test(test_benefit_limits),
        cmocka_unit_test(test_dropped_entries),
        cmocka_unit_test(test_spend_gift_period_changed),
        cmocka_unit_test(test_surprise_once_changed),
        cmocka_unit_test(test_ids_and_instant_carry_over),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
